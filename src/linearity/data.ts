/**
 * The probe set of a linearity run: token id sequences from texts (random character slices, the
 * paper's protocol), from a file of token ids, or drawn at random (for models without a tokenizer).
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { sampleCharSlices } from '../data/slices.ts';
import { collectTexts } from '../data/text-source.ts';
import { tokenizeTexts } from '../data/calibration.ts';
import type { Tokenizer } from '../data/types.ts';
import { contentFingerprint } from '../io/fingerprint.ts';
import { Rng } from '../tensor/random.ts';
import type { DataSpec, SamplingOptions } from './options.ts';
import type { DataInfo } from './result.ts';

/** The probe set before tokenization: texts (model-independent) or ready ids. */
export interface ProbeSource {
  info: DataInfo;
  /** Character slices, for `text` data. */
  texts?: string[];
  /** Id sequences, for `ids` data. */
  ids?: number[][];
}

/** Id sequences of one model: ready to batch. */
export interface ProbeSequences {
  sequences: number[][];
  /** The slice each sequence came from (text data), for per-token context. */
  texts?: string[];
}

/** True when a .json/.jsonl file holds token id arrays rather than texts (looks at the first record). */
export async function holdsTokenIds(path: string): Promise<boolean> {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') {
    const text = readFileSync(path, 'utf8').trimStart().replace(/^\uFEFF/, '');
    if (!text.startsWith('[')) return false;
    return /^\[\s*\[\s*(-?\d|\])/.test(text) || /^\[\s*\{\s*"(ids|input_ids)"\s*:/.test(text);
  }
  if (ext === '.jsonl' || ext === '.ndjson') {
    const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
    try {
      for await (const line of rl) {
        if (line.trim() === '') continue;
        try {
          return idsOf(JSON.parse(line.replace(/^\uFEFF/, ''))) !== undefined;
        } catch {
          return false;
        }
      }
    } finally {
      rl.close();
    }
  }
  return false;
}

/** The id array of a record: an array of numbers, or an object with `ids` / `input_ids`. */
function idsOf(record: unknown): unknown[] | undefined {
  if (Array.isArray(record)) return record.every((v) => typeof v === 'number') ? record : undefined;
  if (record && typeof record === 'object') {
    const r = record as Record<string, unknown>;
    const v = r.ids ?? r.input_ids;
    if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v;
  }
  return undefined;
}

/**
 * Reads token id sequences: a JSON array of id arrays (or of {ids | input_ids} objects), or JSONL
 * with one such record per line. Ids must be non-negative integers; empty sequences are dropped.
 */
export function readTokenIds(path: string): number[][] {
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const ext = extname(path).toLowerCase();
  const records: { record: unknown; where: string }[] = [];
  if (ext === '.json') {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new Error(`${path}: invalid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(data)) throw new Error(`${path}: expected a JSON array of token id arrays`);
    data.forEach((record, i) => records.push({ record, where: `${path}[${i}]` }));
  } else {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        records.push({ record: JSON.parse(line), where: `${path}:${i + 1}` });
      } catch (err) {
        throw new Error(`${path}:${i + 1}: invalid JSON (${(err as Error).message})`);
      }
    });
  }
  const out: number[][] = [];
  for (const { record, where } of records) {
    const ids = idsOf(record);
    if (!ids) throw new Error(`${where}: expected an array of token ids (or an object with "ids" / "input_ids")`);
    for (const id of ids) {
      if (!Number.isInteger(id) || (id as number) < 0) throw new Error(`${where}: token id ${String(id)} is not a non-negative integer`);
    }
    if (ids.length > 0) out.push(ids as number[]);
  }
  if (out.length === 0) throw new Error(`${path}: no token id sequences found`);
  return out;
}

/** `count` sequences of `length` ids uniform over [0, vocab), drawn in order from `new Rng(seed)`. */
export function randomTokenIds(count: number, length: number, vocab: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Array.from({ length }, () => rng.int(vocab)));
}

/** Loads the model-independent part of the probe set (texts are sliced once for every model). */
export async function loadProbeSource(spec: DataSpec, sampling: SamplingOptions): Promise<ProbeSource> {
  if (spec.kind === 'random') {
    return {
      info: {
        kind: 'random',
        description: `${sampling.samples} sequences of ${spec.length} uniform random token ids (seed ${sampling.seed})`,
        identity: { random: spec.length, samples: sampling.samples, seed: sampling.seed },
      },
    };
  }
  if (!existsSync(spec.path)) throw new Error(`--data: ${spec.path} does not exist`);
  if (spec.kind === 'ids') {
    const ids = readTokenIds(spec.path);
    return {
      ids,
      info: { kind: 'ids', description: `${ids.length} token id sequences from ${basename(spec.path)}`, identity: { path: spec.path, content: contentFingerprint(spec.path).hash } },
    };
  }
  const docs = await collectTexts(spec.path, { field: spec.field, column: spec.column, split: spec.split });
  if (docs.length === 0) throw new Error(`--data: ${spec.path} holds no text`);
  const texts = sampleCharSlices(docs, { count: sampling.samples, length: sampling.chars, seed: sampling.seed });
  return {
    texts,
    info: {
      kind: 'text',
      description: `${sampling.samples} random slices of ${sampling.chars} characters (seed ${sampling.seed}) of ${basename(spec.path)}`,
      identity: { source: { path: spec.path, content: contentFingerprint(spec.path).hash }, field: spec.field, column: spec.column, split: spec.split },
    },
  };
}

/**
 * The id sequences one model sees: text slices tokenized with its tokenizer (BOS prepended when
 * asked and the tokenizer has one), ids as given, or random ids over its vocabulary; all truncated
 * to `maxTokens`.
 */
export function probeSequences(
  source: ProbeSource,
  spec: DataSpec,
  sampling: SamplingOptions,
  model: { vocabSize: number; tokenizer?: Tokenizer; maxTokens: number },
): ProbeSequences {
  const cut = (seqs: number[][]) => seqs.map((s) => (s.length > model.maxTokens ? s.slice(0, model.maxTokens) : s));
  if (spec.kind === 'random') {
    return { sequences: randomTokenIds(sampling.samples, Math.min(spec.length, model.maxTokens), model.vocabSize, sampling.seed) };
  }
  if (source.ids) {
    const sequences = cut(source.ids);
    const bad = sequences.flat().find((id) => id >= model.vocabSize);
    if (bad !== undefined) throw new Error(`--data: token id ${bad} is outside the model's vocabulary (${model.vocabSize} tokens)`);
    return { sequences };
  }
  const tokenizer = model.tokenizer;
  if (!tokenizer) {
    throw new Error('the model has no tokenizer (tokenizer.json, tokenizer.model, vocab.json + merges.txt or tok*.bin), so --data texts cannot be tokenized: pass token ids (a JSON/JSONL of id arrays) or --random-tokens N');
  }
  const prependBos = sampling.bos && tokenizer.bosId !== undefined;
  const tokenized = tokenizeTexts(source.texts!, tokenizer, { prependBos, maxLength: model.maxTokens });
  return { sequences: tokenized.ids, texts: tokenized.sources.map((i) => source.texts![i]) };
}
