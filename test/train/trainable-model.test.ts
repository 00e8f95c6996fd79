import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { backward, crossEntropy } from '../../src/autograd/index.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { memorySource } from '../../src/models/memory-source.ts';
import { Rng } from '../../src/tensor/random.ts';
import { saveHFModel } from '../../src/train/hf-folder.ts';
import { hfConfig, parameterCount, type ModelShape } from '../../src/train/model-shape.ts';
import { TrainableModel } from '../../src/train/trainable-model.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';

const SHAPE: ModelShape = { vocabSize: 50, hiddenSize: 32, intermediateSize: 48, numLayers: 3, numHeads: 4, numKvHeads: 2, maxPositions: 16, tieWordEmbeddings: false, initializerRange: 0.2 };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function randomIds(rng: Rng, n: number, vocab: number): number[] {
  return Array.from({ length: n }, () => rng.int(vocab));
}

test('HF names, shapes and parameter count', () => {
  const m = TrainableModel.initialize(hfConfig(SHAPE), new Rng(1));
  assert.equal(m.parameterCount, parameterCount(SHAPE));
  assert.deepEqual(m.param('model.layers.0.self_attn.k_proj.weight').shape, [16, 32]);
  assert.deepEqual(m.param('model.layers.2.mlp.down_proj.weight').shape, [32, 48]);
  assert.deepEqual(m.param('lm_head.weight').shape, [50, 32]);
  assert.ok(m.param('model.norm.weight').value.data.every((x) => x === 1));
  // HF init: N(0, initializer_range²) matrices
  const q = m.param('model.layers.1.self_attn.q_proj.weight').value.data;
  let ss = 0;
  for (const x of q as Float32Array) ss += x * x;
  const std = Math.sqrt(ss / q.length);
  assert.ok(Math.abs(std - 0.2) < 0.02, `std ${std}`);
  const tied = TrainableModel.initialize(hfConfig({ ...SHAPE, tieWordEmbeddings: true }), new Rng(1));
  assert.equal(tied.params.has('lm_head.weight'), false);
});

test('logits and hidden states equal the inference runtime (untied and tied, GQA)', async () => {
  for (const tie of [false, true]) {
    const rng = new Rng(tie ? 3 : 2);
    const config = hfConfig({ ...SHAPE, tieWordEmbeddings: tie });
    const m = TrainableModel.initialize(config, rng);
    const runtime = await loadModel(memorySource(config, m.namedTensors()));
    const B = 2, T = 7;
    const rows = [randomIds(rng, T, SHAPE.vocabSize), randomIds(rng, T, SHAPE.vocabSize)];
    const ours = m.evaluate(rows.flat(), B, T);
    const ref = runtime.forward(rows, { outputHiddenStates: true });
    assert.deepEqual(ours.logits.shape, [B, T, SHAPE.vocabSize]);
    assert.ok(maxAbsDiff(ours.logits.value.data, ref.logits.data) < 1e-5);
    // HF hidden_states: embeddings and block outputs 0…L−2; the last block's raw output is preFinalNorm
    for (let i = 0; i < SHAPE.numLayers; i++) assert.ok(maxAbsDiff(ours.states[i].value.data, ref.hiddenStates![i].data) < 1e-5, `state ${i}`);
    assert.ok(maxAbsDiff(ours.states[SHAPE.numLayers].value.data, ref.preFinalNorm!.data) < 1e-5);
  }
});

test('gradient of the loss matches a finite difference along a random direction', () => {
  const rng = new Rng(5);
  const m = TrainableModel.initialize(hfConfig(SHAPE), rng);
  const B = 2, T = 5;
  const ids = randomIds(rng, B * T, SHAPE.vocabSize);
  const targets = randomIds(rng, B * T, SHAPE.vocabSize);
  const lossOf = () => crossEntropy(m.forward(ids, B, T).logits, targets);
  const loss = lossOf();
  backward(loss);
  const names = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.1.mlp.gate_proj.weight', 'model.embed_tokens.weight', 'model.layers.2.input_layernorm.weight'];
  for (const name of names) {
    const p = m.param(name);
    const dir = rng.randn(p.shape as number[], 1, 'float32');
    let analytic = 0;
    for (let i = 0; i < dir.size; i++) analytic += p.grad!.data[i] * dir.data[i];
    const h = 2e-3;
    const base = Float32Array.from(p.value.data);
    const at = (s: number) => {
      for (let i = 0; i < base.length; i++) p.value.data[i] = base[i] + s * h * dir.data[i];
      return lossOf().item();
    };
    const numeric = (at(1) - at(-1)) / (2 * h);
    p.value.data.set(base);
    assert.ok(Math.abs(numeric - analytic) < 2e-2 * Math.max(1, Math.abs(analytic)), `${name}: numeric ${numeric} vs analytic ${analytic}`);
  }
});

test('saved HF folder reloads through openModelSource / loadModel with identical logits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-train-'));
  try {
    const rng = new Rng(9);
    const m = TrainableModel.initialize(hfConfig({ ...SHAPE, tieWordEmbeddings: true }), rng);
    saveHFModel(dir, m);
    const source = await openModelSource(dir);
    assert.equal(source.config.model_type, 'llama');
    assert.deepEqual(source.config.architectures, ['LlamaForCausalLM']);
    assert.equal(source.hasTensor('lm_head.weight'), false);
    const runtime = await loadModel(source);
    const ids = randomIds(rng, 6, SHAPE.vocabSize);
    const ref = runtime.forward([ids]);
    assert.ok(maxAbsDiff(m.evaluate(ids, 1, 6).logits.value.data, ref.logits.data) < 1e-5);
    const back = TrainableModel.fromSource(source);
    assert.deepEqual(back.evaluate(ids, 1, 6).logits.value.data, m.evaluate(ids, 1, 6).logits.value.data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loads llama2.c stories260K for fine-tuning and agrees with the runtime', { skip: skipUnless(stories260KDir) }, async () => {
  const source = await openModelSource(stories260KDir);
  const m = TrainableModel.fromSource(source);
  assert.equal(m.numLayers, 5);
  assert.equal(m.config.numKvHeads, 4);
  const runtime = await loadModel(source);
  const ids = [1, 403, 407, 261, 378, 1247 % 512, 291, 309];
  const ref = runtime.forward([ids]);
  assert.ok(maxAbsDiff(m.evaluate(ids, 1, ids.length).logits.value.data, ref.logits.data) < 1e-4);
});

test('other architectures initialise in their own HF layout', () => {
  const gpt2 = TrainableModel.initialize({ model_type: 'gpt2', n_embd: 8, n_head: 2, n_layer: 1, vocab_size: 10, n_positions: 16 }, new Rng(1));
  assert.deepEqual(gpt2.param('transformer.h.0.attn.c_attn.weight').shape, [8, 24]);
  assert.ok(gpt2.param('transformer.h.0.ln_1.bias').value.data.every((x) => x === 0));
  assert.ok(gpt2.param('transformer.ln_f.weight').value.data.every((x) => x === 1));
  assert.throws(() => TrainableModel.initialize({ model_type: 'mamba', hidden_size: 8 }, new Rng(1)), /mamba/);
});
