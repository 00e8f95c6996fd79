/**
 * Rows of a hidden-state tensor at chosen (sequence, position) pairs: what the final norm and the LM
 * head need when only some positions' logits are wanted (the last position for generation, the
 * continuation positions for log-likelihood scoring). Both act on each token separately, so the
 * logits equal the full forward's rows at those positions up to the GEMM's rounding.
 */
import { Tensor, allocate } from '../tensor/tensor.ts';

/** [1, N, D]: row n is hidden[b, t] for the n-th pair [b, t] of `at`. */
export function gatherPositions(hidden: Tensor, at: readonly (readonly [number, number])[]): Tensor {
  const [B, T, D] = hidden.shape;
  const rows = new Tensor(allocate(hidden.dtype, at.length * D), [1, at.length, D]);
  at.forEach(([b, t], i) => {
    if (!(b >= 0 && b < B && t >= 0 && t < T)) throw new Error(`logits requested at (${b}, ${t}), outside the [${B}, ${T}] batch`);
    rows.data.set(hidden.data.subarray((b * T + t) * D, (b * T + t + 1) * D), i * D);
  });
  return rows;
}
