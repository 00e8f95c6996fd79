/**
 * Evaluation: KL divergence by hand on tiny logits, KL of a model to itself, and the before/after
 * evaluation of a pruned stories260K (perplexity protocols from src/eval, KL > 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/models/decoder.ts';
import { evaluateModel, klSum, meanKlDivergence } from '../../src/prune/evaluate.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';

test('klSum: Σ p (log p − log q) per position, by hand', () => {
  const p = Tensor.from([0, Math.log(3), 1, 1], [1, 2, 2]);
  const q = Tensor.from([Math.log(3), 0, 5, 5], [1, 2, 2]);
  // position 0: p = (1/4, 3/4), q = (3/4, 1/4); position 1: both uniform
  const expected = 0.25 * Math.log(1 / 3) + 0.75 * Math.log(3);
  const { sum, count } = klSum(p, q);
  assert.equal(count, 2);
  assert.ok(Math.abs(sum - expected) < 1e-7);
  assert.equal(klSum(p, p).sum, 0);
});

test('stories260K: KL to itself is 0; a pruned model has KL > 0 and higher perplexity', { skip: skipUnless(stories260KDir) }, async () => {
  const model = await loadModel(stories260KDir);
  const ids = Array.from({ length: 200 }, (_, i) => (i === 0 ? 1 : 3 + ((i * 37) % 500)));
  const original = new PrunedModel(model);
  const self = await meanKlDivergence(original, model, { ids, maxLength: 64 });
  assert.equal(self.positions, 3 * 64);
  assert.ok(self.kl < 1e-9);
  const pruned = new PrunedModel(model, [{ start: 1, count: 2 }]);
  const ev = await evaluateModel(pruned, { ids, maxLength: 64, stride: 32 }, original);
  const base = await evaluateModel(original, { ids, maxLength: 64, stride: 32 }, original);
  assert.equal(base.kl, 0);
  assert.ok(ev.kl! > 0.01);
  assert.equal(ev.chunks.mode, 'chunks');
  assert.equal(ev.sliding!.stride, 32);
  assert.equal(ev.chunks.scoredTokens, 3 * 63);
  assert.notEqual(ev.chunks.perplexity, base.chunks.perplexity);
});
