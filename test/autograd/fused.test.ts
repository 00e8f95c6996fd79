import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward, crossEntropy, mul, param, silu, sum, constant } from '../../src/autograd/index.ts';
import { Rng } from '../../src/tensor/random.ts';
import { crossEntropyMean, swiGlu } from '../../src/autograd/ops/fused.ts';

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('swiGlu equals silu(gate) ⊙ up in value and gradient', () => {
  const rng = new Rng(1);
  const [g1, u1] = [param(rng.randn([5, 7], 2)), param(rng.randn([5, 7]))];
  const [g2, u2] = [param(g1.value.clone()), param(u1.value.clone())];
  const w = constant(rng.randn([5, 7]));
  const a = swiGlu(g1, u1), b = mul(silu(g2), u2);
  assert.ok(maxDiff(a.value.data, b.value.data) < 1e-6);
  backward(sum(mul(a, w)));
  backward(sum(mul(b, w)));
  assert.ok(maxDiff(g1.grad!.data, g2.grad!.data) < 1e-6);
  assert.ok(maxDiff(u1.grad!.data, u2.grad!.data) < 1e-6);
});

test('crossEntropyMean equals crossEntropy (mean, ignored rows) in value and gradient', () => {
  const rng = new Rng(2);
  const x1 = param(rng.randn([2, 3, 11], 3));
  const x2 = param(x1.value.clone());
  const targets = [3, -100, 0, 10, 5, -100];
  const a = crossEntropyMean(x1, targets), b = crossEntropy(x2, targets);
  assert.ok(Math.abs(a.item() - b.item()) < 1e-6);
  backward(a);
  backward(b);
  assert.ok(maxDiff(x1.grad!.data, x2.grad!.data) < 1e-7);
  assert.ok(x1.grad!.data.subarray(11, 22).every((v) => v === 0), 'ignored row has no gradient');
  assert.throws(() => crossEntropyMean(param(rng.randn([2, 4])), [0, 4]), /not in \[0, 4\)/);
});
