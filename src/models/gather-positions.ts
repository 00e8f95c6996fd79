/**
 * Rows of a hidden-state tensor at chosen (sequence, position) pairs: what the final norm and the LM
 * head need when only some positions' logits are wanted (the last position for generation, the
 * continuation positions for log-likelihood scoring). Both act on each token separately, so the
 * logits equal the full forward's rows at those positions up to the GEMM's rounding.
 */
import { Tensor, allocate } from '../tensor/tensor.ts';

/**
 * [1, N, D]: row n is the state at the n-th pair [b, t] of `at`, where `hidden` [B, T, D] holds
 * positions from…from + T − 1 of each sequence (from > 0 after a last block run with queryFrom).
 */
export function gatherPositions(hidden: Tensor, at: readonly (readonly [number, number])[], from = 0): Tensor {
  const [B, T, D] = hidden.shape;
  const rows = new Tensor(allocate(hidden.dtype, at.length * D), [1, at.length, D]);
  at.forEach(([b, position], i) => {
    const t = position - from;
    if (!(b >= 0 && b < B && t >= 0 && t < T)) throw new Error(`logits requested at (${b}, ${position}), outside the [${B}, ${from + T}] batch${from ? ` (positions from ${from} kept)` : ''}`);
    rows.data.set(hidden.data.subarray((b * T + t) * D, (b * T + t + 1) * D), i * D);
  });
  return rows;
}

/** The first position of `at` (where a last block may start its queries), 0 when empty. */
export function firstPosition(at: readonly (readonly [number, number])[]): number {
  // a loop, not Math.min(...): a long context's pairs would overflow the argument list
  let first = at.length ? Infinity : 0;
  for (const [, t] of at) if (t < first) first = t;
  return first;
}
