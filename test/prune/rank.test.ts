/**
 * Ranking scores against direct definitions: BI = 1 − mean cos, angular = mean arccos(cos)/π (all
 * tokens or each sequence's last), linearity = the analysis layer's direct (stored-rows, SVD)
 * score — on synthetic rows and on stories260K spans streamed over padded batches (compared with
 * each sequence run alone).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linearityDirect } from '../../src/analysis/linearity-direct.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import { angularDistance, measureSpans, rankSpans, rowCosine, SpanScoreAccumulator } from '../../src/prune/rank.ts';
import { candidateSpans } from '../../src/prune/spans.ts';
import type { SpanScores } from '../../src/prune/types.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';
import { cosine, randomBatches, unpaddedStates } from './helpers.ts';

test('rowCosine and angularDistance', () => {
  assert.equal(rowCosine([1, 0, 0, 1], [2, 0, 0, 0], 0, 2), 1);
  assert.equal(rowCosine([0, 0], [1, 1], 0, 2), 0);
  assert.ok(Math.abs(rowCosine([1, 2, 3, 4], [0, 0, 1, 0], 2, 2) - 3 / 5) < 1e-15);
  assert.equal(angularDistance(1), 0);
  assert.equal(angularDistance(-1), 1);
  assert.equal(angularDistance(1 + 1e-12), 0);
  assert.ok(Math.abs(angularDistance(0) - 0.5) < 1e-15);
});

test('SpanScoreAccumulator: BI, angular and linearity equal direct computations, over two batches', () => {
  const rng = new Rng(3);
  const d = 6, n = 40;
  const x = rng.randn([n, d], 1, 'float64');
  const y = rng.randn([n, d], 0.5, 'float64');
  for (let i = 0; i < y.size; i++) y.data[i] += 0.8 * x.data[i] + (i % d === 0 ? 3 : 0);
  const rows = Int32Array.from({ length: n - 4 }, (_, i) => i + 2); // skip a few rows as padding
  const last = Int32Array.from([19, 39]);
  const acc = new SpanScoreAccumulator({ start: 0, count: 1 }, d);
  const half = rows.length / 2;
  acc.add(x, y, rows.subarray(0, half), last.subarray(0, 1));
  acc.add(x, y, rows.subarray(half), last.subarray(1));
  const s = acc.scores();
  const cos = Array.from(rows, (r) => cosine(x.data.subarray(r * d, r * d + d), y.data.subarray(r * d, r * d + d)));
  assert.equal(s.tokens, rows.length);
  assert.ok(Math.abs(s.bi - (1 - cos.reduce((a, b) => a + b) / cos.length)) < 1e-14);
  assert.ok(Math.abs(s.angular - cos.reduce((a, c) => a + Math.acos(c) / Math.PI, 0) / cos.length) < 1e-14);
  const direct = linearityDirect(x, y, { rows });
  const directWithout = linearityDirect(x, y, { rows, variant: 'withoutResidual' });
  assert.ok(Math.abs(s.linearity - direct.score) < 1e-10, `${s.linearity} vs ${direct.score}`);
  assert.ok(Math.abs(s.linearityWithoutResidual - directWithout.score) < 1e-10);

  const lastAcc = new SpanScoreAccumulator({ start: 0, count: 1 }, d, { angularTokens: 'last', linearity: false });
  lastAcc.add(x, y, rows, last);
  const ls = lastAcc.scores();
  const lastAngles = Array.from(last, (r) => Math.acos(cosine(x.data.subarray(r * d, r * d + d), y.data.subarray(r * d, r * d + d))) / Math.PI);
  assert.ok(Math.abs(ls.angular - (lastAngles[0] + lastAngles[1]) / 2) < 1e-14);
  assert.ok(Number.isNaN(ls.linearity));
  assert.equal(ls.bi, s.bi);
});

test('rankSpans: removal order per criterion, NaN last, ties by position', () => {
  const mk = (start: number, linearity: number, bi: number, angular: number): SpanScores =>
    ({ start, count: 1, tokens: 10, linearity, linearityWithoutResidual: -linearity, bi, angular });
  const scores = [mk(0, 0.5, 0.3, 0.2), mk(1, 0.9, 0.1, 0.2), mk(2, Number.NaN, 0.1, 0.1), mk(3, 0.7, 0.2, 0.3)];
  assert.deepEqual(rankSpans(scores, 'linearity').map((s) => s.start), [1, 3, 0, 2]);
  assert.deepEqual(rankSpans(scores, 'linearity', { linearityVariant: 'withoutResidual' }).map((s) => s.start), [0, 3, 1, 2]);
  assert.deepEqual(rankSpans(scores, 'bi').map((s) => s.start), [1, 2, 3, 0]);
  assert.deepEqual(rankSpans(scores, 'angular').map((s) => s.start), [2, 0, 1, 3]);
  assert.deepEqual(rankSpans(scores, 'bi').map((s) => s.rank), [0, 1, 2, 3]);
});

test('stories260K: streamed span scores over padded batches equal the per-sequence definitions', { skip: skipUnless(stories260KDir) }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize);
  const states = unpaddedStates(model, batches);
  const pruned = new PrunedModel(model);
  for (const count of [1, 2]) {
    const spans = candidateSpans(pruned, count);
    assert.equal(spans.length, model.numLayers - count + 1);
    const scores = measureSpans(pruned, batches, { spans });
    const last = measureSpans(pruned, batches, { spans, angularTokens: 'last', linearity: false });
    scores.forEach((s, k) => {
      const cos: number[] = [];
      const lastAngles: number[] = [];
      const xs: number[] = [];
      const ys: number[] = [];
      for (const seq of states) {
        const x = seq[s.start], y = seq[s.start + s.count];
        x.forEach((row, t) => {
          cos.push(cosine(row, y[t]));
          xs.push(...row);
          ys.push(...y[t]);
        });
        lastAngles.push(Math.acos(Math.min(1, cosine(x[x.length - 1], y[y.length - 1]))) / Math.PI);
      }
      const d = model.config.hiddenSize;
      assert.equal(s.tokens, cos.length);
      assert.ok(Math.abs(s.bi - (1 - cos.reduce((a, b) => a + b) / cos.length)) < 1e-5, `BI of ${s.start}+${s.count}`);
      assert.ok(Math.abs(s.angular - cos.reduce((a, c) => a + Math.acos(Math.min(1, c)) / Math.PI, 0) / cos.length) < 1e-5);
      assert.ok(Math.abs(last[k].angular - lastAngles.reduce((a, b) => a + b) / lastAngles.length) < 1e-4);
      const direct = linearityDirect(Tensor.from(xs, [xs.length / d, d], 'float64'), Tensor.from(ys, [ys.length / d, d], 'float64'));
      assert.ok(Math.abs(s.linearity - direct.score) < 1e-4, `linearity ${s.linearity} vs ${direct.score}`);
    });
  }
});
