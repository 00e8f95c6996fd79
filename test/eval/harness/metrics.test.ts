/** Metrics and stderrs against hand computations and CPython runs of the harness's formulas. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate, bootstrapPerplexityStderr, cbMacroF1, firstArgmax, meanStderr, pyLen } from '../../../src/eval/harness/metrics.ts';
import { pyFloat } from '../../../src/eval/harness/output.ts';

test('mean stderr is the sample std over √n', () => {
  // xs = [1, 0, 1, 1]: mean 0.75, sample variance 0.25, stderr sqrt(0.25)/2 = 0.25
  assert.equal(meanStderr([1, 0, 1, 1]), 0.25);
  assert.deepEqual(aggregate('acc', [1], 100), { value: 1, stderr: 'N/A' });
  assert.deepEqual(aggregate('acc', [1, 0], 0), { value: 0.5, stderr: 'N/A' });
});

test('cb f1: mean of the three one-vs-rest F1 (undefined → 0)', () => {
  // golds 0,0,1,2 preds 0,1,1,1: class0 tp1 fn1 → 2/3; class1 tp1 fp2 → 2/4; class2 fn1 → 0
  assert.ok(Math.abs(cbMacroF1([[0, 0], [0, 1], [1, 1], [2, 1]]) - (2 / 3 + 0.5 + 0) / 3) < 1e-15);
  assert.equal(aggregate('f1', [[0, 0], [1, 1]], 1000).stderr, 'N/A');
});

test('perplexity bootstrap stderr equals the harness algorithm run in CPython', () => {
  // CPython: chunks i = 0..2 with random.Random(i), 1000 × choices(xs, k=len(xs)), sample std of exp(-mean)
  const xs = [-1.5, -2.25, -0.5, -3.0, -7.75];
  assert.ok(Math.abs(bootstrapPerplexityStderr(xs, 3000) - 106.26996212891741) < 1e-9);
  const agg = aggregate('perplexity', xs, 3000);
  assert.ok(Math.abs(agg.value - Math.exp(15 / 5)) < 1e-12);
});

test('acc_norm lengths count code points; ties pick the first index', () => {
  assert.equal(pyLen('naïve 😀'), 7);
  assert.equal(firstArgmax([-1, -0.5, -0.5]), 1);
});

test('Python float repr for logged responses', () => {
  assert.equal(pyFloat(-4.0), '-4.0');
  assert.equal(pyFloat(-41.49778729037336), '-41.49778729037336');
  assert.equal(pyFloat(1e-5), '1e-05');
  assert.equal(pyFloat(-2.5e-7), '-2.5e-07');
  assert.equal(pyFloat(1.5e16), '1.5e+16');
  assert.equal(pyFloat(0.0001), '0.0001');
});
