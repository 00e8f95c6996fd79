/**
 * Rotary position embeddings, applied in place to a [B, T, H·Dh] projection (no transposes).
 *
 * Two pairings of the rotated coordinates:
 * - `half` (GPT-NeoX, Llama, HF convention): (x[i], x[i + r/2]) for i < r/2 — "rotate_half";
 * - `interleaved` (GPT-J): (x[2i], x[2i+1]).
 * Only the first `rotaryDim` coordinates of each head rotate (partial rotary: NeoX, Phi, GPT-J).
 * Angles follow Hugging Face's float32 arithmetic: θ = fround(pos · invFreq[i]), cos/sin rounded to float32.
 */
import { allFloat32, kernelThreads, nativeKernels } from './native-kernels.ts';
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

export function applyRope(x: Tensor, o: RopeOptions): void {
  const width = o.numHeads * o.headDim;
  const tokens = x.size / width;
  if (o.positions.length !== tokens) throw new Error(`applyRope: ${o.positions.length} positions for ${tokens} tokens`);
  const half = o.rotaryDim / 2;
  const native = nativeKernels();
  if (native && allFloat32(x.data, o.invFreq) && Number.isInteger(half)) {
    const positions = o.positions instanceof Float64Array ? o.positions : Float64Array.from(o.positions);
    native.rope(x.data as Float32Array, tokens, o.numHeads, o.headDim, half, o.invFreq, positions, o.attentionScaling ?? 1, o.style === 'interleaved' ? 1 : 0, kernelThreads());
    return;
  }
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
