/**
 * Export of pruned models on the shared HF fixtures: dropped blocks renumbered, 'mlp' maps folded
 * into the previous block's MLP output projection where exact, other maps stored in the linscope
 * format (with linscope's modeling file); reloading gives the pruned model's logits (to 1e-5). Folding is checked to leave no
 * `linscope` key behind, and the renamed tensors are checked against the source by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, type DecoderModel } from '../../src/models/decoder.ts';
import { exportPrunedModel, mlpFoldProblem, prunedConfig } from '../../src/prune/export.ts';
import { loadPrunedCheckpoint } from '../../src/prune/load.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import type { LinearMap, MapInput } from '../../src/prune/types.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';

const ids = [[5, 17, 3, 99, 42, 7, 8, 250, 11, 64], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]];

function randomMap(d: number, input: MapInput, seed: number, bias = true): LinearMap {
  const rng = new Rng(seed);
  const weight = Tensor.zeros([d, d], 'float64');
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) weight.data[i * d + j] = (i === j ? 1 : 0) + 0.05 * rng.normal();
  const b = bias ? Tensor.from(Array.from({ length: d }, () => 0.1 * rng.normal()), [d], 'float64') : undefined;
  return { input, weight, ...(b ? { bias: b } : {}) };
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

async function roundTrip(model: DecoderModel, pruned: PrunedModel) {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-prune-'));
  try {
    const result = exportPrunedModel(dir, pruned);
    const reloaded = await loadPrunedCheckpoint(dir);
    const expected = pruned.forward(ids).logits;
    const got = reloaded.forward(ids).logits;
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    return { result, diff: maxAbsDiff(expected, got), config, reloaded, dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const archs = ['llama', 'gpt2', 'opt', 'gpt_neox', 'phi', 'bloom', 'gptj', 'qwen2', 'mistral'] as const;

for (const arch of archs) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: mlp map folded (when exact) + residual map stored + drop → reload matches`, { skip: skipUnless(dir) }, async () => {
    const model = await loadModel(dir);
    const d = model.config.hiddenSize;
    const foldable = mlpFoldProblem(model, 0, randomMap(d, 'mlp', 1, true)) === undefined;
    const pruned = new PrunedModel(model, [
      { start: 1, count: 1, map: randomMap(d, 'mlp', 1, true) },
      { start: 3, count: 1, map: randomMap(d, 'residual', 2, true) },
    ]);
    const { result, diff, config } = await roundTrip(model, pruned);
    assert.deepEqual(result.keptBlocks, [0, 2]);
    assert.equal(result.numLayers, 2);
    assert.equal(result.folded.length, foldable ? 1 : 0);
    assert.equal(result.stored.length, foldable ? 1 : 2);
    assert.equal(result.stored[result.stored.length - 1].after_layer, 1);
    assert.equal(config.linscope.linear_maps.length, result.stored.length);
    assert.ok(diff < 1e-5, `logits differ by ${diff}`);
  });

  test(`${arch}: map on the embeddings + dropped span → reload matches`, { skip: skipUnless(dir) }, async () => {
    const model = await loadModel(dir);
    const d = model.config.hiddenSize;
    const pruned = new PrunedModel(model, [{ start: 0, count: 1, map: randomMap(d, 'residual', 3, false) }, { start: 2, count: 2 }]);
    const { result, diff } = await roundTrip(model, pruned);
    assert.deepEqual(result.keptBlocks, [1]);
    assert.equal(result.stored[0].after_layer, -1);
    assert.equal(result.stored[0].bias, null);
    assert.ok(diff < 1e-5, `logits differ by ${diff}`);
  });
}

test('llama: a bias-free mlp map folds into down_proj (plain HF checkpoint, no linscope key)', { skip: skipUnless(join(fixturesDir, 'llama')) }, async () => {
  const model = await loadModel(join(fixturesDir, 'llama'));
  const d = model.config.hiddenSize;
  assert.match(mlpFoldProblem(model, 1, randomMap(d, 'mlp', 4, true)) ?? '', /has none/);
  const pruned = new PrunedModel(model, [{ start: 2, count: 2, map: randomMap(d, 'mlp', 4, false) }]);
  const { result, diff, config } = await roundTrip(model, pruned);
  assert.equal(result.folded.length, 1);
  assert.equal(result.folded[0].tensor, 'model.layers.1.mlp.down_proj.weight');
  assert.equal(config.linscope, undefined);
  assert.equal(config.num_hidden_layers, 2);
  // the plain loader reads the folded checkpoint as is
  assert.ok(diff < 1e-5, `logits differ by ${diff}`);
});

test('dropping only: renumbered tensors are the kept blocks\' tensors, byte for byte', { skip: skipUnless(join(fixturesDir, 'gpt2')) }, async () => {
  const model = await loadModel(join(fixturesDir, 'gpt2'));
  const pruned = new PrunedModel(model, [{ start: 1, count: 2 }]);
  const dir = mkdtempSync(join(tmpdir(), 'linscope-prune-'));
  try {
    exportPrunedModel(dir, pruned);
    const plain = await loadModel(dir);
    assert.equal(plain.numLayers, 2);
    const proj = (m: DecoderModel, layer: number) => m.blockWeightNames(layer).find((n) => n.endsWith('mlp.c_proj.weight'))!;
    assert.match(proj(plain, 1), /h\.1\.mlp\.c_proj\.weight$/);
    assert.deepEqual(plain.getWeight(proj(plain, 1)).data, model.getWeight(proj(model, 3)).data);
    assert.deepEqual(plain.getWeight(proj(plain, 0)).data, model.getWeight(proj(model, 0)).data);
    assert.ok(!existsSync(join(dir, 'linscope_linear_maps.safetensors')));
    assert.ok(maxAbsDiff(plain.forward(ids).logits, pruned.forward(ids).logits) < 1e-6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prunedConfig: layer count keys and per-layer lists follow the kept blocks', () => {
  const c = prunedConfig({ n_layer: 4, layer_types: ['a', 'b', 'c', 'd'], architectures: ['X'], linscope: { old: true } }, [0, 3], 4);
  assert.equal(c.n_layer, 2);
  assert.deepEqual(c.layer_types, ['a', 'd']);
  assert.deepEqual(c.architectures, ['X']);
  assert.equal(c.linscope, undefined);
  assert.equal(prunedConfig({}, [1], 2).num_hidden_layers, 1);
});

test('stories260K (llama2.c): export with a stored map reloads to the same logits', { skip: skipUnless(stories260KDir) }, async () => {
  const model = await loadModel(stories260KDir);
  const pruned = new PrunedModel(model, [{ start: 2, count: 1, map: randomMap(model.config.hiddenSize, 'residual', 5) }]);
  const { result, diff, config } = await roundTrip(model, pruned);
  assert.equal(result.numLayers, 4);
  assert.equal(config.num_hidden_layers, 4);
  assert.ok(diff < 1e-5, `logits differ by ${diff}`);
});

test('loadModel (every command) runs an export\'s maps; the folder is marked for transformers\' custom-code mechanism', { skip: skipUnless(join(fixturesDir, 'llama')) }, async () => {
  const model = await loadModel(join(fixturesDir, 'llama'));
  const pruned = new PrunedModel(model, [{ start: 1, count: 1, map: randomMap(model.config.hiddenSize, 'residual', 9) }]);
  const dir = mkdtempSync(join(tmpdir(), 'linscope-prune-'));
  try {
    const result = exportPrunedModel(dir, pruned);
    assert.equal(result.customCode, true);
    const plain = await loadModel(dir);
    assert.equal(plain.numLayers, 3);
    assert.equal(plain.linearMaps.length, 1);
    assert.ok(maxAbsDiff(plain.forward(ids).logits, pruned.forward(ids).logits) < 1e-5);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(config.model_type, 'linscope_llama');
    assert.deepEqual(config.architectures, ['LinscopeForCausalLM']);
    assert.equal(config.auto_map.AutoModelForCausalLM, 'modeling_linscope.LinscopeForCausalLM');
    assert.equal(config.linscope.base_model_type, 'llama');
    assert.deepEqual(config.linscope.base_architectures, ['LlamaForCausalLM']);
    assert.match(readFileSync(join(dir, 'modeling_linscope.py'), 'utf8'), /^BASE_MODEL_TYPE = "llama"$/m);
    assert.ok(!existsSync(join(dir, 'linscope_linear_maps.safetensors')));
    // pruning the export again carries its map with the block it follows
    const again = new PrunedModel(plain, [{ start: 2, count: 1 }]);
    const dir2 = `${dir}-again`;
    try {
      const r2 = exportPrunedModel(dir2, again);
      assert.equal(r2.stored.length, 1);
      const reloaded = await loadModel(dir2);
      assert.ok(maxAbsDiff(reloaded.forward(ids).logits, again.forward(ids).logits) < 1e-5);
      // dropping the block the map follows drops the map too: a vanilla folder again
      const r3 = exportPrunedModel(dir2, new PrunedModel(plain, [{ start: 0, count: 1 }]));
      assert.equal(r3.stored.length, 0);
      assert.equal(r3.customCode, false);
      assert.equal(JSON.parse(readFileSync(join(dir2, 'config.json'), 'utf8')).model_type, 'llama');
      assert.ok(!existsSync(join(dir2, 'modeling_linscope.py')));
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an older export (format 1: maps in linscope_linear_maps.safetensors, base model_type) still loads with its maps', { skip: skipUnless(join(fixturesDir, 'llama')) }, async () => {
  const { loadSafetensors, writeSafetensors } = await import('../../src/io/safetensors.ts');
  const { writeFileSync } = await import('node:fs');
  const model = await loadModel(join(fixturesDir, 'llama'));
  const pruned = new PrunedModel(model, [{ start: 1, count: 1, map: randomMap(model.config.hiddenSize, 'residual', 12) }]);
  const dir = mkdtempSync(join(tmpdir(), 'linscope-prune-v1-'));
  try {
    exportPrunedModel(dir, pruned);
    // rewrite it the way format 1 stored it
    const all = loadSafetensors(join(dir, 'model.safetensors')) as Record<string, Tensor>;
    const maps = Object.fromEntries(Object.entries(all).filter(([n]) => n.startsWith('linscope_maps.')).map(([n, t]) => [n.replace('linscope_maps.', 'linear_maps.'), t]));
    writeSafetensors(join(dir, 'model.safetensors'), Object.fromEntries(Object.entries(all).filter(([n]) => !n.startsWith('linscope_maps.'))));
    writeSafetensors(join(dir, 'linscope_linear_maps.safetensors'), maps);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const entry = config.linscope.linear_maps[0];
    config.linscope = { format: 1, linear_maps: [{ ...entry, weight: 'linear_maps.0.weight', bias: 'linear_maps.0.bias' }] };
    config.model_type = 'llama';
    config.architectures = ['LlamaForCausalLM'];
    delete config.auto_map;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const reloaded = await loadModel(dir);
    assert.equal(reloaded.linearMaps.length, 1);
    assert.ok(maxAbsDiff(reloaded.forward(ids).logits, pruned.forward(ids).logits) < 1e-5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
