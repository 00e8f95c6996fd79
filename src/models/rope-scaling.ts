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
 * - yarn (`_compute_yarn_parameters`, YaRN, Peng et al. 2023): with d the rotary dimension and
 *   L the original context, the correction dimension of r rotations is d·ln(L / (2πr)) / (2 ln base);
 *   low = ⌊dim(β_fast)⌋, high = ⌈dim(β_slow)⌉ (unrounded when truncate is false), clamped to [0, d − 1];
 *   ramp_i = clamp((i − low) / (high − low), 0, 1) (high + 0.001 when equal), extrapolation share
 *   e_i = 1 − ramp_i; invFreq_i = (1 / (factor·b_i))·(1 − e_i) + (1 / b_i)·e_i with b_i = base^(2i/d);
 *   cos and sin are multiplied by the attention factor.
 * - longrope (Phi-3): invFreq_i = 1 / (ext_i · base^(2i/d)), ext = short_factor while
 *   max(position) + 1 ≤ the original context, long_factor beyond; cos/sin times the attention factor.
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

type YarnScaling = Extract<NonNullable<RopeConfig['scaling']>, { type: 'yarn' }>;

/** YaRN inverse frequencies (float32 steps where transformers uses float32 tensors). */
function yarnFrequencies(rotaryDim: number, base: number, s: YarnScaling): Float32Array {
  const d = rotaryDim;
  const correctionDim = (rotations: number) => (d * Math.log(s.originalMaxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  let low = correctionDim(s.betaFast);
  let high = correctionDim(s.betaSlow);
  if (s.truncate) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  low = Math.max(low, 0);
  high = Math.min(high, d - 1);
  if (low === high) high += 0.001;
  const extrapolation = hfInverseFrequencies(d, base); // 1 / b_i
  const out = new Float32Array(d / 2);
  const factor = f(s.factor);
  const b = f(base);
  for (let i = 0; i < out.length; i++) {
    const posFreq = f(Math.pow(b, f((2 * i) / d)));
    const interpolation = f(1 / f(factor * posFreq));
    const ramp = Math.min(1, Math.max(0, f(f(i - low) / f(high - low))));
    const e = f(1 - ramp);
    out[i] = f(f(interpolation * f(1 - e)) + f(extrapolation[i] * e));
  }
  return out;
}

/** Inverse frequencies, rotation positions and cos/sin multiplier for a call whose tokens sit at `positions`. */
export function ropeForCall(rope: RopeConfig, positions: readonly number[]): { invFreq: Float32Array; positions: number[]; attentionScaling?: number } {
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
    case 'yarn':
      return { invFreq: yarnFrequencies(dim, rope.theta, s), positions: positions as number[], attentionScaling: s.attentionFactor };
    case 'longrope': {
      let maxPos = 0;
      for (const p of positions) if (p > maxPos) maxPos = p;
      const ext = maxPos + 1 > s.originalMaxPositions ? s.longFactor : s.shortFactor;
      if (ext.length !== dim / 2) throw new Error(`config.json: longrope factors have ${ext.length} entries but the rotary dimension ${dim} needs ${dim / 2}`);
      const b = f(rope.theta);
      const invFreq = new Float32Array(dim / 2);
      for (let i = 0; i < invFreq.length; i++) invFreq[i] = f(1 / f(f(ext[i]) * f(Math.pow(b, f((2 * i) / dim)))));
      return { invFreq, positions: positions as number[], attentionScaling: s.attentionFactor };
    }
  }
}
