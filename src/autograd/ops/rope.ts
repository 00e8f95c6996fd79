/**
 * Rotary position embeddings on a [B, T, H·Dh] projection (forward: src/tensor/rope on a copy).
 * RoPE is a rotation R(θ) of coordinate pairs, so its backward is the transposed rotation R(−θ):
 * the same kernel at negated positions (fround and cos are even, sin is odd, so this is exact).
 *
 * With the native kernels both directions use tensor/rope.ts's cos/sin table of the forward's
 * positions array (shared by the queries and keys of every layer; sin negated for the backward):
 * a training step computes its cos/sin for T positions instead of for B·T tokens in each of 4·L calls.
 */
import { rotateRope, type RopeOptions } from '../../tensor/rope.ts';
import { Tensor, allocate } from '../../tensor/tensor.ts';
import { takeGradBuffer } from '../grad-pool.ts';
import { accumulateGrad, record } from '../graph.ts';
import type { Var } from '../var.ts';

export type { RopeOptions, RopeStyle } from '../../tensor/rope.ts';

/** RoPE applied to `x` (not in place): half or interleaved pairing, partial rotary via `rotaryDim`. */
export function rope(x: Var, opts: RopeOptions): Var {
  // a copy in idle pooled storage when there is some (written in full, so not zeroed)
  const value = new Tensor(takeGradBuffer(x.dtype, x.size) ?? allocate(x.dtype, x.size), x.shape);
  value.data.set(x.value.data);
  rotateRope(value, opts, 1);
  return record('rope', value, [x], (g, owned) => {
    const rotated = owned ? g : g.clone();
    rotateRope(rotated, opts, -1);
    accumulateGrad(x, rotated, true);
  });
}

/** Convenience: positions 0…T−1 for every sequence of a [B, T, …] batch. */
export function sequentialPositions(batch: number, seqLen: number): Float64Array {
  const p = new Float64Array(batch * seqLen);
  for (let b = 0; b < batch; b++) for (let t = 0; t < seqLen; t++) p[b * seqLen + t] = t;
  return p;
}
