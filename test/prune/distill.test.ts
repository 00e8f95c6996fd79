/**
 * Distillation: the cosine loss goes down from the least-squares start, runs are reproducible
 * from the seed, dropped spans and zero steps leave the model alone, and 'pruned' inputs train
 * later maps on the states earlier maps produce.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/models/decoder.ts';
import { distillMaps } from '../../src/prune/distill.ts';
import { pruneModel } from '../../src/prune/replace.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';
import { randomBatches } from './helpers.ts';

const skip = skipUnless(stories260KDir);

test('cosine distillation lowers the loss epoch over epoch and is reproducible', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize, 6, 2);
  const { model: pruned } = pruneModel(model, batches, { k: 2, method: 'linear', criterion: 'bi' });
  const a = distillMaps(pruned, batches, { steps: 15, loss: 'cosine', lr: 1e-3, seed: 4 });
  assert.equal(a.epochs.length, 5);
  assert.deepEqual(a.epochs.map((e) => e.steps), [3, 3, 3, 3, 3]);
  assert.ok(a.epochs[4].loss < a.epochs[0].loss, `${a.epochs.map((e) => e.loss)}`);
  assert.equal(a.trained.length, pruned.replacements.length);
  assert.equal(a.epochs[0].perMap.length, a.trained.length);
  const b = distillMaps(pruned, batches, { steps: 15, loss: 'cosine', lr: 1e-3, seed: 4 });
  assert.deepEqual(a.epochs, b.epochs);
  assert.deepEqual(a.model.replacements[0].map!.weight.data, b.model.replacements[0].map!.weight.data);
  // the original pruned model is untouched
  assert.notDeepEqual(a.model.replacements[0].map!.weight.data, pruned.replacements[0].map!.weight.data);
});

test('zero steps and dropped spans: nothing to train', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize, 4, 2);
  const { model: dropped } = pruneModel(model, batches, { k: 1, method: 'drop', criterion: 'bi' });
  const r = distillMaps(dropped, batches, { steps: 10 });
  assert.equal(r.model, dropped);
  assert.deepEqual(r.trained, []);
  const { model: linear } = pruneModel(model, batches, { k: 1, method: 'linear', criterion: 'bi' });
  assert.equal(distillMaps(linear, batches, { steps: 0 }).model, linear);
});

test("'pruned' inputs with two maps: mse+cosine decreases, mlp maps keep their input kind", { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize, 6, 3);
  const { model: pruned } = pruneModel(model, batches, { k: 2, method: 'linear', criterion: 'linearity', sequential: true, mapInput: 'mlp' });
  const r = distillMaps(pruned, batches, { steps: 12, loss: 'mse+cosine', inputs: 'pruned', lr: 5e-4, seed: 1 });
  assert.equal(r.trained.length, 2);
  assert.ok(r.epochs[r.epochs.length - 1].loss < r.epochs[0].loss);
  assert.deepEqual(r.model.replacements.map((x) => x.map!.input), pruned.replacements.map((x) => x.map!.input));
});
