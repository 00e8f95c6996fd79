/**
 * Row permutations between the two RoPE conventions of Llama-style q/k projections.
 *
 * RoPE rotates pairs of query/key coordinates within each head (head size d, frequency index
 * i = 0 … d/2-1):
 *   - interleaved (Meta's original code, llama2.c): pair i is coordinates (2i, 2i+1);
 *   - rotate-half (Hugging Face Llama):             pair i is coordinates (i, i + d/2).
 * Both use the same frequency θ^(-2i/d) for pair i. So if the rows of W_q and W_k are reordered per
 * head so that row 2i moves to i and row 2i+1 moves to i + d/2, the HF forward on the permuted
 * weights computes exactly what the interleaved forward computes on the original ones: every
 * q·k dot product is a sum over the same coordinate pairs, only in another order. This is the
 * permutation Hugging Face's Llama conversion script applies to Meta checkpoints.
 */
import { Tensor } from '../tensor/tensor.ts';

function permuteRows(w: Tensor, nHeads: number, toHalf: boolean): Tensor {
  if (w.ndim !== 2) throw new Error(`RoPE permutation expects a 2-D [out, in] matrix, got [${w.shape.join(', ')}]`);
  const [rows, cols] = w.shape;
  if (rows % nHeads !== 0 || (rows / nHeads) % 2 !== 0) {
    throw new Error(`RoPE permutation: ${rows} rows do not split into ${nHeads} heads of even size`);
  }
  const headSize = rows / nHeads;
  const half = headSize / 2;
  const out = Tensor.zeros(w.shape, w.dtype);
  for (let h = 0; h < nHeads; h++) {
    const base = h * headSize;
    for (let i = 0; i < half; i++) {
      for (const parity of [0, 1]) {
        const interleaved = base + 2 * i + parity;
        const halfSplit = base + i + parity * half;
        const [src, dst] = toHalf ? [interleaved, halfSplit] : [halfSplit, interleaved];
        out.data.set(w.data.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
    }
  }
  return out;
}

/** Reorder W_q/W_k rows per head from interleaved-pair RoPE (llama2.c, Meta) to rotate-half RoPE (HF). */
export function interleavedToHalfRows(w: Tensor, nHeads: number): Tensor {
  return permuteRows(w, nHeads, true);
}

/** The inverse: rotate-half (HF) rows back to interleaved-pair (llama2.c, Meta) order. */
export function halfToInterleavedRows(w: Tensor, nHeads: number): Tensor {
  return permuteRows(w, nHeads, false);
}
