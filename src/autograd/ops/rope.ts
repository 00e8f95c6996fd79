/**
 * Rotary position embeddings on a [B, T, H·Dh] projection (forward: src/tensor/rope on a copy).
 * RoPE is a rotation R(θ) of coordinate pairs, so its backward is the transposed rotation R(−θ):
 * the same kernel at negated positions (fround and cos are even, sin is odd, so this is exact).
 *
 * With the native kernels, float32 projections are rotated from a table of the angles' cos and sin
 * per distinct position (native/kernels.c lk_rope_table_f32 / lk_rope_apply_f32: the same float32
 * values as applyRope's C twin), built once per positions array and shared by the queries and keys
 * of every layer of a forward, and by their backward (sin negated): a training step computes its
 * cos/sin for T positions instead of for B·T tokens in each of 4·L calls.
 */
import { applyRope, type RopeOptions } from '../../tensor/rope.ts';
import { allFloat32, kernelThreads, nativeKernels, type NativeKernels } from '../../tensor/native-kernels.ts';
import { Tensor, allocate } from '../../tensor/tensor.ts';
import { takeGradBuffer } from '../grad-pool.ts';
import { accumulateGrad, record } from '../graph.ts';
import type { Var } from '../var.ts';

export type { RopeOptions, RopeStyle } from '../../tensor/rope.ts';

interface RopeTable {
  invFreq: Float32Array;
  scaling: number;
  half: number;
  cos: Float32Array;
  sin: Float32Array;
  /** Table row of each token. */
  rows: Int32Array;
  /** The positions it was built from (a caller may refill its array: checked on every use). */
  positions: Float64Array;
}

/** Tables by positions array (the forward context's, shared by every layer). */
const tables = new WeakMap<object, RopeTable[]>();

function ropeTable(nk: NativeKernels, opts: RopeOptions, half: number): RopeTable {
  const scaling = opts.attentionScaling ?? 1;
  const key = opts.positions as unknown as object;
  const list = tables.get(key) ?? [];
  const at = list.findIndex((t) => t.invFreq === opts.invFreq && t.scaling === scaling && t.half === half);
  if (at >= 0 && samePositions(list[at].positions, opts.positions)) return list[at];
  if (at >= 0) list.splice(at, 1);
  const index = new Map<number, number>();
  const rows = new Int32Array(opts.positions.length);
  const distinct: number[] = [];
  for (let t = 0; t < rows.length; t++) {
    const p = opts.positions[t];
    let r = index.get(p);
    if (r === undefined) {
      r = distinct.length;
      index.set(p, r);
      distinct.push(p);
    }
    rows[t] = r;
  }
  const cos = new Float32Array(distinct.length * half), sin = new Float32Array(distinct.length * half);
  nk.ropeTable(Float64Array.from(distinct), distinct.length, half, opts.invFreq, scaling, cos, sin);
  const table = { invFreq: opts.invFreq, scaling, half, cos, sin, rows, positions: Float64Array.from(opts.positions) };
  list.push(table);
  tables.set(key, list);
  return table;
}

function samePositions(a: Float64Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Rotates x in place by θ (sign 1) or −θ (sign −1): the table kernel, or applyRope. */
function rotate(x: Tensor, opts: RopeOptions, sign: 1 | -1): void {
  const nk = nativeKernels();
  const half = opts.rotaryDim / 2;
  const tokens = x.size / (opts.numHeads * opts.headDim);
  if (nk && allFloat32(x.data, opts.invFreq) && Number.isInteger(half) && opts.positions.length === tokens && typeof opts.positions === 'object') {
    const t = ropeTable(nk, opts, half);
    nk.ropeApply(x.data as Float32Array, tokens, opts.numHeads, opts.headDim, half, t.cos, t.sin, t.rows, sign, opts.style === 'interleaved' ? 1 : 0, kernelThreads());
    return;
  }
  applyRope(x, sign === 1 ? opts : { ...opts, positions: Float64Array.from(opts.positions, (p) => -p) });
}

/** RoPE applied to `x` (not in place): half or interleaved pairing, partial rotary via `rotaryDim`. */
export function rope(x: Var, opts: RopeOptions): Var {
  // a copy in idle pooled storage when there is some (written in full, so not zeroed)
  const value = new Tensor(takeGradBuffer(x.dtype, x.size) ?? allocate(x.dtype, x.size), x.shape);
  value.data.set(x.value.data);
  rotate(value, opts, 1);
  return record('rope', value, [x], (g, owned) => {
    const rotated = owned ? g : g.clone();
    rotate(rotated, opts, -1);
    accumulateGrad(x, rotated, true);
  });
}

/** Convenience: positions 0…T−1 for every sequence of a [B, T, …] batch. */
export function sequentialPositions(batch: number, seqLen: number): Float64Array {
  const p = new Float64Array(batch * seqLen);
  for (let b = 0; b < batch; b++) for (let t = 0; t < seqLen; t++) p[b * seqLen + t] = t;
  return p;
}
