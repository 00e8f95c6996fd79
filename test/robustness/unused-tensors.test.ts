/**
 * Item 8 of issue #13: a config with fewer layers than the checkpoint loaded silently, ignoring the
 * extra tensors. As Hugging Face does, the loader now warns about tensors it does not use (one line,
 * names abbreviated with counts) and names the missing ones in its error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, loadModel } from '../../src/models/decoder.ts';
import { memorySource } from '../../src/models/memory-source.ts';
import { randomWeightSource } from '../../src/models/random-weights.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';
import { buildExport } from '../helpers/export-kinds.ts';

/** console.warn lines printed while `fn` runs. */
async function warnings(fn: () => unknown): Promise<string[]> {
  const lines: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await fn();
  } finally {
    console.warn = warn;
  }
  return lines;
}

const llama = join(fixturesDir, 'llama');
const root = mkdtempSync(join(tmpdir(), 'linscope-unused-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('a config with fewer layers than the checkpoint warns once, abbreviated', { skip: skipUnless(llama) }, async () => {
  const dir = join(root, 'fewer');
  mkdirSync(dir);
  copyFileSync(join(llama, 'model.safetensors'), join(dir, 'model.safetensors'));
  const config = JSON.parse(readFileSync(join(llama, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 2 }));
  const lines = await warnings(() => loadModel(dir));
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0], /18 tensors of the checkpoint are not used by this llama model \(2 layers in config\.json\): model\.layers\.\{2–3\}\.\* \(18 tensors\)/);
  assert.ok(lines[0].includes(dir), lines[0]);
});

test('an unknown extra tensor is named; benign buffers and LASER factors are not', async () => {
  const config = { model_type: 'gpt2', n_embd: 16, n_head: 2, n_layer: 1, n_positions: 8, vocab_size: 20 };
  const good = randomWeightSource(config);
  const tensors = new Map(good.tensorNames!().map((n) => [n, good.getTensor(n)]));
  tensors.set('transformer.h.0.attn.bias', Tensor.zeros([1, 1, 8, 8]));
  tensors.set('transformer.h.0.attn.masked_bias', Tensor.zeros([1]));
  tensors.set('transformer.h.0.mlp.c_fc.weight.laser_left', Tensor.zeros([16, 2]));
  tensors.set('linear_maps.0.weight', Tensor.zeros([16, 16]));
  assert.deepEqual(await warnings(() => createModel(memorySource(config, tensors))), []);
  tensors.set('transformer.h.0.adapter.weight', Tensor.zeros([4, 16]));
  const lines = await warnings(() => createModel(memorySource(config, tensors)));
  assert.equal(lines.length, 1);
  assert.match(lines[0], /1 tensor of the checkpoint is not used .*"transformer\.h\.0\.adapter\.weight"/);
});

test('missing tensors are summarised with counts in the error', () => {
  const config = { model_type: 'gpt2', n_embd: 16, n_head: 2, n_layer: 3, n_positions: 8, vocab_size: 20 };
  const good = randomWeightSource(config);
  const small = new Map(good.tensorNames!().filter((n) => !/\.h\.[12]\./.test(n)).map((n) => [n, good.getTensor(n)]));
  assert.throws(() => createModel(memorySource(config, small)), /lacks 24 tensor\(s\) the model needs: transformer\.h\.\{1–2\}\.\* \(24 tensors\)/);
});

test('the linear maps of a pruned export are read, not reported as unused', { skip: skipUnless(llama) }, async () => {
  const dir = join(root, 'pruned');
  await buildExport('prune-linear', llama, dir);
  const lines = await warnings(() => loadModel(dir));
  assert.deepEqual(lines.filter((l) => l.includes('not used')), []);
});
