/**
 * RoPE inverse frequencies and positions for one forward call, including HF's `rope_scaling`
 * variants. Arithmetic is done in float32 steps (Math.fround) where transformers computes in
 * float32, so angles match its tensors.
 *
 * - linear (v4.42): positions are divided by the factor, θ = (p / factor) · invFreq.
 * - dynamic NTK (v4.42): when max(position) + 1 exceeds max_position_embeddings, the base grows to
 *   base · (factor · L / maxPos − (factor − 1))^(d / (d − 2)) with L = max(position) + 1.
 * - llama3 (v4.43+ `_compute_llama3_parameters`): low frequencies are divided by the factor, high
 *   ones kept, and the band between interpolated smoothly.
 */
import type { RopeConfig } from './config.ts';

const f = Math.fround;

/** inv_freq as HF builds it: 1 / base^(arange(0, d, 2) / d), each step in float32. */
export function hfInverseFrequencies(rotaryDim: number, base: number): Float32Array {
  const inv = new Float32Array(rotaryDim / 2);
  const b = f(base);
  for (let i = 0; i < inv.length; i++) inv[i] = f(1 / f(Math.pow(b, f((2 * i) / rotaryDim))));
  return inv;
}

function llama3Frequencies(inv: Float32Array, s: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number }): Float32Array {
  const lowWavelen = f(s.originalMaxPositions / s.lowFreqFactor);
  const highWavelen = f(s.originalMaxPositions / s.highFreqFactor);
  const out = new Float32Array(inv.length);
  for (let i = 0; i < inv.length; i++) {
    const wavelen = f(f(2 * Math.PI) / inv[i]);
    const scaled = wavelen > lowWavelen ? f(inv[i] / s.factor) : inv[i];
    const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (!medium) {
      out[i] = scaled;
      continue;
    }
    const smooth = f(f(f(s.originalMaxPositions / wavelen) - s.lowFreqFactor) / f(s.highFreqFactor - s.lowFreqFactor));
    out[i] = f(f(f(f(1 - smooth) * scaled) / s.factor) + f(smooth * scaled));
  }
  return out;
}

/** Inverse frequencies and rotation positions for a call whose tokens sit at `positions`. */
export function ropeForCall(rope: RopeConfig, positions: readonly number[]): { invFreq: Float32Array; positions: number[] } {
  const s = rope.scaling;
  const dim = rope.rotaryDim;
  if (!s) return { invFreq: hfInverseFrequencies(dim, rope.theta), positions: positions as number[] };
  switch (s.type) {
    case 'linear':
      return { invFreq: hfInverseFrequencies(dim, rope.theta), positions: positions.map((p) => f(p / s.factor)) };
    case 'llama3':
      return { invFreq: llama3Frequencies(hfInverseFrequencies(dim, rope.theta), s), positions: positions as number[] };
    case 'dynamic': {
      let maxPos = 0;
      for (const p of positions) if (p > maxPos) maxPos = p;
      const seqLen = maxPos + 1;
      if (seqLen <= s.maxPositions) return { invFreq: hfInverseFrequencies(dim, rope.theta), positions: positions as number[] };
      const grown = f(f(rope.theta) * f(Math.pow(f(f(f(s.factor * seqLen) / s.maxPositions) - (s.factor - 1)), f(dim / (dim - 2)))));
      return { invFreq: hfInverseFrequencies(dim, grown), positions: positions as number[] };
    }
  }
}
