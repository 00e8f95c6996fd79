import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward } from '../../src/autograd/graph.ts';
import { sum } from '../../src/autograd/ops/arith.ts';
import { attention } from '../../src/autograd/ops/attention.ts';
import { rope, sequentialPositions } from '../../src/autograd/ops/rope.ts';
import { param } from '../../src/autograd/var.ts';
import { nativeBackend, pureBackend, withBackend } from '../../src/backend/index.ts';
import { ropeInverseFrequencies } from '../../src/tensor/rope.ts';
import { Rng } from '../../src/tensor/random.ts';
import { assertGradients, randn } from './gradcheck-helpers.ts';

const rng = new Rng(21);

test('RoPE: half and interleaved pairing, full and partial rotary, scaled', () => {
  const [B, T, H, Dh] = [2, 3, 2, 6];
  const positions = sequentialPositions(B, T);
  const x = randn(rng, [B, T, H * Dh]);
  for (const style of ['half', 'interleaved'] as const) {
    for (const rotaryDim of [6, 4]) {
      const invFreq = ropeInverseFrequencies(rotaryDim, 10000);
      assertGradients((v) => rope(v, { numHeads: H, headDim: Dh, rotaryDim, invFreq, style, positions }), [x]);
    }
  }
  const invFreq = ropeInverseFrequencies(6, 500);
  assertGradients((v) => rope(v, { numHeads: H, headDim: Dh, rotaryDim: 6, invFreq, style: 'half', positions: [5, 9, 1, 0, 2, 40], attentionScaling: 1.3 }), [x]);
});

test('RoPE backward is the inverse rotation', () => {
  const x = param(randn(rng, [1, 4, 8]));
  const opts = { numHeads: 1, headDim: 8, rotaryDim: 8, invFreq: ropeInverseFrequencies(8, 10000), style: 'half' as const, positions: [0, 1, 2, 3] };
  const y = rope(x, opts);
  // for y = R x, the gradient of ½‖y‖² is Rᵀ R x = x
  const yv = y.value;
  const g = yv.clone();
  y.node!.backward(g, false);
  for (let i = 0; i < x.size; i++) assert.ok(Math.abs(x.grad!.data[i] - x.value.data[i]) < 1e-6);
});

for (const be of [pureBackend(), nativeBackend()].filter((b) => b !== undefined)) {
  test(`causal attention with grouped-query heads (${be.name})`, () => withBackend(be, () => {
    const [B, T, H, Hkv, Dh] = [2, 4, 4, 2, 3];
    const q = randn(rng, [B, T, H * Dh]), k = randn(rng, [B, T, Hkv * Dh]), v = randn(rng, [B, T, Hkv * Dh]);
    const opts = { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale: 1 / Math.sqrt(Dh) };
    assertGradients((a, b, c) => attention(a, b, c, opts), [q, k, v]);
    // multi-query (one kv head) and plain multi-head
    const k1 = randn(rng, [B, T, Dh]), v1 = randn(rng, [B, T, Dh]);
    assertGradients((a, b, c) => attention(a, b, c, { ...opts, numKvHeads: 1 }), [q, k1, v1]);
    const kH = randn(rng, [B, T, H * Dh]), vH = randn(rng, [B, T, H * Dh]);
    assertGradients((a, b, c) => attention(a, b, c, { ...opts, numKvHeads: H }), [q, kH, vH]);
  }));
}

test('attention: non-causal, key padding, and queries after a prefix of keys', () => {
  const [B, Tq, Tk, H, Hkv, Dh] = [2, 2, 4, 2, 1, 3];
  const q = randn(rng, [B, Tq, H * Dh]), k = randn(rng, [B, Tk, Hkv * Dh]), v = randn(rng, [B, Tk, Hkv * Dh]);
  const opts = { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale: 0.7 };
  assertGradients((a, b, c) => attention(a, b, c, opts), [q, k, v]);
  assertGradients((a, b, c) => attention(a, b, c, { ...opts, causal: false }), [q, k, v]);
  assertGradients((a, b, c) => attention(a, b, c, { ...opts, keyMask: [0, 1, 1, 1, 1, 1, 0, 1] }), [q, k, v]);
  assertGradients((a, b, c) => attention(a, b, c, { ...opts, slidingWindow: 2, alibiSlopes: [0.5, 0.25], alibiPositions: [0, 1, 2, 3, 0, 1, 2, 3] }), [q, k, v]);
  // a query that sees only padding: zero output, zero (not NaN) gradients
  const [pq, pk, pv] = [param(q), param(k), param(v)];
  const allHidden = attention(pq, pk, pv, { ...opts, keyMask: [0, 0, 0, 1, 1, 1, 1, 1] });
  assert.ok(allHidden.value.data.subarray(0, H * Dh).every((x) => x === 0));
  backward(sum(allHidden));
  for (const p of [pq, pk, pv]) assert.ok(p.grad!.data.every(Number.isFinite));
  assert.ok(pq.grad!.data.subarray(0, H * Dh).every((x) => x === 0));
});

test('attention backward over many small tiles (recomputed from the log-sum-exp): causal, cache prefix, window, padding, ALiBi', () => {
  const [B, H, Hkv, Dh] = [2, 2, 1, 3];
  const blocks = { query: 2, key: 3 };
  for (const [Tq, Tk] of [[7, 7], [3, 8]]) {
    const q = randn(rng, [B, Tq, H * Dh]), k = randn(rng, [B, Tk, Hkv * Dh]), v = randn(rng, [B, Tk, Hkv * Dh]);
    const opts = { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale: 0.8, blocks };
    const keyMask = Array.from({ length: B * Tk }, (_, i) => (i >= Tk && i % Tk < 4 ? 0 : 1));
    const alibiPositions = Array.from({ length: B * Tk }, (_, i) => i % Tk);
    assertGradients((a, b, c) => attention(a, b, c, opts), [q, k, v]);
    assertGradients((a, b, c) => attention(a, b, c, { ...opts, slidingWindow: 3 }), [q, k, v]);
    assertGradients((a, b, c) => attention(a, b, c, { ...opts, keyMask, alibiSlopes: [0.5, 0.25], alibiPositions }), [q, k, v]);
    assertGradients((a, b, c) => attention(a, b, c, { ...opts, causal: false, keyMask }), [q, k, v]);
  }
});
