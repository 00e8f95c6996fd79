/**
 * `pretrain --arch`: for every architecture, the HF config of a model shape normalises to that
 * architecture, a fresh TrainableModel has the counted parameters, trains one step, and its saved HF
 * folder loads in the inference runtime with the same logits. Invalid shapes get one clear line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { backward, crossEntropy } from '../../src/autograd/index.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { Rng } from '../../src/tensor/random.ts';
import { saveHFModel } from '../../src/train/hf-folder.ts';
import { checkShape, hfConfig, parameterCount, PRETRAIN_ARCHS, type ModelShape } from '../../src/train/model-shape.ts';
import { parsePretrainConfig } from '../../src/train/pretrain-config.ts';
import { TrainableModel } from '../../src/train/trainable-model.ts';

const root = mkdtempSync(join(tmpdir(), 'linscope-arch-'));
after(() => rmSync(root, { recursive: true, force: true }));

const base: ModelShape = { vocabSize: 40, hiddenSize: 16, intermediateSize: 64, numLayers: 2, numHeads: 2, maxPositions: 32, initializerRange: 0.2 };

for (const arch of PRETRAIN_ARCHS) {
  test(`${arch}: HF config, parameter count, a training step, and a saved folder the runtime loads`, async () => {
    const shape: ModelShape = { ...base, arch, ...(arch === 'llama' || arch === 'mistral' ? { numKvHeads: 1 } : {}) };
    const config = hfConfig(shape);
    assert.equal(config.model_type, arch);
    const model = TrainableModel.initialize(config, new Rng(1));
    assert.equal(model.parameterCount, parameterCount(shape));
    const rng = new Rng(2);
    const ids = Array.from({ length: 12 }, () => rng.int(40));
    const loss = crossEntropy(model.forward(ids, 2, 6).logits, ids);
    backward(loss);
    assert.ok([...model.params.values()].some((p) => p.grad !== null));
    const dir = join(root, arch);
    saveHFModel(dir, model);
    const runtime = await loadModel(dir);
    assert.equal(runtime.config.modelType, arch);
    const ref = runtime.forward([ids.slice(0, 6), ids.slice(6)]).logits;
    assert.ok(maxAbsDiff(model.evaluate(ids, 2, 6).logits.value, ref) < 1e-4);
  });
}

test('invalid shapes: one clear line', () => {
  assert.throws(() => checkShape({ ...base, arch: 'gpt2', numKvHeads: 1 }), /gpt2 has no grouped-query attention/);
  assert.throws(() => checkShape({ ...base, arch: 'bloom', intermediateSize: 48 }), /BLOOM's MLP is always 4·hiddenSize = 64 wide/);
  assert.throws(() => checkShape({ ...base, arch: 'mamba' as never }), /arch "mamba" is not one of llama, mistral/);
});

test('config model.arch: accepted, and a typo gets a did-you-mean', () => {
  const cfg = { model: { arch: 'gpt2', hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 64 }, tokenizer: { vocabSize: 300 } };
  assert.equal(parsePretrainConfig(cfg).model.arch, 'gpt2');
  assert.equal(parsePretrainConfig({ ...cfg, model: { ...cfg.model, arch: undefined } }).model.arch, undefined);
  assert.throws(() => parsePretrainConfig({ ...cfg, model: { ...cfg.model, arch: 'gtp2' } }), /"model.arch" must be one of .* \(did you mean "gpt2"\?\)/);
});
