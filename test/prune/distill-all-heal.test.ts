/**
 * Training after pruning on stories260K: the pruned model on the tape (distill-model.ts) equals the
 * eager pruned model, distillation of all parameters lowers its loss and leaves the original model
 * alone, healing lowers the next-token loss, and `adjacent` healing changes only the blocks next to
 * the removed span.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noGrad } from '../../src/autograd/index.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { distillAll } from '../../src/prune/distill-all.ts';
import { TrainablePruned } from '../../src/prune/distill-model.ts';
import { healPruned, nextTokenTargets } from '../../src/prune/heal.ts';
import { pruneModel } from '../../src/prune/replace.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';
import { randomBatches } from './helpers.ts';

const skip = skipUnless(stories260KDir);

test('the tape pruned model equals the eager one (residual and mlp maps, padded batches)', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize, 6, 3);
  for (const mapInput of ['residual', 'mlp'] as const) {
    const { model: pruned } = pruneModel(model, batches, { k: 2, method: 'linear', criterion: 'bi', mapInput });
    const tape = new TrainablePruned(pruned);
    for (const b of batches) {
      const eager = pruned.forward(b.ids, { attentionMask: b.attentionMask });
      const ours = noGrad(() => tape.forward(b));
      assert.ok(maxAbsDiff(ours.final.value, eager.preFinalNorm) < 1e-4, `${mapInput}: ${maxAbsDiff(ours.final.value, eager.preFinalNorm)}`);
      assert.ok(maxAbsDiff(ours.logits!.value, eager.logits) < 1e-4);
    }
  }
});

test('distil all: the loss falls, the original model is untouched, the result runs', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize, 6, 3);
  const { model: pruned } = pruneModel(model, batches, { k: 1, method: 'linear', criterion: 'bi' });
  const before = model.getWeight(model.weightNames()[5]).clone();
  const r = distillAll(pruned, batches, { steps: 12, loss: 'mse', lr: 1e-3, seed: 2 });
  assert.equal(r.epochs.length, 6);
  assert.ok(r.epochs[5].loss < r.epochs[0].loss, `${r.epochs[0].loss} → ${r.epochs[5].loss}`);
  assert.equal(maxAbsDiff(model.getWeight(model.weightNames()[5]), before), 0);
  assert.notEqual(r.model.base, model);
  assert.ok(maxAbsDiff(r.model.base.getWeight(model.weightNames()[5]), before) > 0);
  assert.deepEqual(r.model.keptBlocks(), pruned.keptBlocks());
  assert.ok(r.parameters > 0);
});

test('heal: next-token targets, loss falls; adjacent scope trains only the neighbouring blocks', { skip }, async () => {
  assert.deepEqual([...nextTokenTargets({ ids: [[5, 6, 7, 0]], attentionMask: [[1, 1, 1, 0]] })], [6, 7, -100, -100]);
  const model = await loadModel(stories260KDir);
  const batches = randomBatches(model.config.vocabSize, 4, 2);
  const { model: pruned } = pruneModel(model, batches, { k: 1, method: 'linear', criterion: 'bi', span: true });
  const all = healPruned(pruned, batches, { steps: 8, lr: 2e-3, seed: 1 });
  assert.ok(all.losses[7] < all.losses[0], `${all.losses[0]} → ${all.losses[7]}`);
  const adjacent = healPruned(pruned, batches, { steps: 2, scope: 'adjacent', lr: 1e-3 });
  assert.ok(adjacent.parameters < all.parameters);
  const [removed] = pruned.replacements;
  const neighbours = [removed.start - 1, removed.start + removed.count].filter((i) => pruned.isKept(i));
  for (let i = 0; i < model.numLayers; i++) {
    if (!pruned.isKept(i)) continue;
    const changed = model.blockWeightNames(i).some((n) => maxAbsDiff(adjacent.model.base.getWeight(n), model.getWeight(n)) > 0);
    assert.equal(changed, neighbours.includes(i), `block ${i}`);
  }
  for (const n of model.globalWeightNames()) assert.equal(maxAbsDiff(adjacent.model.base.getWeight(n), model.getWeight(n)), 0, n);
});
