/**
 * Documents (plain strings) from the places researchers keep text: a text file, a folder of files,
 * JSONL, a JSON array, or a Hugging Face dataset exported as parquet.
 *
 * Everything is an async generator, so a large corpus streams through instead of sitting in memory
 * (JSON arrays are the exception: the format has to be parsed whole). Text, JSON and JSONL files
 * that are not UTF-8 text (binary, archives, UTF-16) are refused, naming the file (text-sniff.ts).
 */
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import type { Compressors } from 'hyparquet';
import { readParquetTexts } from './parquet-texts.ts';
import { assertTextFile } from './text-sniff.ts';

export type TextFormat = 'text' | 'jsonl' | 'json' | 'parquet';

export interface LoadTextsOptions {
  /** Force a format instead of inferring it from the extension (folders are always inspected). */
  format?: TextFormat | 'auto';
  /** How a text file (.txt/.md) becomes documents: split on blank lines (default), whole file, or one per line. */
  documents?: 'paragraphs' | 'whole' | 'lines';
  /** Field of JSONL/JSON objects holding the text (default "text"). String items are taken as they are. */
  field?: string;
  /** Parquet column holding the text (default "text"). */
  column?: string;
  /** For parquet folders: keep only files of this split ("train" matches train-00000-of-00001.parquet or train/…). */
  split?: string;
  /** Stop after this many documents. */
  limit?: number;
  /** Decompressors for parquet codecs other than snappy (e.g. from hyparquet-compressors). */
  compressors?: Compressors;
}

/** A path plus its options, as one value (what a config file or CLI flag set produces). */
export interface TextSourceSpec extends LoadTextsOptions {
  path: string;
}

const FOLDER_EXTENSIONS = new Set(['.txt', '.md', '.jsonl']);

/**
 * Stream the documents of a source. Empty documents (only whitespace) are skipped.
 *
 * - `*.txt`, `*.md`: split per `documents` (default: on blank lines; lines inside a paragraph keep their `\n`).
 * - `*.jsonl`: one record per line; a string record, or `record[field]`.
 * - `*.json`: an array of strings or of objects with `field`.
 * - `*.parquet`: the `column` of every row.
 * - a folder: if it holds parquet files (any depth), the parquet dataset (filtered by `split`);
 *   otherwise every .txt/.md/.jsonl file inside (any depth), sorted by relative path.
 */
export async function* loadTexts(spec: string | TextSourceSpec, opts: LoadTextsOptions = {}): AsyncGenerator<string> {
  const { path, ...specOpts } = typeof spec === 'string' ? { path: spec } : spec;
  const options: LoadTextsOptions = { ...specOpts, ...opts };
  const limit = options.limit ?? Infinity;
  if (limit <= 0) return;
  let count = 0;
  for await (const doc of sourceDocuments(path, options)) {
    if (doc.trim() === '') continue;
    yield doc;
    if (++count >= limit) return;
  }
}

/** All documents of a source in an array (for small corpora and tests). */
export async function collectTexts(spec: string | TextSourceSpec, opts: LoadTextsOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const doc of loadTexts(spec, opts)) out.push(doc);
  return out;
}

async function* sourceDocuments(path: string, opts: LoadTextsOptions): AsyncGenerator<string> {
  const info = await stat(path).catch(() => {
    throw new Error(`text source not found: ${path}`);
  });
  if (info.isDirectory()) {
    yield* folderDocuments(path, opts);
    return;
  }
  yield* fileDocuments(path, formatOf(path, opts.format), opts);
}

function formatOf(path: string, forced: LoadTextsOptions['format']): TextFormat {
  if (forced && forced !== 'auto') return forced;
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  if (ext === '.parquet') return 'parquet';
  return 'text';
}

async function* fileDocuments(path: string, format: TextFormat, opts: LoadTextsOptions): AsyncGenerator<string> {
  if (format !== 'parquet') await assertTextFile(path);
  switch (format) {
    case 'text':
      yield* textFileDocuments(path, opts.documents ?? 'paragraphs');
      return;
    case 'jsonl':
      yield* jsonlDocuments(path, opts.field ?? 'text');
      return;
    case 'json':
      yield* jsonArrayDocuments(path, opts.field ?? 'text');
      return;
    case 'parquet':
      yield* readParquetTexts(path, { column: opts.column, compressors: opts.compressors });
      return;
  }
}

async function* folderDocuments(dir: string, opts: LoadTextsOptions): AsyncGenerator<string> {
  const files = await listFiles(dir);
  const parquet = files.filter((f) => extname(f).toLowerCase() === '.parquet');
  if (parquet.length > 0 && (opts.format === undefined || opts.format === 'auto' || opts.format === 'parquet')) {
    const chosen = opts.split ? parquet.filter((f) => inSplit(relative(dir, f), opts.split!)) : parquet;
    if (chosen.length === 0) {
      throw new Error(`${dir}: no parquet files of split "${opts.split}" among ${parquet.length} parquet files`);
    }
    for (const file of chosen) yield* readParquetTexts(file, { column: opts.column, compressors: opts.compressors });
    return;
  }
  const texts = files.filter((f) => FOLDER_EXTENSIONS.has(extname(f).toLowerCase()));
  if (texts.length === 0) throw new Error(`${dir}: no .txt, .md, .jsonl or .parquet files inside`);
  for (const file of texts) yield* fileDocuments(file, formatOf(file, undefined), opts);
}

/** A parquet file belongs to a split when a folder on its path, or its name's first dash-part, is the split. */
function inSplit(relPath: string, split: string): boolean {
  const parts = relPath.split(sep);
  const name = parts.pop()!;
  return parts.includes(split) || name.split(/[-.]/)[0] === split;
}

/** Every file under `dir`, recursively, sorted by path (code-unit order, so results do not depend on locale). */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name));
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function* lines(path: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let first = true;
  for await (const line of rl) {
    yield first ? stripBom(line) : line;
    first = false;
  }
}

async function* textFileDocuments(path: string, mode: 'paragraphs' | 'whole' | 'lines'): AsyncGenerator<string> {
  if (mode === 'whole') {
    yield stripBom(await readFile(path, 'utf8'));
    return;
  }
  if (mode === 'lines') {
    yield* lines(path);
    return;
  }
  let paragraph: string[] = [];
  for await (const line of lines(path)) {
    if (line.trim() === '') {
      if (paragraph.length > 0) yield paragraph.join('\n');
      paragraph = [];
    } else {
      paragraph.push(line);
    }
  }
  if (paragraph.length > 0) yield paragraph.join('\n');
}

async function* jsonlDocuments(path: string, field: string): AsyncGenerator<string> {
  let lineNo = 0;
  for await (const line of lines(path)) {
    lineNo++;
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      throw new Error(`${path}:${lineNo}: invalid JSON (${(err as Error).message})`);
    }
    yield textOf(record, field, `${path}:${lineNo}`);
  }
}

async function* jsonArrayDocuments(path: string, field: string): AsyncGenerator<string> {
  let data: unknown;
  try {
    data = JSON.parse(stripBom(await readFile(path, 'utf8')));
  } catch (err) {
    throw new Error(`${path}: invalid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data)) throw new Error(`${path}: expected a JSON array of strings or objects, found ${typeof data}`);
  for (let i = 0; i < data.length; i++) yield textOf(data[i], field, `${path}[${i}]`);
}

function textOf(record: unknown, field: string, where: string): string {
  if (typeof record === 'string') return record;
  if (record && typeof record === 'object' && !Array.isArray(record)) {
    const value = (record as Record<string, unknown>)[field];
    if (typeof value === 'string') return value;
    const keys = Object.keys(record).map((k) => `"${k}"`).join(', ');
    throw new Error(
      value === undefined
        ? `${where}: no field "${field}" (fields: ${keys}); choose one with --field`
        : `${where}: field "${field}" is not a string`,
    );
  }
  throw new Error(`${where}: expected a string or an object, found ${Array.isArray(record) ? 'an array' : typeof record}`);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
