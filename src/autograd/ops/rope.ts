/**
 * Rotary position embeddings on a [B, T, H·Dh] projection (forward: src/tensor/rope on a copy).
 * RoPE is a rotation R(θ) of coordinate pairs, so its backward is the transposed rotation R(−θ):
 * the same kernel at negated positions (fround and cos are even, sin is odd, so this is exact).
 */
import { applyRope, type RopeOptions } from '../../tensor/rope.ts';
import { accumulateGrad, record } from '../graph.ts';
import type { Var } from '../var.ts';

export type { RopeOptions, RopeStyle } from '../../tensor/rope.ts';

/** RoPE applied to `x` (not in place): half or interleaved pairing, partial rotary via `rotaryDim`. */
export function rope(x: Var, opts: RopeOptions): Var {
  const value = x.value.clone();
  applyRope(value, opts);
  const positions = Float64Array.from(opts.positions);
  const negated = positions.map((p) => -p);
  return record('rope', value, [x], (g, owned) => {
    const rotated = owned ? g : g.clone();
    applyRope(rotated, { ...opts, positions: negated });
    accumulateGrad(x, rotated, true);
  });
}

/** Convenience: positions 0…T−1 for every sequence of a [B, T, …] batch. */
export function sequentialPositions(batch: number, seqLen: number): Float64Array {
  const p = new Float64Array(batch * seqLen);
  for (let b = 0; b < batch; b++) for (let t = 0; t < seqLen; t++) p[b * seqLen + t] = t;
  return p;
}

