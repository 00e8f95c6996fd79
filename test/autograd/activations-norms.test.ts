import assert from 'node:assert/strict';
import { test } from 'node:test';
import { erf64, erfc64 } from '../../src/autograd/erf.ts';
import { geluBackwardTable, geluDerivative64, geluExact64, geluForwardTable, geluForwardWithSlope } from '../../src/autograd/gelu-table.ts';
import { gelu, relu, silu } from '../../src/autograd/ops/activations.ts';
import { swiGlu } from '../../src/autograd/ops/fused.ts';
import { layerNorm, rmsNorm } from '../../src/autograd/ops/norms.ts';
import { logSoftmax, softmax } from '../../src/autograd/ops/softmax.ts';
import { backward } from '../../src/autograd/graph.ts';
import { constant, param } from '../../src/autograd/var.ts';
import { activate } from '../../src/tensor/activations.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { Rng } from '../../src/tensor/random.ts';
import { assertGradients, randn } from './gradcheck-helpers.ts';

const rng = new Rng(11);

test('erf64 matches reference values to a few ulps', () => {
  const ref: [number, number][] = [
    [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
    [2, 0.9953222650189527], [2.6, 0.9997639655834707], [-0.7, -0.6778011938374184],
  ];
  for (const [x, e] of ref) assert.ok(Math.abs(erf64(x) - e) <= 4e-16 * Math.abs(e), `erf(${x})`);
  assert.ok(Math.abs(erfc64(3) / 2.209049699858544e-5 - 1) < 1e-14);
  assert.ok(Math.abs(erfc64(5) / 1.5374597944280349e-12 - 1) < 1e-14);
});

test('GELU exact and tanh, SiLU, ReLU, SwiGLU', () => {
  const x = randn(rng, [3, 7], 2);
  assertGradients((v) => gelu(v), [x]);
  assertGradients((v) => gelu(v, 'tanh'), [x]);
  assertGradients(silu, [x]);
  const away = x.clone();
  for (let i = 0; i < away.size; i++) if (Math.abs(away.data[i]) < 0.05) away.data[i] += 0.1;
  assertGradients(relu, [away]);
  assertGradients(swiGlu, [x, randn(rng, [3, 7])]);
});

test('activation forwards agree with src/tensor (float32 and float64)', () => {
  const x32 = rng.randn([64], 3);
  assert.ok(maxAbsDiff(gelu(param(x32)).value, activate(x32, 'gelu')) < 1e-6);
  assert.ok(maxAbsDiff(gelu(param(x32), 'tanh').value, activate(x32, 'gelu_new')) === 0);
  const x64 = x32.to('float64');
  assert.ok(maxAbsDiff(gelu(param(x64)).value, activate(x64, 'gelu')) < 2e-7);
});

test('layerNorm with and without affine parameters', () => {
  const x = randn(rng, [2, 3, 6]);
  assertGradients((v, w, b) => layerNorm(v, w, b, 1e-5), [x, randn(rng, [6]), randn(rng, [6])]);
  assertGradients((v) => layerNorm(v, undefined, undefined, 1e-5), [x]);
});

test('rmsNorm, plain and with the unit offset (Gemma)', () => {
  const x = randn(rng, [4, 5]);
  assertGradients((v, w) => rmsNorm(v, w, 1e-6), [x, randn(rng, [5])]);
  assertGradients((v, w) => rmsNorm(v, w, 1e-6, true), [x, randn(rng, [5])]);
});

test('softmax and logSoftmax', () => {
  const x = randn(rng, [3, 6], 2);
  assertGradients(softmax, [x]);
  assertGradients(logSoftmax, [x]);
});

test('float32 GELU tables: value within 1 ulp of x·Φ(x), slope within 1e-7, tails exact; fused forward + slope identical', () => {
  const n = 200_000;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (rng.uniform() * 2 - 1) * (i % 2 ? 9 : 0.01);
  x[0] = 0;
  x[1] = -8;
  x[2] = 8;
  const y = new Float32Array(n);
  geluForwardTable(x, y);
  const slope = new Float32Array(n);
  geluBackwardTable(x, new Float32Array(n).fill(1), slope);
  const [yFused, slopeFused] = [new Float32Array(n), new Float32Array(n)];
  geluForwardWithSlope(x, yFused, slopeFused);
  assert.deepEqual(yFused, y);
  assert.deepEqual(slopeFused, slope);
  for (let i = 0; i < n; i++) {
    const exact = geluExact64(x[i]);
    const rounded = Math.fround(exact);
    const ulp = Math.max(Math.abs(Math.fround(rounded * (1 + 2 ** -23)) - rounded), 2 ** -149);
    assert.ok(Math.abs(y[i] - exact) <= ulp, `GELU(${x[i]}) = ${y[i]}, exact ${exact}`);
    assert.ok(Math.abs(slope[i] - geluDerivative64(x[i])) < 1e-7, `GELU'(${x[i]})`);
  }
});

test('float32 gelu: gradient is g·GELU′ from the slope kept in forward, also when accumulating', () => {
  const x = rng.randn([4, 300], 4);
  const v = param(x);
  const g = rng.randn([4, 300]);
  backward(gelu(v), g);
  backward(gelu(v), g); // second graph accumulates into the same gradient
  for (let i = 0; i < x.size; i++) {
    const want = 2 * g.data[i] * geluDerivative64(x.data[i]);
    assert.ok(Math.abs(v.grad!.data[i] - want) < 4e-7 * (1 + Math.abs(want)), `at ${x.data[i]}`);
  }
  // the same graph twice (retainGraph): the kept slope must survive the first pass
  const w = param(x);
  const y = gelu(w);
  backward(y, g, { retainGraph: true });
  backward(y, g);
  assert.deepEqual(w.grad!.data, v.grad!.data);
  const frozen = gelu(constant(x));
  assert.equal(frozen.requiresGrad, false);
  assert.ok(maxAbsDiff(frozen.value, gelu(param(x)).value) === 0);
});
