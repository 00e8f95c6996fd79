/**
 * The pruned-model wrapper: no replacement = the original forward; a dropped span = running the
 * kept blocks by hand; an identity map = a drop; an 'mlp' map = the previous block's MLP output
 * replaced by m·A + b; padding does not change real-token logits; invalid replacement lists fail
 * with clear messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/models/decoder.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import type { LinearMap } from '../../src/prune/types.ts';
import { matmul } from '../../src/tensor/matmul.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';
import { maxAbsDiff } from './helpers.ts';

const ids = [[1, 403, 407, 261, 378, 290, 15, 99], [1, 5, 6, 7, 8, 9, 10, 11]];
const skip = skipUnless(stories260KDir);

function identity(d: number, input: LinearMap['input'] = 'residual'): LinearMap {
  const w = Tensor.zeros([d, d], 'float64');
  for (let i = 0; i < d; i++) w.data[i * d + i] = 1;
  return { input, weight: w };
}

test('no replacement: logits identical to the model', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const pruned = new PrunedModel(model);
  assert.deepEqual(pruned.forward(ids).logits.data, model.forward(ids).logits.data);
  assert.equal(pruned.numLayers, 5);
  assert.deepEqual(pruned.keptBlocks(), [0, 1, 2, 3, 4]);
});

test('dropping blocks 1-2 = running blocks 0, 3, 4 by hand; an identity map = a drop', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const { hidden, ctx } = model.embed(ids);
  let h = hidden;
  for (const i of [0, 3, 4]) h = model.runBlock(i, h, ctx).hidden;
  const expected = model.lmHead(model.finalNorm(h));
  const dropped = new PrunedModel(model, [{ start: 1, count: 2 }]);
  assert.deepEqual(dropped.forward(ids).logits.data, expected.data);
  assert.deepEqual(dropped.keptBlocks(), [0, 3, 4]);
  assert.equal(dropped.numLayers, 3);
  const identityMap = new PrunedModel(model, [{ start: 1, count: 2, map: identity(64) }]);
  assert.ok(maxAbsDiff(identityMap.forward(ids).logits.data, expected.data) < 1e-6);
  const identityMlp = new PrunedModel(model, [{ start: 1, count: 2, map: identity(64, 'mlp') }]);
  assert.ok(maxAbsDiff(identityMlp.forward(ids).logits.data, expected.data) < 1e-5);
});

test("an 'mlp' map replaces the previous block's MLP output m by m·A + b; a residual map gives h·A + b", { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const rng = new Rng(2);
  const d = 64;
  const map: LinearMap = { input: 'mlp', weight: rng.randn([d, d], 0.2, 'float64'), bias: rng.randn([d], 0.1, 'float64') };
  const { hidden, ctx } = model.embed(ids);
  const b0 = model.runBlock(0, hidden, ctx);
  const m = b0.mlpOut;
  const mapped = matmul(m, map.weight.to('float32'));
  const h = b0.hidden.clone();
  for (let r = 0; r < h.size / d; r++) for (let j = 0; j < d; j++) h.data[r * d + j] += mapped.data[r * d + j] - m.data[r * d + j] + map.bias!.data[j];
  let s = h;
  for (const i of [2, 3, 4]) s = model.runBlock(i, s, ctx).hidden;
  const expected = model.lmHead(model.finalNorm(s));
  const got = new PrunedModel(model, [{ start: 1, count: 1, map }]).forward(ids).logits;
  assert.ok(maxAbsDiff(got.data, expected.data) < 1e-4, `${maxAbsDiff(got.data, expected.data)}`);

  const residual: LinearMap = { ...map, input: 'residual' };
  const hr = matmul(b0.hidden, residual.weight.to('float32'));
  for (let r = 0; r < hr.size / d; r++) for (let j = 0; j < d; j++) hr.data[r * d + j] += residual.bias!.data[j];
  let sr = hr;
  for (const i of [2, 3, 4]) sr = model.runBlock(i, sr, ctx).hidden;
  const got2 = new PrunedModel(model, [{ start: 1, count: 1, map: residual }]).forward(ids).logits;
  assert.ok(maxAbsDiff(got2.data, model.lmHead(model.finalNorm(sr)).data) < 1e-4);
});

test('right padding leaves real-token logits unchanged', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  const pruned = new PrunedModel(model, [{ start: 2, count: 1, map: identity(64) }, { start: 4, count: 1 }]);
  const short = ids[1].slice(0, 5);
  const alone = pruned.forward([short]).logits;
  const padded = pruned.forward([ids[0], [...short, 0, 0, 0]], { attentionMask: [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0, 0]] }).logits;
  const V = 512;
  assert.ok(maxAbsDiff(padded.data.subarray(8 * V, 13 * V), alone.data) < 1e-5);
});

test('invalid replacement lists are rejected with clear messages', { skip }, async () => {
  const model = await loadModel(stories260KDir);
  assert.throws(() => new PrunedModel(model, [{ start: 4, count: 2 }]), /outside the model's 5 blocks/);
  assert.throws(() => new PrunedModel(model, [{ start: 1, count: 2 }, { start: 2, count: 1 }]), /overlap at block 2/);
  assert.throws(() => new PrunedModel(model, [{ start: 0, count: 1, map: identity(64, 'mlp') }]), /must be kept/);
  assert.throws(() => new PrunedModel(model, [{ start: 1, count: 1 }, { start: 2, count: 1, map: identity(64, 'mlp') }]), /must be kept/);
  assert.throws(() => new PrunedModel(model, [{ start: 1, count: 1, map: identity(32) }]), /must be \[64, 64\]/);
  assert.throws(() => new PrunedModel(model, [{ start: 1, count: 0 }]), /needs a map/);
});
