/**
 * Reading evaluation records from JSON (one array) and JSON Lines files, with one-line errors that
 * name the file (and the line, for JSONL).
 */
import { readFile } from 'node:fs/promises';

export type JsonRecord = Record<string, unknown>;

/** A JSON file holding one array of objects. */
export async function readJsonArrayFile(path: string): Promise<JsonRecord[]> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data)) throw new Error(`${path}: expected a JSON array of records`);
  data.forEach((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new Error(`${path}[${i}]: expected an object`);
  });
  return data as JsonRecord[];
}

/** A JSON Lines file: one object per non-empty line. */
export async function readJsonLinesFile(path: string): Promise<JsonRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as Error).message})`);
  }
  const records: JsonRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch (err) {
      throw new Error(`${path}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new Error(`${path}:${i + 1}: expected one JSON object per line (JSON Lines)`);
    records.push(r as JsonRecord);
  });
  return records;
}

/** A string field, or one clear error naming the record. */
export function stringField(r: JsonRecord, name: string, where: string): string {
  const v = r[name];
  if (typeof v !== 'string') throw new Error(`${where}: field "${name}" missing or not a string`);
  return v;
}
