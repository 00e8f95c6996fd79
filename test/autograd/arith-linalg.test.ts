import assert from 'node:assert/strict';
import { test } from 'node:test';
import { add, mean, mul, scale, sub, sum } from '../../src/autograd/ops/arith.ts';
import { backward } from '../../src/autograd/graph.ts';
import { embedding } from '../../src/autograd/ops/embedding.ts';
import { linear, matmul } from '../../src/autograd/ops/linalg.ts';
import { concatLast, reshape, sliceLast } from '../../src/autograd/ops/shape.ts';
import { param } from '../../src/autograd/var.ts';
import { nativeBackend, pureBackend, withBackend } from '../../src/backend/index.ts';
import { Rng } from '../../src/tensor/random.ts';
import { assertGradients, randn } from './gradcheck-helpers.ts';

const rng = new Rng(7);

test('add, sub, mul: same shape and row-vector broadcast', () => {
  for (const op of [add, sub, mul]) {
    assertGradients(op, [randn(rng, [3, 4]), randn(rng, [3, 4])]);
    assertGradients(op, [randn(rng, [2, 3, 4]), randn(rng, [4])]);
  }
  // the same Var on both sides
  assertGradients((x) => mul(x, x), [randn(rng, [5])]);
  assertGradients((x) => add(x, x), [randn(rng, [5])]);
});

test('scale, sum, mean', () => {
  assertGradients((x) => scale(x, -2.5), [randn(rng, [3, 2])]);
  assertGradients((x) => sum(mul(x, x)), [randn(rng, [3, 2])]);
  assertGradients((x) => mean(mul(x, x)), [randn(rng, [4, 3])]);
});

for (const be of [pureBackend(), nativeBackend()].filter((b) => b !== undefined)) {
  test(`matmul: every transpose combination, flattened and batched (${be.name})`, () => {
    withBackend(be, () => {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const a = transA ? randn(rng, [4, 3]) : randn(rng, [3, 4]);
          const b = transB ? randn(rng, [5, 4]) : randn(rng, [4, 5]);
          assertGradients((x, y) => matmul(x, y, { transA, transB }), [a, b]);
          const ab = transA ? randn(rng, [2, 4, 3]) : randn(rng, [2, 3, 4]);
          const bb = transB ? randn(rng, [2, 5, 4]) : randn(rng, [2, 4, 5]);
          assertGradients((x, y) => matmul(x, y, { transA, transB }), [ab, bb]);
        }
      }
      // [B, T, K] × [K, N] flattens the leading axes
      assertGradients((x, y) => matmul(x, y), [randn(rng, [2, 3, 4]), randn(rng, [4, 2])]);
      assertGradients((x, y) => matmul(x, y, { transB: true }), [randn(rng, [2, 3, 4]), randn(rng, [2, 4])]);
      // linear's bias gradient is a GEMM reduction too
      assertGradients((x, w, c) => linear(x, w, c), [randn(rng, [2, 3, 4]), randn(rng, [5, 4]), randn(rng, [5])]);
    });
  });
}

test('linear with and without bias', () => {
  assertGradients((x, w, b) => linear(x, w, b), [randn(rng, [2, 3, 4]), randn(rng, [5, 4]), randn(rng, [5])]);
  assertGradients((x, w) => linear(x, w), [randn(rng, [3, 4]), randn(rng, [2, 4])]);
  assert.throws(() => linear(param(randn(rng, [3, 4])), param(randn(rng, [2, 5]))), /weight \[2, 5\] does not take inputs \[3, 4\]/);
  assert.throws(() => linear(param(randn(rng, [3, 4])), param(randn(rng, [2, 4])), param(randn(rng, [3]))), /bias/);
});

test('reshape, concatLast, sliceLast', () => {
  assertGradients((x) => mul(reshape(x, 3, -1), reshape(x, 3, 4)), [randn(rng, [2, 6])]);
  assertGradients((a, b) => concatLast([a, b, a]), [randn(rng, [2, 3, 2]), randn(rng, [2, 3, 5])]);
  assertGradients((x) => sliceLast(x, 1, 4), [randn(rng, [3, 5])]);
  assertGradients((x) => concatLast([sliceLast(x, 2, 5), sliceLast(x, 0, 2)]), [randn(rng, [2, 5])]);
});

test('embedding: gather forward, scatter-add backward with repeated ids', () => {
  const ids = [2, 0, 2, 2, 4];
  assertGradients((table) => embedding(table, ids, [5]), [randn(rng, [6, 3])]);
  const table = param(randn(rng, [6, 3]));
  backward(sum(embedding(table, ids)));
  assert.deepEqual(Array.from(table.grad!.data.subarray(6, 9)), [3, 3, 3]); // id 2 appears three times
  assert.deepEqual(Array.from(table.grad!.data.subarray(3, 6)), [0, 0, 0]);
  assert.throws(() => embedding(table, [6]), /outside the vocabulary/);
});
