/**
 * Gradient checks of the autograd ops the architecture modules need beyond the Llama set: column
 * gathers of fused QKV outputs, HF-named activations (GELU variants, ReLU, SiLU), ALiBi attention
 * with key padding, and the GPT-2 Conv1D projection (x·W + b).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activation, add, attention, constant, gatherColumns, matmul } from '../../src/autograd/index.ts';
import { alibiSlopes } from '../../src/tensor/attention.ts';
import { Rng } from '../../src/tensor/random.ts';
import { assertGradients, randn } from './gradcheck-helpers.ts';

const rng = new Rng(5);

test('gatherColumns: fused QKV ranges, per head and contiguous', () => {
  const x = randn(rng, [2, 3, 12]);
  assertGradients((v) => gatherColumns(v, [[0, 2], [6, 8]]), [x]);
  assertGradients((v) => gatherColumns(v, [[4, 12]]), [x]);
  assert.throws(() => assertGradients((v) => gatherColumns(v, [[10, 13]]), [x]), /not a range of the last axis/);
});

test('activation by HF name: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu', () => {
  const x = randn(rng, [4, 5]);
  for (const name of ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'relu', 'silu', 'swish']) {
    assertGradients((v) => activation(v, name), [x]);
  }
  assert.throws(() => activation(constant(x), 'mish'), /unsupported activation function "mish"/);
});

test('attention with ALiBi slopes and key padding (BLOOM, Falcon-RW)', () => {
  const H = 4, Dh = 3, B = 2, T = 5;
  const keyMask = [1, 1, 1, 1, 1, 0, 0, 1, 1, 1];
  const alibiPositions = [0, 1, 2, 3, 4, 0, 0, 0, 1, 2];
  const slopes = alibiSlopes(H);
  assertGradients((q, k, v) => attention(q, k, v, { numHeads: H, numKvHeads: H, headDim: Dh, scale: 0.5, keyMask, alibiSlopes: slopes, alibiPositions }),
    [randn(rng, [B, T, H * Dh]), randn(rng, [B, T, H * Dh]), randn(rng, [B, T, H * Dh])]);
});

test('Conv1D projection x·W + b (GPT-2 layout)', () => {
  assertGradients((x, w, b) => add(matmul(x, w), b), [randn(rng, [2, 3, 4]), randn(rng, [4, 6]), randn(rng, [6])]);
});
