/**
 * Where the texts shipped beside the checkout live (`../shared/data/datasets`, or
 * `$LINSCOPE_SHARED_DATA/datasets`), and the default pretraining mix over them.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TextSourceSpec } from '../data/text-source.ts';

/** `shared/data` beside the repository (override with LINSCOPE_SHARED_DATA). */
export function sharedDataDir(): string {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return process.env.LINSCOPE_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');
}

export function datasetsDir(): string {
  return join(sharedDataDir(), 'datasets');
}

/** The benchmark datasets folder (eval, prune --eval-tasks, laser search --task): $LINSCOPE_DATASETS, else {@link datasetsDir}. */
export function benchmarkDatasetsDir(): string {
  return process.env.LINSCOPE_DATASETS ?? datasetsDir();
}

/** A named text source of the pretraining mix. */
export interface NamedSource extends TextSourceSpec {
  name: string;
}

/** `--data` paths as named sources (named by their file or folder name); undefined for none (the shipped mix). */
export function namedSources(paths: readonly string[]): NamedSource[] | undefined {
  return paths.length > 0 ? paths.map((p) => ({ name: basename(p), path: p })) : undefined;
}

/** TinyStories subset, Tiny Shakespeare, War and Peace and WikiText-2 (valid + test), split on blank lines. */
export function defaultPretrainSources(): NamedSource[] {
  const d = datasetsDir();
  const sources: NamedSource[] = [
    { name: 'tinystories', path: join(d, 'tinystories-valid-subset', 'tinystories_val.txt') },
    { name: 'shakespeare', path: join(d, 'tinyshakespeare', 'input.txt') },
    { name: 'war-and-peace', path: join(d, 'war-and-peace', 'war-and-peace.txt') },
    { name: 'wikitext-2', path: join(d, 'wikitext-2') },
  ];
  const missing = sources.filter((s) => !existsSync(s.path));
  if (missing.length > 0) {
    throw new Error(`the shipped texts are missing (${missing.map((m) => m.path).join(', ')}); set LINSCOPE_SHARED_DATA or pass data sources in the config`);
  }
  return sources;
}
