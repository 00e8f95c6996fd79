/**
 * Small numerics on rows of logits, in float64: log-sum-exp (for log p(token) = x_token − lse),
 * ranks and argmax. The log-sum-exp is max + log Σ e^(x − max) with fast-exp.ts's fastExp (relative
 * error < 4·10⁻¹¹) and the sum in 8 lanes (element j to lane j mod 8), so it runs as native/kernels.c
 * lk_logit_rows_f32 on float32 logits; the TypeScript loops below are the fallback and the oracle.
 */
import type { TypedArray } from '../tensor/tensor.ts';
import { fastExp } from '../tensor/fast-exp.ts';
import { kernelThreads, nativeKernels } from '../tensor/native-kernels.ts';

/** Per-row results of {@link logitRows}. */
export interface LogitRows {
  /** log Σ_j exp(x_j) of each row. */
  logSumExp: Float64Array;
  /** First index of each row's largest logit. */
  argmax: Int32Array;
  /** With targets: the number of logits strictly larger than the target's (0 = argmax). */
  rank?: Int32Array;
}

let scratch = new Float64Array(0);

/**
 * Log-sum-exp, argmax and (with `targets`) the target's rank of `count` rows of `vocab` logits:
 * row r starts at at[r]·vocab (at null: r·vocab). One native call for all rows.
 */
export function logitRows(logits: TypedArray, vocab: number, at: Int32Array | null, count: number, targets?: Int32Array): LogitRows {
  const out: LogitRows = { logSumExp: new Float64Array(count), argmax: new Int32Array(count), ...(targets ? { rank: new Int32Array(count) } : {}) };
  const rowCount = logits.length / vocab;
  for (let r = 0; r < count; r++) {
    const row = at ? at[r] : r;
    if (!(row >= 0 && row < rowCount)) throw new Error(`logitRows: row ${row} is outside the ${rowCount} rows of logits`);
    if (targets && !(targets[r] >= 0 && targets[r] < vocab)) throw new Error(`logitRows: target ${targets[r]} is outside the vocabulary of ${vocab}`);
  }
  const native = nativeKernels();
  if (native && logits instanceof Float32Array && count > 0) {
    const threads = kernelThreads();
    if (scratch.length < vocab * threads) scratch = new Float64Array(vocab * threads);
    native.logitRows(logits, at, count, vocab, targets ?? null, out.logSumExp, out.argmax, out.rank ?? null, scratch, threads);
    return out;
  }
  for (let r = 0; r < count; r++) {
    const offset = (at ? at[r] : r) * vocab;
    out.logSumExp[r] = logSumExpTypeScript(logits, offset, vocab);
    out.argmax[r] = argmax(logits, offset, vocab);
    if (targets) out.rank![r] = tokenRank(logits, offset, vocab, targets[r]);
  }
  return out;
}

/** log Σ exp(x_i) of row `row[offset … offset+n)` in TypeScript: lk_logit_rows_f32's sum order. */
export function logSumExpTypeScript(row: TypedArray, offset: number, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (row[offset + i] > max) max = row[offset + i];
  if (max === -Infinity) return -Infinity;
  let l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const o = offset + j;
    l0 += fastExp(row[o] - max); l1 += fastExp(row[o + 1] - max); l2 += fastExp(row[o + 2] - max); l3 += fastExp(row[o + 3] - max);
    l4 += fastExp(row[o + 4] - max); l5 += fastExp(row[o + 5] - max); l6 += fastExp(row[o + 6] - max); l7 += fastExp(row[o + 7] - max);
  }
  let sum = ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7));
  for (; j < n; j++) sum += fastExp(row[offset + j] - max);
  return max + Math.log(sum);
}

/**
 * Rank of `token` among the logits: the number of tokens with a strictly larger logit (0 = argmax).
 * Ties count in the token's favour, so "in the top k" is `rank < k`.
 */
export function tokenRank(logits: TypedArray, offset: number, vocab: number, token: number): number {
  const v = logits[offset + token];
  let rank = 0;
  for (let i = 0; i < vocab; i++) if (logits[offset + i] > v) rank++;
  return rank;
}

/** Ids of the k largest logits, best first (ties: lower id first). */
export function topKIds(logits: TypedArray, offset: number, vocab: number, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < vocab; i++) {
    const v = logits[offset + i];
    if (best.length === k && v <= logits[offset + best[k - 1]]) continue;
    let pos = best.length;
    while (pos > 0 && logits[offset + best[pos - 1]] < v) pos--;
    best.splice(pos, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

/** Index of the largest logit (lowest id on ties). */
export function argmax(logits: TypedArray, offset: number, vocab: number): number {
  let best = 0;
  for (let i = 1; i < vocab; i++) if (logits[offset + i] > logits[offset + best]) best = i;
  return best;
}
