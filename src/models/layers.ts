/** Building blocks shared by the architecture modules: norms, projections, MLPs, fused-output splits. */
import { activate, addBiasActivateInPlace, siluMul } from '../tensor/activations.ts';
import { add, addInPlace, mul } from '../tensor/elementwise.ts';
import { addRowVectorInPlace, linear, matmul } from '../tensor/matmul.ts';
import { layerNorm, rmsNorm } from '../tensor/norms.ts';
import { Tensor, allocate } from '../tensor/tensor.ts';
import type { NormConfig } from './config.ts';

/** The configured norm (LayerNorm with optional bias, or RMSNorm with Gemma's unit offset). */
export function norm(cfg: NormConfig, x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  return cfg.kind === 'rmsnorm' ? rmsNorm(x, weight, cfg.eps, cfg.unitOffset) : layerNorm(x, weight, bias, cfg.eps);
}

/** y = x·Wᵀ + b for a PyTorch Linear weight [out, in], or y = x·W + b for a GPT-2 Conv1D weight [in, out]. */
export function project(x: Tensor, weight: Tensor, bias: Tensor | undefined, layout: 'out_in' | 'in_out' = 'out_in'): Tensor {
  if (layout === 'out_in') return linear(x, weight, bias);
  const y = matmul(x, weight);
  if (bias) addRowVectorInPlace(y, bias);
  return y;
}

/** Copy of the output columns `ranges` of y [..., n], concatenated: how fused QKV outputs are split. */
export function gatherColumns(y: Tensor, ranges: ReadonlyArray<readonly [number, number]>): Tensor {
  const n = y.dim(-1);
  const rows = y.size / n;
  const width = ranges.reduce((s, [a, b]) => s + (b - a), 0);
  const out = new Tensor(allocate(y.dtype, rows * width), [...y.shape.slice(0, -1), width]);
  const src = y.data, dst = out.data;
  for (let r = 0; r < rows; r++) {
    let o = r * width;
    for (const [a, b] of ranges) {
      dst.set(src.subarray(r * n + a, r * n + b), o);
      o += b - a;
    }
  }
  return out;
}

/** The stored output-axis ranges of q, k, v in a fused QKV tensor, given how heads are packed. */
export type FusedQkvLayout =
  /** [q | k | v], each a contiguous block (GPT-2 c_attn, Falcon multi-query). */
  | { kind: 'blocks'; qWidth: number; kvWidth: number }
  /** Per head [q_h | k_h | v_h] (GPT-NeoX, BLOOM, Falcon-RW). */
  | { kind: 'per_head'; numHeads: number; headDim: number }
  /** Per key/value group [q_g1 … q_gG | k_g | v_g] (Falcon new decoder architecture). */
  | { kind: 'per_group'; numKvHeads: number; group: number; headDim: number };

export function fusedQkvRanges(layout: FusedQkvLayout): { q: Array<[number, number]>; k: Array<[number, number]>; v: Array<[number, number]> } {
  if (layout.kind === 'blocks') {
    const { qWidth: a, kvWidth: b } = layout;
    return { q: [[0, a]], k: [[a, a + b]], v: [[a + b, a + 2 * b]] };
  }
  const q: Array<[number, number]> = [], k: Array<[number, number]> = [], v: Array<[number, number]> = [];
  if (layout.kind === 'per_head') {
    const d = layout.headDim;
    for (let h = 0; h < layout.numHeads; h++) {
      const s = 3 * d * h;
      q.push([s, s + d]); k.push([s + d, s + 2 * d]); v.push([s + 2 * d, s + 3 * d]);
    }
  } else {
    const { group: g, headDim: d } = layout;
    for (let j = 0; j < layout.numKvHeads; j++) {
      const s = (g + 2) * d * j;
      q.push([s, s + g * d]); k.push([s + g * d, s + (g + 1) * d]); v.push([s + (g + 1) * d, s + (g + 2) * d]);
    }
  }
  return { q: mergeRanges(q), k: mergeRanges(k), v: mergeRanges(v) };
}

/** Joins adjacent ranges ([0,4],[4,8] → [0,8]) so contiguous matrices are recognised as such. */
function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && last[1] === r[0]) last[1] = r[1];
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** fc_out(act(fc_in(x))) — the classic two-matrix MLP. */
export function plainMlp(x: Tensor, activation: string, fcIn: Tensor, bIn: Tensor | undefined, fcOut: Tensor, bOut: Tensor | undefined, layout: 'out_in' | 'in_out' = 'out_in'): Tensor {
  const pre = project(x, fcIn, undefined, layout);
  const h = bIn ? addBiasActivateInPlace(pre, bIn, activation) : activate(pre, activation, pre);
  return project(h, fcOut, bOut, layout);
}

/** down(act(gate(x)) ⊙ up(x)) — SwiGLU (Llama) or GeGLU (Gemma). */
export function gatedMlp(x: Tensor, activation: string, gate: Tensor, up: Tensor, down: Tensor, biases?: { gate?: Tensor; up?: Tensor; down?: Tensor }): Tensor {
  const g = linear(x, gate, biases?.gate);
  const u = linear(x, up, biases?.up);
  const h = activation === 'silu' || activation === 'swish' ? siluMul(g, u) : mul(activate(g, activation, g), u);
  return linear(h, down, biases?.down);
}

/** a + b + c (new tensor), the parallel-residual sum. */
export function sum3(a: Tensor, b: Tensor, c: Tensor): Tensor {
  return addInPlace(add(a, b), c);
}

/** a + b (new tensor). */
export function sum2(a: Tensor, b: Tensor): Tensor {
  return add(a, b);
}
