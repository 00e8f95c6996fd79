import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/tensor/random.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { openSafetensors, writeShardedSafetensors } from '../../src/io/safetensors.ts';
import { fixtureArchs, fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';
import { startFakeHub } from './fake-hub.ts';
import { tinyTokenizerConfig, tinyTokenizerJson } from './tiny-tokenizer.ts';

function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-src-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`fixtures/${arch} opens as a safetensors ModelSource`, { skip: skipUnless(dir) }, async () => {
    const src = await openModelSource(dir);
    assert.equal(src.format, 'safetensors');
    assert.equal(src.dir, dir);
    assert.equal(src.config.model_type, arch);
    const file = openSafetensors(join(dir, 'model.safetensors'));
    assert.deepEqual(src.tensorNames(), file.names());
    const name = src.tensorNames()[0];
    assert.ok(src.hasTensor(name));
    assert.equal(src.hasTensor('no.such.weight'), false);
    assert.deepEqual([...src.getTensor(name).shape], src.tensorShape(name));
    assert.deepEqual(src.getTensor(name, 'float64').toArray(), file.readTensor(name).toArray());
    assert.equal(await src.tokenizer(), undefined, 'fixtures ship no tokenizer');
    assert.throws(() => src.getTensor('no.such.weight'), /model\.safetensors: no tensor named "no\.such\.weight"/);
  });
}

test('stories260K opens from its folder or from the .bin path, with its tok512 tokenizer', { skip: skipUnless(stories260KDir) }, async () => {
  const ref = JSON.parse(readFileSync(join(stories260KDir, 'reference-greedy.json'), 'utf8'));
  for (const where of [stories260KDir, join(stories260KDir, 'stories260K.bin')]) {
    const src = await openModelSource(where);
    assert.equal(src.format, 'llama2c');
    assert.equal(src.dir, stories260KDir);
    assert.equal(src.config.model_type, 'llama');
    assert.equal(src.config.tie_word_embeddings, true);
    assert.deepEqual(src.tensorShape('model.layers.0.self_attn.k_proj.weight'), [32, 64]);
    assert.equal(src.getTensor('model.embed_tokens.weight').dtype, 'float32');
    const tok = await src.tokenizer();
    assert.ok(tok);
    assert.equal(tok.vocabSize, 512);
    assert.equal(tok.decode(ref.tokens_including_bos), ref.text);
    assert.equal(await src.tokenizer(), tok, 'tokenizer is loaded once');
  }
});

test('sharded BF16 checkpoint with tokenizer.json: tensors upcast to float32', async () => {
  await withTempDir(async (dir) => {
    const rng = new Rng(4);
    const tensors: Record<string, Tensor> = {};
    for (let i = 0; i < 4; i++) {
      const t = Tensor.zeros([16, 16]);
      for (let j = 0; j < t.size; j++) t.data[j] = rng.uniform() - 0.5;
      tensors[`model.layers.${i}.mlp.down_proj.weight`] = t;
    }
    writeShardedSafetensors(dir, tensors, { maxShardBytes: 1100, dtype: 'BF16' });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', bos_token_id: 0 }));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tinyTokenizerConfig()));
    const src = await openModelSource(dir);
    assert.equal(src.tensorNames().length, 4);
    const w = src.getTensor('model.layers.3.mlp.down_proj.weight');
    assert.equal(w.dtype, 'float32');
    const orig = tensors['model.layers.3.mlp.down_proj.weight'];
    for (let j = 0; j < w.size; j++) assert.ok(Math.abs(w.data[j] - orig.data[j]) <= 2 ** -8 * Math.abs(orig.data[j]));
    const tok = await src.tokenizer();
    assert.deepEqual(tok!.encode('the cat').slice(0, 1), [0]);
  });
});

test('clear errors for folders without readable weights', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(openModelSource(dir), /no model weights found \(expected model\.safetensors/);
    writeFileSync(join(dir, 'pytorch_model.bin'), 'pickle');
    await assert.rejects(openModelSource(dir), /has PyTorch weights \(pytorch_model\.bin\) but no config\.json/);
    writeFileSync(join(dir, 'config.json'), '{"model_type": "gpt2"}');
    await assert.rejects(openModelSource(dir), /pytorch_model\.bin: not a PyTorch checkpoint/);
    rmSync(join(dir, 'config.json'));
    const st = join(dir, 'st');
    mkdirSync(st);
    copyFileSync(join(fixturesDir, 'gpt2', 'model.safetensors'), join(st, 'model.safetensors'));
    await assert.rejects(openModelSource(st), /has safetensors weights \(model\.safetensors\) but no config\.json/);
    await assert.rejects(openModelSource(join(dir, 'pytorch_model.bin')), /not a model file linscope can read/);
  });
});

test('a hub id is downloaded into the cache and opened (loopback fake hub)', { skip: skipUnless(join(fixturesDir, 'llama')) }, async () => {
  const files: Record<string, Buffer> = {};
  for (const f of ['config.json', 'model.safetensors']) files[f] = readFileSync(join(fixturesDir, 'llama', f));
  const hub = await startFakeHub([{ id: 'fixtures/llama', sha: 'c'.repeat(40), files, lfs: ['model.safetensors'] }]);
  const hubEnv = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE'];
  const saved = Object.fromEntries(hubEnv.map((k) => [k, process.env[k]]));
  for (const k of hubEnv) delete process.env[k];
  try {
    await withTempDir(async (cacheDir) => {
      const src = await openModelSource('fixtures/llama', { hubUrl: hub.url, cacheDir });
      assert.equal(src.dir, join(cacheDir, 'models--fixtures--llama', 'snapshots', 'c'.repeat(40)));
      assert.equal(src.config.num_key_value_heads, 2);
      const local = await openModelSource(join(fixturesDir, 'llama'));
      assert.deepEqual(src.getTensor('model.norm.weight').toArray(), local.getTensor('model.norm.weight').toArray());
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    await hub.close();
  }
});
