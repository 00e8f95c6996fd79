/**
 * A tokenised pretraining corpus: every source's documents, tokenised and joined with EOS into one
 * training stream and one validation stream. The held-out part is the last `validationFraction`
 * of each source's documents (so every domain is validated). Streams are saved as little-endian
 * int32 files so a resumed run reads exactly the tokens the first run trained on.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eosJoinedIds, type DocumentEncoder } from '../data/eos-stream.ts';
import { collectTexts } from '../data/text-source.ts';
import type { NamedSource } from './shipped-data.ts';

export interface TokenCorpus {
  train: Int32Array;
  validation: Int32Array;
  /** Per source: documents and tokens in each part. */
  sources: { name: string; trainDocuments: number; validationDocuments: number; trainTokens: number; validationTokens: number }[];
  /** Identifies what the streams were built from (sources, split, tokenizer settings); set by the caller. */
  key?: string;
}

/** One source's documents, split into the training part and the held-out tail. */
export interface SplitSource {
  name: string;
  train: string[];
  validation: string[];
}

/** Loads every source and holds out the last `validationFraction` of its documents (at least one). */
export async function splitSources(sources: readonly NamedSource[], validationFraction: number): Promise<SplitSource[]> {
  if (!(validationFraction > 0 && validationFraction < 1)) throw new Error(`data: validation fraction must be in (0, 1), got ${validationFraction}`);
  const out: SplitSource[] = [];
  for (const source of sources) {
    const { name, ...spec } = source;
    const docs = await collectTexts(spec);
    if (docs.length < 2) throw new Error(`data source "${name}" (${source.path}) has ${docs.length} document(s); need at least 2 to hold some out`);
    const held = Math.max(1, Math.round(docs.length * validationFraction));
    out.push({ name, train: docs.slice(0, docs.length - held), validation: docs.slice(docs.length - held) });
  }
  return out;
}

/** Tokenises split sources into the two streams, each document followed by EOS. */
export function tokenizeSplit(split: readonly SplitSource[], tokenizer: DocumentEncoder, eosId: number, onSource?: (name: string) => void): TokenCorpus {
  const train: Int32Array[] = [];
  const validation: Int32Array[] = [];
  const stats: TokenCorpus['sources'] = [];
  const encodePart = (part: readonly string[]) => Int32Array.from(eosJoinedIds(part, tokenizer, eosId));
  for (const s of split) {
    onSource?.(s.name);
    const t = encodePart(s.train);
    const v = encodePart(s.validation);
    train.push(t);
    validation.push(v);
    stats.push({ name: s.name, trainDocuments: s.train.length, validationDocuments: s.validation.length, trainTokens: t.length, validationTokens: v.length });
  }
  return { train: concat(train), validation: concat(validation), sources: stats };
}

function concat(parts: readonly Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Saves the streams (train.bin, validation.bin, corpus.json) under `dir`. */
export function saveCorpus(dir: string, corpus: TokenCorpus): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.bin'), new Uint8Array(corpus.train.buffer, corpus.train.byteOffset, corpus.train.byteLength));
  writeFileSync(join(dir, 'validation.bin'), new Uint8Array(corpus.validation.buffer, corpus.validation.byteOffset, corpus.validation.byteLength));
  writeFileSync(join(dir, 'corpus.json'), `${JSON.stringify({ key: corpus.key, sources: corpus.sources, trainTokens: corpus.train.length, validationTokens: corpus.validation.length }, null, 2)}\n`);
}

/** Reads a corpus saved by `saveCorpus`, or undefined when `dir` has none. */
export function loadCorpus(dir: string): TokenCorpus | undefined {
  if (!existsSync(join(dir, 'corpus.json'))) return undefined;
  const read = (f: string) => {
    const b = readFileSync(join(dir, f));
    const copy = new Uint8Array(b.byteLength);
    copy.set(b);
    return new Int32Array(copy.buffer);
  };
  const meta = JSON.parse(readFileSync(join(dir, 'corpus.json'), 'utf8'));
  return { train: read('train.bin'), validation: read('validation.bin'), sources: meta.sources, key: meta.key };
}
