/**
 * Pairwise reward modelling (src/train/reward-model.ts): the contrastive loss and its gradient
 * against −log σ(d) written out here, the reward of a padded batch against the head times the final
 * hidden state of each sequence run alone, and the export (score.weight + …ForSequenceClassification).
 * The export's layout as transformers reads it is in reward-export-layout.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { backward, noGrad, param } from '../../src/autograd/index.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { hfConfig, type ModelShape } from '../../src/train/model-shape.ts';
import {
  evaluateRewards, initRewardHead, loadRewardHead, pairBatch, pairMetrics, pairwiseLoss, REWARD_HEAD_TENSOR, rewards, rewardStep,
  saveRewardModel, sequenceClassificationClass,
} from '../../src/train/reward-model.ts';
import { CheckpointableAdamW } from '../../src/autograd/optim/adam.ts';
import { TrainableModel } from '../../src/train/trainable-model.ts';

const root = mkdtempSync(join(tmpdir(), 'linscope-reward-'));
after(() => rmSync(root, { recursive: true, force: true }));

const softplusNeg = (d: number) => Math.log(1 + Math.exp(-d)); // −log σ(d)
const sigmoid = (d: number) => 1 / (1 + Math.exp(-d));

test('pairwise loss = mean −log σ(r_c − r_r), gradient ∓(1 − σ(d))/P', () => {
  const r = [0.3, -1.2, 2.0, 2.5, -0.7, -0.1];
  const v = param(new Tensor(Float64Array.from(r), [6, 1]));
  const loss = pairwiseLoss(v);
  const ds = [r[0] - r[1], r[2] - r[3], r[4] - r[5]];
  const want = ds.reduce((s, d) => s + softplusNeg(d), 0) / 3;
  assert.ok(Math.abs(loss.item() - want) < 1e-12, `${loss.item()} vs ${want}`);
  backward(loss);
  const g = v.grad!.data;
  ds.forEach((d, p) => {
    assert.ok(Math.abs(g[2 * p] - -(1 - sigmoid(d)) / 3) < 1e-12);
    assert.ok(Math.abs(g[2 * p + 1] - (1 - sigmoid(d)) / 3) < 1e-12);
  });
});

test('pair metrics: ties count as wrong; loss and margin', () => {
  const m = pairMetrics([1, 0, 0, 0, -1, 2]);
  assert.equal(m.pairs, 3);
  assert.equal(m.pairwiseAccuracy, 1 / 3);
  assert.ok(Math.abs(m.loss - (softplusNeg(1) + softplusNeg(0) + softplusNeg(-3)) / 3) < 1e-12);
  assert.ok(Math.abs(m.meanMargin - (1 + 0 - 3) / 3) < 1e-12);
  assert.ok(Number.isFinite(pairMetrics([800, -800, -800, 800]).loss));
});

const shape: ModelShape = { vocabSize: 40, hiddenSize: 16, intermediateSize: 32, numLayers: 2, numHeads: 2, maxPositions: 32, initializerRange: 0.2, eosTokenId: 2 };

for (const arch of ['llama', 'gpt2'] as const) {
  test(`${arch}: reward of a padded batch = score.weight · final hidden state of the last token, each sequence alone`, () => {
    const model = TrainableModel.initialize(hfConfig({ ...shape, arch }), new Rng(3));
    const head = initRewardHead(model, new Rng(4));
    const seqs = [[5, 6, 7, 8, 9], [5, 6, 11], [3, 4], [3, 4, 12, 13, 14, 15, 16]];
    const b = pairBatch([{ chosen: seqs[0], rejected: seqs[1] }, { chosen: seqs[2], rejected: seqs[3] }], 0);
    const got = noGrad(() => rewards(model, head, b).rewards.value.data);
    seqs.forEach((ids, i) => {
      const normed = model.evaluate(ids, 1, ids.length).normed.value.data;
      const D = shape.hiddenSize;
      let want = 0;
      for (let j = 0; j < D; j++) want += head.value.data[j] * normed[(ids.length - 1) * D + j];
      assert.ok(Math.abs(got[i] - want) < 1e-5, `sequence ${i}: ${got[i]} vs ${want}`);
    });
  });
}

test('training steps raise the pairwise accuracy on the pairs trained on; the export carries the head and names the class', async () => {
  const model = TrainableModel.initialize(hfConfig(shape), new Rng(5));
  const head = initRewardHead(model, new Rng(6));
  const rng = new Rng(7);
  const pairs = Array.from({ length: 6 }, () => ({ chosen: [1, ...Array.from({ length: 5 }, () => 3 + rng.int(30))], rejected: [1, ...Array.from({ length: 4 }, () => 3 + rng.int(30))] }));
  const b = pairBatch(pairs, 0);
  const opt = new CheckpointableAdamW([...model.params.values(), head], { lr: 1e-2, betas: [0.9, 0.95], weightDecay: 0 });
  const first = rewardStep(model, head, opt, b, 1e-2, 1);
  let last = first;
  for (let i = 0; i < 15; i++) last = rewardStep(model, head, opt, b, 1e-2, 1);
  assert.ok(last.loss < first.loss, `${first.loss} → ${last.loss}`);
  assert.equal(evaluateRewards(model, head, [b]).pairwiseAccuracy, 1);

  const dir = join(root, 'reward');
  const padding = saveRewardModel(dir, model, head, undefined, pairs.flatMap((p) => [p.chosen, p.rejected]));
  assert.deepEqual([padding.padId, padding.added], [2, false]); // the EOS occurs in no sequence: it pads
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['LlamaForSequenceClassification']);
  assert.equal(config.num_labels, 1);
  assert.equal(config.pad_token_id, 2);
  const source = await openModelSource(dir);
  const back = loadRewardHead(source, TrainableModel.fromSource(source))!;
  assert.deepEqual(Array.from(back.value.data), Array.from(head.value.data));
  assert.equal(back.value.shape.join(','), `1,${shape.hiddenSize}`);
  assert.ok(source.hasTensor(REWARD_HEAD_TENSOR));
});

test('class names: LlamaForCausalLM, GPT2LMHeadModel map; anything else is refused', () => {
  assert.equal(sequenceClassificationClass({ architectures: ['LlamaForCausalLM'] }), 'LlamaForSequenceClassification');
  assert.equal(sequenceClassificationClass({ architectures: ['GPT2LMHeadModel'] }), 'GPT2ForSequenceClassification');
  assert.throws(() => sequenceClassificationClass({ architectures: ['LinscopeForCausalLM2'] }), /refusing to export the reward model without its head/);
  assert.throws(() => sequenceClassificationClass({}), /refusing/);
});
