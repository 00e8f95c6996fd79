/**
 * YaRN and LongRoPE scaling against transformers' formulas (modeling_rope_utils), with the
 * references computed here in double precision from the formulas as written in the YaRN paper /
 * transformers docs, and a few values derived by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeConfig } from '../../src/models/config.ts';
import { ropeForCall } from '../../src/models/rope-scaling.ts';
import { applyRope } from '../../src/tensor/rope.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const close = (a: number, b: number, rel = 2e-6) => Math.abs(a - b) <= rel * Math.abs(b) + 1e-12;

/** YaRN inverse frequencies in double: interpolate low frequencies by 1/factor, keep high ones, ramp between. */
function yarnReference(d: number, base: number, factor: number, original: number, betaFast = 32, betaSlow = 1): number[] {
  const dimOf = (r: number) => (d * Math.log(original / (2 * Math.PI * r))) / (2 * Math.log(base));
  const low = Math.max(Math.floor(dimOf(betaFast)), 0);
  let high = Math.min(Math.ceil(dimOf(betaSlow)), d - 1);
  if (low === high) high += 0.001;
  const out: number[] = [];
  for (let i = 0; i < d / 2; i++) {
    const theta = Math.pow(base, (2 * i) / d);
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    out.push((1 / (factor * theta)) * ramp + (1 / theta) * (1 - ramp));
  }
  return out;
}

test('yarn: correction range, ramp and attention factor (Llama-2 shape, factor 4 over 4096)', () => {
  const rope = normalizeConfig({
    model_type: 'llama', hidden_size: 4096, num_attention_heads: 32, max_position_embeddings: 4096, rope_scaling: { type: 'yarn', factor: 4 },
  }).rope!;
  const r = ropeForCall(rope, [0, 5]);
  assert.deepEqual(r.positions, [0, 5]);
  // by hand: dim(32) = 128·ln(4096/(64π)) / (2 ln 10⁴) = 20.94 → low 20; dim(1) = 128·ln(4096/(2π)) / (2 ln 10⁴) = 45.03 → high 46
  const ref = yarnReference(128, 10000, 4, 4096);
  r.invFreq.forEach((v, i) => assert.ok(close(v, ref[i]), `invFreq[${i}] ${v} vs ${ref[i]}`));
  assert.equal(r.invFreq[0], 1); // i ≤ low: pure extrapolation, 1 / 10000^0
  assert.ok(close(r.invFreq[20], Math.pow(10000, -40 / 128)));
  assert.ok(close(r.invFreq[33], 0.625 * Math.pow(10000, -66 / 128))); // ramp (33 − 20)/26 = ½: ½/(4b) + ½/b
  assert.ok(close(r.invFreq[46], 0.25 * Math.pow(10000, -92 / 128))); // i ≥ high: divided by the factor
  assert.ok(close(r.attentionScaling!, 0.1 * Math.log(4) + 1)); // 1.1386…
});

test('yarn: original_max_position_embeddings sets the factor; mscale/mscale_all_dim, attention_factor and beta overrides', () => {
  const qwen = normalizeConfig({
    model_type: 'qwen2', hidden_size: 1024, num_attention_heads: 8, num_key_value_heads: 2, max_position_embeddings: 131072, rope_theta: 1e6,
    rope_scaling: { type: 'yarn', factor: 99, original_max_position_embeddings: 32768 },
  }).rope!;
  assert.equal(qwen.scaling?.type === 'yarn' && qwen.scaling.factor, 4);
  const ref = yarnReference(128, 1e6, 4, 32768);
  ropeForCall(qwen, [0]).invFreq.forEach((v, i) => assert.ok(close(v, ref[i]), `qwen invFreq[${i}]`));

  const ds = normalizeConfig({
    model_type: 'llama', hidden_size: 512, num_attention_heads: 8, max_position_embeddings: 4096,
    rope_scaling: { rope_type: 'yarn', factor: 40, mscale: 0.707, mscale_all_dim: 1, beta_fast: 16, beta_slow: 2 },
  }).rope!;
  const r = ropeForCall(ds, [0]);
  assert.ok(close(r.attentionScaling!, (0.1 * 0.707 * Math.log(40) + 1) / (0.1 * Math.log(40) + 1)));
  const ref2 = yarnReference(64, 10000, 40, 4096, 16, 2);
  r.invFreq.forEach((v, i) => assert.ok(close(v, ref2[i]), `beta override invFreq[${i}]`));
  const fixed = normalizeConfig({ model_type: 'llama', max_position_embeddings: 64, rope_scaling: { type: 'yarn', factor: 2, attention_factor: 1.5 } }).rope!;
  assert.equal(ropeForCall(fixed, [0]).attentionScaling, 1.5);
  assert.throws(() => normalizeConfig({ model_type: 'llama', rope_scaling: { type: 'yarn', factor: 2, attention_factor: -1 } }), /"attention_factor" must be a positive number/);
});

test('longrope: short factors within the original context, long ones beyond; √(1 + ln s / ln L) attention factor', () => {
  const short = [1, 1.25, 1.5, 2];
  const long = [2, 3, 5, 8];
  const rope = normalizeConfig({
    model_type: 'llama', hidden_size: 32, num_attention_heads: 4, max_position_embeddings: 64, original_max_position_embeddings: 16,
    rope_scaling: { type: 'longrope', short_factor: short, long_factor: long },
  }).rope!;
  const within = ropeForCall(rope, [0, 15]);
  const beyond = ropeForCall(rope, [0, 16]);
  for (let i = 0; i < 4; i++) {
    assert.ok(close(within.invFreq[i], 1 / (short[i] * Math.pow(10000, (2 * i) / 8))));
    assert.ok(close(beyond.invFreq[i], 1 / (long[i] * Math.pow(10000, (2 * i) / 8))));
  }
  assert.ok(close(within.attentionScaling!, Math.sqrt(1 + Math.log(4) / Math.log(16))));
  const bad = normalizeConfig({ model_type: 'llama', hidden_size: 32, num_attention_heads: 4, rope_scaling: { type: 'longrope', factor: 2, short_factor: [1], long_factor: [1] } }).rope!;
  assert.throws(() => ropeForCall(bad, [0]), /longrope factors have 1 entries but the rotary dimension 8 needs 4/);
});

test('the attention factor multiplies cos and sin', () => {
  const x = Tensor.from([1, 2, 3, 4], [1, 1, 4]);
  const y = Tensor.from([1, 2, 3, 4], [1, 1, 4]);
  const opts = { numHeads: 1, headDim: 4, rotaryDim: 4, invFreq: Float32Array.from([0.5, 0.25]), style: 'half' as const, positions: [3] };
  applyRope(x, opts);
  applyRope(y, { ...opts, attentionScaling: 1.5 });
  for (let i = 0; i < 4; i++) assert.ok(close(y.data[i], 1.5 * x.data[i], 1e-6));
});
