/**
 * Choosing what to remove: one-shot top-k with neighbours merged, the best span of k blocks,
 * sequential removal with re-measuring on the pruned model, drop vs linear, the 'mlp' input's
 * fallback at block 0, and the errors for impossible requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/models/decoder.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import { measureSpans, rankSpans } from '../../src/prune/rank.ts';
import { mergeNeighbours, pruneModel } from '../../src/prune/replace.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';
import { randomBatches } from './helpers.ts';

const skip = skipUnless(stories260KDir);

test('mergeNeighbours joins adjacent and overlapping spans', () => {
  assert.deepEqual(mergeNeighbours([{ start: 3, count: 1 }, { start: 1, count: 1 }, { start: 2, count: 1 }, { start: 6, count: 1 }]), [
    { start: 1, count: 3 }, { start: 6, count: 1 },
  ]);
  assert.deepEqual(mergeNeighbours([{ start: 0, count: 2 }, { start: 1, count: 2 }]), [{ start: 0, count: 3 }]);
});

test('one-shot: the k best-ranked blocks go, merged into spans; drop has no maps, linear fits one per span', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize);
  const order = rankSpans(measureSpans(new PrunedModel(model), batches), 'bi').map((s) => s.start);
  const drop = pruneModel(model, batches, { k: 2, method: 'drop', criterion: 'bi' });
  const removed = drop.model.replacements.flatMap((r) => Array.from({ length: r.count }, (_, i) => r.start + i));
  assert.deepEqual(removed, order.slice(0, 2).sort((a, b) => a - b));
  assert.ok(drop.model.replacements.every((r) => !r.map));
  assert.equal(drop.steps.length, 1);
  assert.deepEqual(drop.steps[0].ranking.map((s) => s.start), order);

  const linear = pruneModel(model, batches, { k: 2, method: 'linear', criterion: 'bi' });
  assert.deepEqual(linear.model.replacements.map((r) => [r.start, r.count]), drop.model.replacements.map((r) => [r.start, r.count]));
  assert.ok(linear.model.replacements.every((r) => r.map?.input === 'residual'));
  assert.equal(linear.steps[0].fits!.length, linear.model.replacements.length);
  assert.equal(linear.model.numLayers, 3);
});

test('span: the best run of k consecutive blocks by the criterion', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize);
  const best = rankSpans(measureSpans(new PrunedModel(model), batches, { count: 3, linearity: false }), 'angular')[0];
  const r = pruneModel(model, batches, { k: 3, method: 'drop', criterion: 'angular', span: true, linearity: false });
  assert.deepEqual(r.model.replacements.map((x) => [x.start, x.count]), [[best.start, 3]]);
  assert.equal(r.steps[0].ranking.length, 3);
});

test('sequential: k rounds, each ranked on the model pruned so far; mlp maps fall back at block 0', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize);
  const r = pruneModel(model, batches, { k: 2, method: 'linear', criterion: 'linearity', sequential: true, mapInput: 'mlp' });
  assert.equal(r.steps.length, 2);
  assert.equal(r.steps[0].ranking.length, 5);
  const first = r.steps[0].chosen[0].start;
  assert.ok(!r.steps[1].ranking.some((s) => s.start === first));
  // the block whose MLP output the first map reads cannot go next
  const firstInput = r.model.replacements.find((x) => x.start === first)!.map!.input;
  assert.equal(r.steps[1].ranking.length, firstInput === 'mlp' ? 3 : 4);
  if (firstInput === 'mlp') assert.ok(!r.steps[1].ranking.some((s) => s.start === first - 1));
  // the second round's scores are measured on the model without the first block
  const again = measureSpans(new PrunedModel(model, [r.model.replacements.find((x) => x.start === first)!]), batches);
  const second = r.steps[1].ranking.find((s) => s.start === again[0].start)!;
  assert.ok(Math.abs(second.linearity - again[0].linearity) < 1e-12);
  for (const x of r.model.replacements) assert.equal(x.map!.input, x.start === 0 || !r.model.isKept(x.start - 1) ? 'residual' : 'mlp');

});

test('impossible requests fail clearly', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize);
  assert.throws(() => pruneModel(model, batches, { k: 5, method: 'drop', criterion: 'bi' }), /cannot remove 5 of 5 blocks/);
  assert.throws(() => pruneModel(model, batches, { k: 2, method: 'drop', criterion: 'bi', span: true, sequential: true }), /either span/);
  assert.equal(pruneModel(model, batches, { k: 0, method: 'drop', criterion: 'bi' }).model.numLayers, 5);
});
