/** Small numerics on one row of logits, in float64. */
import type { TypedArray } from '../tensor/tensor.ts';

/** log Σ exp(x_i) of row `row[offset … offset+n)`. */
export function logSumExp(row: TypedArray, offset: number, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (row[offset + i] > max) max = row[offset + i];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(row[offset + i] - max);
  return max + Math.log(sum);
}

/** log p(token) = logit_token − logsumexp(logits). */
export function tokenLogProb(logits: TypedArray, offset: number, vocab: number, token: number): number {
  return logits[offset + token] - logSumExp(logits, offset, vocab);
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
