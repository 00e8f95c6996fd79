/**
 * Rotary position embeddings, applied in place to a [B, T, H·Dh] projection (no transposes).
 *
 * Two pairings of the rotated coordinates:
 * - `half` (GPT-NeoX, Llama, HF convention): (x[i], x[i + r/2]) for i < r/2 — "rotate_half";
 * - `interleaved` (GPT-J): (x[2i], x[2i+1]).
 * Only the first `rotaryDim` coordinates of each head rotate (partial rotary: NeoX, Phi, GPT-J).
 * Angles follow Hugging Face's float32 arithmetic: θ = fround(pos · invFreq[i]), cos/sin rounded to float32.
 */
import { allFloat32, kernelThreads, nativeKernels, type NativeKernels } from './native-kernels.ts';
import type { Tensor } from './tensor.ts';

export type RopeStyle = 'half' | 'interleaved';

/** inv_freq[i] = 1 / base^(2i / rotaryDim), in float32 as HF computes it. */
export function ropeInverseFrequencies(rotaryDim: number, base: number): Float32Array {
  const inv = new Float32Array(rotaryDim / 2);
  for (let i = 0; i < inv.length; i++) inv[i] = 1 / Math.pow(base, Math.fround((2 * i) / rotaryDim));
  return inv;
}

export interface RopeOptions {
  numHeads: number;
  headDim: number;
  rotaryDim: number;
  invFreq: Float32Array;
  style: RopeStyle;
  /** Position of each token, length B·T. */
  positions: ArrayLike<number>;
  /** Multiplier applied to cos and sin (HF "attention_scaling", 1 for most models). */
  attentionScaling?: number;
}

/** Applies RoPE in place to x [B, T, H·Dh] (H = o.numHeads) at the positions `o.positions`. */
export function applyRope(x: Tensor, o: RopeOptions): void {
  rotateRope(x, o, 1);
}

/**
 * Rotates x in place by θ (sign 1, RoPE) or −θ (sign −1, its transpose: the training backward).
 * With the native kernels: from a table of cos/sin rows per distinct position (below); otherwise the
 * TypeScript loop at the positions, negated for sign −1 (fround and cos are even, sin is odd).
 */
export function rotateRope(x: Tensor, o: RopeOptions, sign: 1 | -1): void {
  const width = o.numHeads * o.headDim;
  const tokens = x.size / width;
  if (o.positions.length !== tokens) throw new Error(`applyRope: ${o.positions.length} positions for ${tokens} tokens`);
  const half = o.rotaryDim / 2;
  const native = nativeKernels();
  if (native && allFloat32(x.data, o.invFreq) && Number.isInteger(half)) {
    const t = ropeTable(native, o, half);
    native.ropeApply(x.data as Float32Array, tokens, o.numHeads, o.headDim, half, t.cos, t.sin, t.rows, sign, o.style === 'interleaved' ? 1 : 0, kernelThreads());
    return;
  }
  rotateTypeScript(x, sign === 1 ? o : { ...o, positions: Float64Array.from(o.positions, (p) => -p) }, half);
}

function rotateTypeScript(x: Tensor, o: RopeOptions, half: number): void {
  const width = o.numHeads * o.headDim;
  const tokens = x.size / width;
  const cos = new Float32Array(half);
  const sin = new Float32Array(half);
  const d = x.data;
  const sc = o.attentionScaling ?? 1;
  for (let t = 0; t < tokens; t++) {
    const p = o.positions[t];
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * o.invFreq[i]);
      // HF: cos/sin in float32, then times the scaling in float32 (the same as one rounding when sc = 1)
      cos[i] = Math.fround(Math.fround(Math.cos(angle)) * sc);
      sin[i] = Math.fround(Math.fround(Math.sin(angle)) * sc);
    }
    for (let h = 0; h < o.numHeads; h++) {
      const base = t * width + h * o.headDim;
      for (let i = 0; i < half; i++) {
        const ia = o.style === 'half' ? base + i : base + 2 * i;
        const ib = o.style === 'half' ? base + i + half : base + 2 * i + 1;
        const a = d[ia];
        const b = d[ib];
        d[ia] = a * cos[i] - b * sin[i];
        d[ib] = b * cos[i] + a * sin[i];
      }
    }
  }
}

/**
 * The cos/sin rows of a positions array, one row per distinct position (native/kernels.c
 * lk_rope_table_f32: the float32 values the TypeScript loop computes), kept by positions array: a
 * forward's context holds one array shared by the queries and keys of every layer (and a training
 * step's backward), so the angles' cos and sin are computed for T positions, not for B·T tokens in
 * each of 2·L calls (HF likewise computes them once per forward).
 */
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

const tables = new WeakMap<object, RopeTable[]>();

function ropeTable(nk: NativeKernels, o: RopeOptions, half: number): RopeTable {
  const scaling = o.attentionScaling ?? 1;
  const key = o.positions as unknown as object;
  const list = tables.get(key) ?? [];
  const at = list.findIndex((t) => t.invFreq === o.invFreq && t.scaling === scaling && t.half === half);
  if (at >= 0 && samePositions(list[at].positions, o.positions)) return list[at];
  if (at >= 0) list.splice(at, 1);
  const index = new Map<number, number>();
  const rows = new Int32Array(o.positions.length);
  const distinct: number[] = [];
  for (let t = 0; t < rows.length; t++) {
    const p = o.positions[t];
    let r = index.get(p);
    if (r === undefined) {
      r = distinct.length;
      index.set(p, r);
      distinct.push(p);
    }
    rows[t] = r;
  }
  const cos = new Float32Array(distinct.length * half), sin = new Float32Array(distinct.length * half);
  nk.ropeTable(Float64Array.from(distinct), distinct.length, half, o.invFreq, scaling, cos, sin);
  const table = { invFreq: o.invFreq, scaling, half, cos, sin, rows, positions: Float64Array.from(o.positions) };
  list.push(table);
  tables.set(key, list);
  return table;
}

function samePositions(a: Float64Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
