import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { createModel, loadModel } from '../../src/models/decoder.ts';
import { memorySource } from '../../src/models/memory-source.ts';
import { randomWeightSource } from '../../src/models/random-weights.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';
import { positionsOf } from './consistency.ts';

const ids = [[10, 20, 30, 40, 50], [60, 70, 80, 90, 100]];

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: weightNames cover the checkpoint; embed → runBlock → finalNorm → lmHead equals forward`, { skip: skipUnless(dir) }, async () => {
    const model = await loadModel(dir);
    assert.deepEqual([...model.weightNames()].sort(), openSafetensors(join(dir, 'model.safetensors')).names().sort());
    const full = model.forward(ids, { outputHiddenStates: true });
    const { hidden, ctx } = model.embed(ids);
    let h = hidden;
    for (let i = 0; i < model.numLayers; i++) h = model.runBlock(i, h, ctx).hidden;
    assert.equal(maxAbsDiff(h, full.preFinalNorm!), 0);
    const normed = model.finalNorm(h);
    assert.equal(maxAbsDiff(normed, full.hiddenStates!.at(-1)!), 0);
    assert.equal(maxAbsDiff(model.lmHead(normed), full.logits), 0);
    assert.equal(full.hiddenStates!.length, model.numLayers + 1);
    const last = model.forward(ids, { lastTokenLogitsOnly: true }).logits;
    assert.deepEqual(last.shape, [2, 1, model.config.vocabSize]);
    // the last block runs on the last position only: equal to float32 rounding
    assert.ok(maxAbsDiff(positionsOf(full.logits, 1, 4, 5), positionsOf(last, 1, 0, 1)) < 1e-5);
  });
}

test('attention probabilities are causal distributions; float64 runs agree with float32', { skip: skipUnless(fixturesDir) }, async () => {
  const model = await loadModel(join(fixturesDir, 'qwen2'));
  const out = model.forward(ids, { keepAttentionProbs: true });
  assert.equal(out.attentions!.length, model.numLayers);
  const p = out.attentions![2];
  const [B, H, T, Tk] = p.shape;
  assert.deepEqual([B, H, T, Tk], [2, 4, 5, 5]);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    let s = 0;
    for (let j = 0; j < Tk; j++) {
      const v = p.get(b, h, i, j);
      if (j > i) assert.equal(v, 0);
      s += v;
    }
    assert.ok(Math.abs(s - 1) < 1e-6);
  }
  const m64 = await loadModel(join(fixturesDir, 'qwen2'), { dtype: 'float64' });
  const l64 = m64.forward(ids).logits;
  assert.equal(l64.dtype, 'float64');
  assert.ok(maxAbsDiff(l64, out.logits) < 1e-4);
});

test('getWeight / setWeight / resetWeight, in cached and streaming mode', { skip: skipUnless(fixturesDir) }, async () => {
  for (const streaming of [false, true]) {
    const model = await loadModel(join(fixturesDir, 'llama'), { streaming });
    const name = 'model.layers.1.mlp.down_proj.weight';
    const before = model.forward(ids).logits;
    const w = model.getWeight(name);
    model.setWeight(name, Tensor.zeros(w.shape));
    assert.deepEqual(model.modifiedWeightNames(), [name]);
    assert.equal(model.getWeight(name).data.every((v) => v === 0), true);
    const after = model.forward(ids, { outputBlockParts: true });
    assert.ok(maxAbsDiff(after.logits, before) > 1e-3);
    assert.equal(after.mlpOutputs![1].data.every((v) => v === 0), true);
    model.resetWeight(name);
    assert.equal(maxAbsDiff(model.forward(ids).logits, before), 0);
    assert.throws(() => model.setWeight(name, Tensor.zeros([3, 3])), /must have shape \[64, 160\], got \[3, 3\]/);
    assert.throws(() => model.getWeight('model.layers.9.mlp.down_proj.weight'), /not a weight of this llama model/);
    assert.throws(() => model.runBlock(4, before, model.embed(ids).ctx), /layer 4 is out of range: the model has 4 blocks/);
    assert.deepEqual(model.weightShape(name), [64, 160]);
    assert.equal(model.blockWeightNames(1).length, 9);
    assert.deepEqual(model.globalWeightNames(), ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight']);
  }
});

test('clear errors for bad checkpoints and bad inputs', () => {
  const config = { model_type: 'gpt2', n_embd: 16, n_head: 2, n_layer: 1, n_positions: 8, vocab_size: 20 };
  const good = randomWeightSource(config);
  const tensors = new Map(good.tensorNames!().map((n) => [n, good.getTensor(n)]));
  tensors.delete('transformer.h.0.mlp.c_fc.bias');
  assert.throws(() => createModel(memorySource(config, tensors)), /lacks 1 tensor\(s\) the model needs: "transformer.h.0.mlp.c_fc.bias"/);
  tensors.set('transformer.h.0.mlp.c_fc.bias', Tensor.zeros([3]));
  assert.throws(() => createModel(memorySource(config, tensors)), /"transformer.h.0.mlp.c_fc.bias" has shape \[3\], expected \[64\] from config.json/);
  assert.throws(() => createModel(memorySource({ ...config, model_type: 'llama' }, tensors)), /llama checkpoint has no token embedding \(looked for "model.embed_tokens.weight" or "embed_tokens.weight"\)/);

  const model = createModel(good);
  assert.throws(() => model.forward([[1, 2], [3]]), /row 1 has 1 entries, expected 2/);
  assert.throws(() => model.forward([[1, 2]], { attentionMask: [[1]] }), /attentionMask: row 0 has 1 entries/);
  assert.throws(() => model.forward([[1, 25]]), /token id 25 at position 1 is outside the vocabulary \(size 20\)/);
  assert.throws(() => model.forward([new Array(9).fill(1)]), /position 8 is beyond the model's 8 learned positions/);
  assert.throws(() => model.forward([]), /inputIds is empty/);
  const { cache } = model.forward([[1, 2]], { cache: true });
  assert.throws(() => model.forward([[1], [2]], { cache }), /the cache holds 1 sequences but inputIds has 2/);
});

test('prefixless checkpoints (e.g. hub GPT-2 "h.0.…" names) load under their own names', () => {
  const config = { model_type: 'gpt2', n_embd: 16, n_head: 2, n_layer: 1, n_positions: 8, vocab_size: 20 };
  const src = randomWeightSource(config);
  const stripped = new Map(src.tensorNames!().map((n) => [n.replace(/^transformer\./, ''), src.getTensor(n)]));
  const a = createModel(src);
  const b = createModel(memorySource(config, stripped));
  assert.ok(b.weightNames().includes('h.0.attn.c_attn.weight'));
  assert.equal(maxAbsDiff(a.forward([[1, 2, 3]]).logits, b.forward([[1, 2, 3]]).logits), 0);
});

test('streaming reads each block\'s tensors once per forward, block after block, and keeps none', () => {
  const config = { model_type: 'llama', hidden_size: 16, num_attention_heads: 2, num_hidden_layers: 3, intermediate_size: 24, vocab_size: 30 };
  const inner = randomWeightSource(config);
  const reads: string[] = [];
  const source = { ...inner, config, hasTensor: inner.hasTensor, getTensor: (name: string, dtype?: 'float32' | 'float64') => (reads.push(name), inner.getTensor(name, dtype)) };
  const model = createModel(source, { streaming: true });
  assert.deepEqual(reads, [], 'nothing is read at load time');
  model.forward([[1, 2, 3]]);
  const blockOf = (n: string) => Number(/layers\.(\d+)\./.exec(n)?.[1] ?? -1);
  const blocks = reads.map(blockOf).filter((b) => b >= 0);
  assert.deepEqual(blocks, [...blocks].sort((a, b) => a - b), 'blocks are loaded in order');
  for (let i = 0; i < 3; i++) assert.equal(blocks.filter((b) => b === i).length, 9, `block ${i}: 9 tensors read once`);
  reads.length = 0;
  model.forward([[1, 2, 3]]);
  assert.equal(reads.filter((n) => blockOf(n) >= 0).length, 27, 'read again on the next forward (nothing kept)');
  const cachedReads: string[] = [];
  const cached = createModel({ ...source, getTensor: (n: string, d?: 'float32' | 'float64') => (cachedReads.push(n), inner.getTensor(n, d)) });
  const loaded = cachedReads.length;
  cached.forward([[1, 2, 3]]);
  assert.equal(cachedReads.length, loaded, 'default mode reads everything once at load');
});
