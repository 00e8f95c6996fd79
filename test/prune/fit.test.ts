/**
 * Closed-form map fits: exact recovery of an affine map from several batches (with and without
 * bias), the ridge pulling toward the identity, `explained` equal to the explicit residual, and on
 * stories260K a fitted map that beats dropping on the calibration tokens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/models/decoder.ts';
import { fitSpanMaps, MapFitAccumulator } from '../../src/prune/fit.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import { streamSpans } from '../../src/prune/spans.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';
import { maxAbsDiff, randomBatches } from './helpers.ts';

/** Rows X (with a large common offset) and D = X·B + c (+ noise). */
function synthetic(seed: number, n: number, d: number, noise: number, withBias = true) {
  const rng = new Rng(seed);
  const x = rng.randn([n, d], 1, 'float64');
  for (let r = 0; r < n; r++) x.data[r * d] += 30;
  const b = rng.randn([d, d], 0.3, 'float64');
  const c = withBias ? rng.randn([d], 2, 'float64') : Tensor.zeros([d], 'float64');
  const delta = Tensor.zeros([n, d], 'float64');
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) {
      let v = c.data[j] + noise * rng.normal();
      for (let i = 0; i < d; i++) v += x.data[r * d + i] * b.data[i * d + j];
      delta.data[r * d + j] = v;
    }
  }
  return { x, delta, b, c };
}

test('MapFitAccumulator recovers an exact affine map from batches (A = I + B, bias c)', () => {
  const d = 5, n = 60;
  const { x, delta, b, c } = synthetic(1, n, d, 0);
  const acc = new MapFitAccumulator('residual', d);
  acc.add(x.slice0(0, 25), delta.slice0(0, 25));
  acc.add(x.slice0(25, n), delta.slice0(25, n));
  const fit = acc.solve({ ridge: 0 });
  const expectedA = b.data.slice();
  for (let i = 0; i < d; i++) expectedA[i * d + i] += 1;
  assert.ok(maxAbsDiff(fit.map.weight.data, expectedA) < 1e-8);
  assert.ok(maxAbsDiff(fit.map.bias!.data, c.data) < 1e-6);
  assert.ok(Math.abs(fit.explained - 1) < 1e-10);
  assert.equal(fit.tokens, n);
});

test('without bias the fit solves the uncentred normal equations', () => {
  const d = 4, n = 50;
  const { x, delta, b } = synthetic(2, n, d, 0, false);
  const acc = new MapFitAccumulator('mlp', d);
  acc.add(x, delta);
  const fit = acc.solve({ ridge: 0, bias: false });
  assert.equal(fit.map.bias, undefined);
  assert.equal(fit.map.input, 'mlp');
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    assert.ok(Math.abs(fit.map.weight.data[i * d + j] - (b.data[i * d + j] + (i === j ? 1 : 0))) < 1e-8);
  }
});

test('explained = 1 − ‖D − XB − b‖²/‖Dc‖² on noisy data; a huge ridge gives A → I, b → mean(D)', () => {
  const d = 4, n = 80;
  const { x, delta } = synthetic(3, n, d, 0.5);
  const acc = new MapFitAccumulator('residual', d);
  acc.add(x, delta);
  const fit = acc.solve({ ridge: 1e-3 });
  const a = fit.map.weight.data, bias = fit.map.bias!.data;
  let res = 0, energy = 0;
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += delta.data[r * d + j] / n;
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) {
      let p = bias[j] - x.data[r * d + j];
      for (let i = 0; i < d; i++) p += x.data[r * d + i] * a[i * d + j];
      res += (delta.data[r * d + j] - p) ** 2;
      energy += (delta.data[r * d + j] - mean[j]) ** 2;
    }
  }
  assert.ok(Math.abs(fit.explained - (1 - res / energy)) < 1e-9, `${fit.explained} vs ${1 - res / energy}`);
  const stiff = acc.solve({ ridge: 1e12 });
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) assert.ok(Math.abs(stiff.map.weight.data[i * d + j] - (i === j ? 1 : 0)) < 1e-6);
  assert.ok(maxAbsDiff(stiff.map.bias!.data, mean) < 1e-4);
});

test('stories260K: fitted maps (both inputs) bring the state after the span closer than dropping', { skip: skipUnless(stories260KDir) }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize, 8, 4);
  const original = new PrunedModel(model);
  const fits = fitSpanMaps(original, batches, [{ start: 2, count: 2, input: 'residual' }, { start: 1, count: 1, input: 'mlp' }]);
  for (const [k, span] of [[0, { start: 2, count: 2 }], [1, { start: 1, count: 1 }]] as const) {
    assert.ok(fits[k].explained > 0 && fits[k].explained < 1);
    const pruned = original.with([{ ...span, map: fits[k].map }]);
    // squared error of the state after the span, pruned vs original, on the calibration rows
    const err = (m: PrunedModel) => {
      let e = 0;
      const targets: Float32Array[] = [];
      streamSpans(original, batches, [span], (_, s) => targets.push(Float32Array.from(Array.from(s.rows).flatMap((r) => Array.from(s.output.data.subarray(r * 64, r * 64 + 64))))));
      let bi = 0;
      streamSpans(m, batches, [{ start: span.start + span.count, count: 1 }], (_, s) => {
        const t = targets[bi++];
        Array.from(s.rows).forEach((r, i) => {
          for (let j = 0; j < 64; j++) e += (s.input.data[r * 64 + j] - t[i * 64 + j]) ** 2;
        });
      });
      return e;
    };
    assert.ok(err(pruned) < err(original.with([{ ...span }])), `span ${span.start}: map not better than drop`);
  }
});
