import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward } from '../../src/autograd/graph.ts';
import { crossEntropy } from '../../src/autograd/ops/cross-entropy.ts';
import { dropout } from '../../src/autograd/ops/dropout.ts';
import { cosineDistanceMean, cosineSimilarity, mse } from '../../src/autograd/ops/losses.ts';
import { param } from '../../src/autograd/var.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { assertGradients, randn } from './gradcheck-helpers.ts';

const rng = new Rng(3);

test('cross-entropy: gradients for mean, sum and none, with ignored rows', () => {
  const logits = randn(rng, [2, 3, 5], 2);
  const targets = [1, 4, -100, 0, 2, -100];
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    assertGradients((x) => crossEntropy(x, targets, { reduction }), [logits]);
  }
  assertGradients((x) => crossEntropy(x, [3, 7, 3, 3, 0, 7], { ignoreIndex: 7 }), [logits]);
});

test('cross-entropy: value, numerical stability and errors', () => {
  const x = Tensor.from([1000, 0, -1000, 2, 3, 4], [2, 3], 'float64');
  const loss = crossEntropy(param(x), [0, 2]);
  const l2 = Math.log(Math.exp(-2) + Math.exp(-1) + 1);
  assert.ok(Math.abs(loss.item() - (0 + l2) / 2) < 1e-15);
  backward(loss);
  assert.ok(Number.isFinite(loss.item()));
  assert.ok(Number.isNaN(crossEntropy(param(x), [-100, -100]).item()));
  assert.throws(() => crossEntropy(param(x), [0, 3]), /target 3 at row 1/);
  assert.throws(() => crossEntropy(param(x), [0]), /1 targets for 2 rows/);
});

test('mse with gradients on both sides', () => {
  assertGradients((a, b) => mse(a, b), [randn(rng, [3, 4]), randn(rng, [3, 4])]);
  assertGradients((a, b) => mse(a, b, 'sum'), [randn(rng, [5]), randn(rng, [5])]);
});

test('cosine similarity per token and the 1 − cos regulariser', () => {
  const a = randn(rng, [4, 6]), b = randn(rng, [4, 6]);
  assertGradients((x, y) => cosineSimilarity(x, y), [a, b]);
  assertGradients((x, y) => cosineDistanceMean(x, y), [a, b]);
  const same = cosineSimilarity(param(a), param(a.clone()));
  for (const c of same.value.data) assert.ok(Math.abs(c - 1) < 1e-15);
  const flipped = Tensor.from(a.data.map((v) => -2 * v), a.shape, 'float64');
  assert.ok(Math.abs(cosineDistanceMean(param(a), param(flipped)).item() - 2) < 1e-15);
});

test('dropout: seeded mask, inverted scaling, identity when off', () => {
  const x = randn(rng, [200, 50]);
  const y1 = dropout(param(x), 0.25, new Rng(5));
  const y2 = dropout(param(x), 0.25, new Rng(5));
  assert.deepEqual(y1.value.data, y2.value.data);
  let dropped = 0;
  for (let i = 0; i < x.size; i++) {
    if (y1.value.data[i] === 0) dropped++;
    else assert.ok(Math.abs(y1.value.data[i] - x.data[i] / 0.75) < 1e-12);
  }
  assert.ok(Math.abs(dropped / x.size - 0.25) < 0.02);
  const v = param(x);
  assert.equal(dropout(v, 0.5, new Rng(1), false), v);
  assertGradients((t) => dropout(t, 0.3, new Rng(9)), [randn(rng, [4, 5])]);
});
