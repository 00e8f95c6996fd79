/**
 * Reading the shipped official dataset files (../shared/data/datasets, see its SOURCES.md) into
 * documents with the Hugging Face field layout the harness's templates expect.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Absolute path of a dataset file, with one clear error when it is absent. */
export function datasetFile(datasetsDir: string, relative: string): string {
  const path = join(datasetsDir, relative);
  if (!existsSync(path)) throw new Error(`dataset file ${path} not found (--data-dir must be the datasets folder described in SOURCES.md)`);
  return path;
}

/** One JSON value per non-empty line. */
export function readJsonl(datasetsDir: string, relative: string): Record<string, unknown>[] {
  const path = datasetFile(datasetsDir, relative);
  const out: Record<string, unknown>[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line));
    } catch (err) {
      throw new Error(`${path}:${i + 1}: not JSON: ${(err as Error).message}`);
    }
  });
  return out;
}

/** A whole-file JSON value. */
export function readJson(datasetsDir: string, relative: string): unknown {
  const path = datasetFile(datasetsDir, relative);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not JSON: ${(err as Error).message}`);
  }
}

/** Non-empty lines of a text file. */
export function readLines(datasetsDir: string, relative: string): string[] {
  return readFileSync(datasetFile(datasetsDir, relative), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** Missing few-shot source: the harness's training split is not among the shipped files. */
export function missingTrain(task: string, what: string): { missing: string } {
  return { missing: `${task}: the harness draws few-shot examples from the ${what} split, which is not shipped in the datasets folder; only --num-fewshot 0 is exact` };
}
