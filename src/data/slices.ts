/**
 * Pieces of a corpus for analysis and evaluation:
 *
 * - `sampleCharSlices`: the linearity paper's probe set, N random character slices of length L
 *   (the paper uses N = 128, L = 512, seed 0).
 * - `chunkTokens`: contiguous non-overlapping token chunks (perplexity on fixed-length blocks).
 * - `slidingWindows`: the Hugging Face strided-perplexity protocol, with the positions each window scores.
 */
import { Rng } from '../tensor/random.ts';

export interface CharSliceOptions {
  /** Number of slices N (default 128). */
  count?: number;
  /** Slice length L in characters (Unicode code points; default 512). */
  length?: number;
  /** Seed of the start-position draws (default 0). */
  seed?: number;
  /** Joiner when the corpus is given as documents (default "\n\n", the blank line they were split on). */
  separator?: string;
}

/**
 * N slices of L consecutive characters at independent uniform random starts,
 * start_i ~ U{0, …, |corpus| − L}, drawn in order from `new Rng(seed)`.
 *
 * Characters are Unicode code points, so a slice never cuts a surrogate pair. Slices may overlap
 * (starts are drawn with replacement), exactly as independent draws do.
 */
export function sampleCharSlices(corpus: string | readonly string[], opts: CharSliceOptions = {}): string[] {
  const count = opts.count ?? 128;
  const length = opts.length ?? 512;
  const text = typeof corpus === 'string' ? corpus : corpus.join(opts.separator ?? '\n\n');
  if (!Number.isInteger(count) || count < 0) throw new Error(`sampleCharSlices: count must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(length) || length < 1) throw new Error(`sampleCharSlices: length must be a positive integer, got ${length}`);

  const hasSurrogates = /[\uD800-\uDFFF]/.test(text);
  const chars = hasSurrogates ? Array.from(text) : null;
  const n = chars ? chars.length : text.length;
  if (n < length) throw new Error(`sampleCharSlices: corpus has ${n} characters, fewer than the slice length ${length}`);

  const rng = new Rng(opts.seed ?? 0);
  const slices: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = rng.int(n - length + 1);
    slices.push(chars ? chars.slice(start, start + length).join('') : text.slice(start, start + length));
  }
  return slices;
}

/**
 * Split a token stream into consecutive non-overlapping chunks of `length` tokens.
 * The final partial chunk is dropped unless `keepLast` is set.
 */
export function chunkTokens(ids: ArrayLike<number>, length: number, opts: { keepLast?: boolean } = {}): number[][] {
  if (!Number.isInteger(length) || length < 1) throw new Error(`chunkTokens: length must be a positive integer, got ${length}`);
  const chunks: number[][] = [];
  for (let begin = 0; begin < ids.length; begin += length) {
    const end = Math.min(begin + length, ids.length);
    if (end - begin < length && !opts.keepLast) break;
    chunks.push(Array.from({ length: end - begin }, (_, i) => ids[begin + i]));
  }
  return chunks;
}

/** One window of strided perplexity evaluation. */
export interface ScoredWindow {
  /** Window covers tokens [begin, end) of the stream. */
  begin: number;
  end: number;
  /** The window's tokens (ids[begin..end)). */
  ids: number[];
  /**
   * First index within the window whose token is a scored target. The model's logits at window
   * positions scoreFrom−1 … len−2 predict tokens scoreFrom … len−1; earlier tokens are context only.
   */
  scoreFrom: number;
  /** Number of tokens scored in this window (len − scoreFrom). */
  scoredCount: number;
}

/**
 * Sliding windows for perplexity with a stride, the Hugging Face protocol
 * ("Perplexity of fixed-length models"):
 *
 *     for begin in 0, stride, 2·stride, …:
 *       end = min(begin + maxLength, N);  trg_len = end − prev_end
 *       score only the last trg_len labels of ids[begin:end];  prev_end = end
 *       stop once end = N
 *
 * With stride < maxLength every token after the first is scored exactly once (Σ scoredCount =
 * N − 1), each with at least maxLength − stride tokens of context. The first token of a window
 * has no prediction, so `scoreFrom` ≥ 1 (HF counts it in trg_len but the label shift drops it);
 * hence stride = maxLength (non-overlapping windows) leaves each window's first token unscored.
 */
export function slidingWindows(ids: ArrayLike<number>, opts: { maxLength: number; stride: number }): ScoredWindow[] {
  const { maxLength, stride } = opts;
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error(`slidingWindows: maxLength must be an integer ≥ 2, got ${maxLength}`);
  if (!Number.isInteger(stride) || stride < 1 || stride > maxLength) {
    throw new Error(`slidingWindows: stride must be an integer in 1..maxLength (${maxLength}), got ${stride}`);
  }
  const n = ids.length;
  const windows: ScoredWindow[] = [];
  let prevEnd = 0;
  for (let begin = 0; begin < n; begin += stride) {
    const end = Math.min(begin + maxLength, n);
    const len = end - begin;
    const targetLength = end - prevEnd;
    const scoreFrom = Math.max(1, len - targetLength);
    windows.push({
      begin,
      end,
      ids: Array.from({ length: len }, (_, i) => ids[begin + i]),
      scoreFrom,
      scoredCount: Math.max(0, len - scoreFrom),
    });
    prevEnd = end;
    if (end === n) break;
  }
  return windows;
}
