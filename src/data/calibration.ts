/**
 * Token batches for analysis runs (linearity probes, activation statistics, calibration):
 * texts → token id sequences (optional BOS, truncation) → padded batches with attention masks.
 */
import type { Tokenizer } from './types.ts';

export interface TokenizeOptions {
  /** Put `tokenizer.bosId` in front of every sequence (default false). The tokenizer's own special tokens are never added. */
  prependBos?: boolean;
  /** Keep at most this many tokens per sequence, BOS included (the beginning is kept). */
  maxLength?: number;
}

export interface TokenizedTexts {
  /** One id sequence per non-empty text. */
  ids: number[][];
  /** ids[i].length. */
  lengths: number[];
  /** Index of the input text each sequence came from (texts that encode to nothing are left out). */
  sources: number[];
}

/** Encode texts as id sequences: encode(text, {addSpecialTokens: false}), then [BOS] + ids, then truncate. */
export function tokenizeTexts(texts: Iterable<string>, tokenizer: Tokenizer, opts: TokenizeOptions = {}): TokenizedTexts {
  const { prependBos = false, maxLength } = opts;
  if (prependBos && tokenizer.bosId === undefined) throw new Error('tokenizeTexts: prependBos is set but the tokenizer has no bosId');
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 1)) {
    throw new Error(`tokenizeTexts: maxLength must be a positive integer, got ${maxLength}`);
  }
  const out: TokenizedTexts = { ids: [], lengths: [], sources: [] };
  let index = 0;
  for (const text of texts) {
    const encoded = tokenizer.encode(text, { addSpecialTokens: false });
    if (encoded.length > 0) {
      let seq = prependBos ? [tokenizer.bosId!, ...encoded] : encoded;
      if (maxLength !== undefined && seq.length > maxLength) seq = seq.slice(0, maxLength);
      out.ids.push(seq);
      out.lengths.push(seq.length);
      out.sources.push(index);
    }
    index++;
  }
  return out;
}

/** A rectangular batch of B sequences padded to the longest one (T tokens). */
export interface TokenBatch {
  /** [B][T] ids, pads filled with `padId`. */
  ids: number[][];
  /** [B][T]: 1 for real tokens, 0 for pads. */
  attentionMask: number[][];
  /** [B][T]: cumsum(mask) − 1 on real tokens, 1 on pads (what HF generate() passes). */
  positionIds: number[][];
  /** Real length of each row. */
  lengths: number[];
  /** Index of each row in the sequence list that was batched. */
  indices: number[];
  padding: 'left' | 'right';
}

export interface BatchOptions {
  /** At most this many sequences per batch (B ≥ 1). */
  batchSize: number;
  /** Pads after the tokens ('right', default) or before them ('left', for generation/last-token reads). */
  padding?: 'left' | 'right';
  /** Id written into pad slots (default 0; masked out either way). */
  padId?: number;
  /** Group sequences of similar length to waste less padding (default false: input order). */
  sortByLength?: boolean;
}

/** Group sequences into batches of at most `batchSize`, padded to the longest row of each batch. */
export function makeBatches(sequences: readonly number[][], opts: BatchOptions): TokenBatch[] {
  const { batchSize, padding = 'right', padId = 0, sortByLength = false } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`makeBatches: batchSize must be a positive integer, got ${batchSize}`);
  if (padding !== 'left' && padding !== 'right') throw new Error(`makeBatches: padding must be 'left' or 'right', got '${padding as string}'`);
  const order = sequences.map((_, i) => i);
  if (sortByLength) order.sort((a, b) => sequences[b].length - sequences[a].length || a - b);

  const batches: TokenBatch[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    const width = Math.max(...indices.map((i) => sequences[i].length));
    const batch: TokenBatch = { ids: [], attentionMask: [], positionIds: [], lengths: [], indices, padding };
    for (const i of indices) {
      const seq = sequences[i];
      const pad = width - seq.length;
      const row = new Array<number>(width).fill(padId);
      const mask = new Array<number>(width).fill(0);
      const positions = new Array<number>(width).fill(1);
      const offset = padding === 'left' ? pad : 0;
      for (let t = 0; t < seq.length; t++) {
        row[offset + t] = seq[t];
        mask[offset + t] = 1;
        positions[offset + t] = t;
      }
      batch.ids.push(row);
      batch.attentionMask.push(mask);
      batch.positionIds.push(positions);
      batch.lengths.push(seq.length);
    }
    batches.push(batch);
  }
  return batches;
}

export interface CalibrationOptions extends TokenizeOptions, BatchOptions {}

export interface CalibrationSet extends TokenizedTexts {
  batches: TokenBatch[];
}

/** Texts → token sequences → padded batches, in one call. */
export function buildCalibrationBatches(texts: Iterable<string>, tokenizer: Tokenizer, opts: CalibrationOptions): CalibrationSet {
  const tokenized = tokenizeTexts(texts, tokenizer, opts);
  return { ...tokenized, batches: makeBatches(tokenized.ids, opts) };
}
