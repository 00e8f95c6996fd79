import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamMoments } from '../../src/analysis/moments.ts';
import { Rng } from '../../src/tensor/random.ts';

test('StreamMoments: panelled Gram, centring about the shift, mean and unit sum equal naive sums', () => {
  const rng = new Rng(9);
  const n = 70;
  const d = 300; // three column panels (128, 128, 44)
  const x = rng.randn([n, d], 1, 'float64');
  for (let r = 0; r < n; r++) x.data[r * d + 7] += 500;
  const m = new StreamMoments(d);
  m.add(x.slice0(0, 33), undefined, 16);
  m.add(x.slice0(33, n), undefined, 16);
  assert.equal(m.count, n);
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += x.data[r * d + j] / n;
  const got = m.mean();
  for (let j = 0; j < d; j++) assert.ok(Math.abs(got[j] - mean[j]) < 1e-12 * (1 + Math.abs(mean[j])));
  const c = m.centredGram();
  let worst = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let r = 0; r < n; r++) s += (x.data[r * d + i] - mean[i]) * (x.data[r * d + j] - mean[j]);
    worst = Math.max(worst, Math.abs(c[i * d + j] - s));
  }
  assert.ok(worst < 1e-9, `centred Gram off by ${worst}`);
  let trace = 0;
  for (let i = 0; i < d; i++) trace += c[i * d + i];
  assert.ok(Math.abs(m.centredSumSquares() - trace) < 1e-9 * trace);
  const unit = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += x.data[r * d + j] ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < d; j++) unit[j] += x.data[r * d + j] / norm;
  }
  for (let j = 0; j < d; j++) assert.ok(Math.abs(m.unitSum![j] - unit[j]) < 1e-10);
  assert.equal(m.unitCount, n);
});
