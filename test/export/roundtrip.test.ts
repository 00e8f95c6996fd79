/**
 * Every export is the model linscope evaluated: for each shared fixture architecture and the
 * llama2.c stories260K model, every export kind (test/helpers/export-kinds.ts) reloaded through
 * `loadModel` — what every command taking --model uses — gives the intended model's logits to 1e-5,
 * and the folder is vanilla exactly when transformers can load it without custom code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/models/decoder.ts';
import { buildExport, EVAL_IDS, EXPORT_KINDS, kindApplies } from '../helpers/export-kinds.ts';
import { fixtureArchs, fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';

const CUSTOM_KINDS = new Set(['laser-factored', 'prune-linear', 'prune-linear-distil', 'prune-maps-unfolded']);
const models: [string, string][] = [...fixtureArchs.map((a) => [a, join(fixturesDir, a)] as [string, string]), ['stories260K', stories260KDir]];

for (const [name, dir] of models) {
  test(`${name}: every export kind reloads as the evaluated model (logits to 1e-5)`, { skip: skipUnless(dir) }, async () => {
    const root = mkdtempSync(join(tmpdir(), `linscope-export-${name}-`));
    try {
      for (const kind of EXPORT_KINDS) {
        if (!(await kindApplies(kind, dir))) continue;
        const out = join(root, kind);
        const built = await buildExport(kind, dir, out);
        const reloaded = await loadModel(out);
        const got = reloaded.forward(EVAL_IDS).logits;
        assert.deepEqual(got.shape, built.expected.shape, `${kind}: logits shape`);
        let worst = 0;
        for (let i = 0; i < got.size; i++) worst = Math.max(worst, Math.abs(got.data[i] - built.expected.data[i]));
        assert.ok(worst <= 1e-5, `${name} ${kind}: reload differs from the evaluated model by ${worst}`);
        const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
        const custom = existsSync(join(out, 'modeling_linscope.py'));
        assert.equal(custom, built.customCode, `${kind}: modeling file iff custom code`);
        assert.equal(custom, String(config.model_type).startsWith('linscope_'), `${kind}: model_type marks custom code`);
        if (CUSTOM_KINDS.has(kind)) assert.ok(custom, `${kind} must carry the modeling file`);
        if (kind === 'laser-dense' || kind === 'laser-bf16' || kind === 'prune-drop' || kind === 'pretrain') assert.ok(!custom, `${kind} must be vanilla`);
        // a tokenizer goes with every export (llama2.c: tokenizer.json written from tok512.bin)
        if (name === 'stories260K') assert.ok(existsSync(join(out, 'tokenizer.json')), `${kind}: tokenizer.json`);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

/** A copy of a fixture whose tensor names lack `strip` (as GPT-2's and OPT's hub checkpoints do). */
async function withoutPrefix(arch: string, strip: string, into: string): Promise<void> {
  const { loadSafetensors, writeSafetensors } = await import('../../src/io/safetensors.ts');
  const { copyFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(into, { recursive: true });
  const tensors = loadSafetensors(join(fixturesDir, arch, 'model.safetensors')) as Record<string, import('../../src/tensor/tensor.ts').Tensor>;
  writeSafetensors(join(into, 'model.safetensors'), Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n.startsWith(strip) ? n.slice(strip.length) : n, t])));
  copyFileSync(join(fixturesDir, arch, 'config.json'), join(into, 'config.json'));
}

for (const [arch, strip, full] of [['gpt2', 'transformer.', 'transformer.h.0.'], ['opt', 'model.', 'model.decoder.layers.0.']] as const) {
  test(`${arch} checkpoint without the "${strip}" prefix: custom-code exports get transformers' full names`, { skip: skipUnless(join(fixturesDir, arch)) }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'linscope-export-prefix-'));
    try {
      const source = join(root, 'source');
      await withoutPrefix(arch, strip, source);
      for (const kind of ['prune-linear', 'laser-factored', 'prune-drop'] as const) {
        const out = join(root, kind);
        const built = await buildExport(kind, source, out);
        const got = (await loadModel(out)).forward(EVAL_IDS).logits;
        let worst = 0;
        for (let i = 0; i < got.size; i++) worst = Math.max(worst, Math.abs(got.data[i] - built.expected.data[i]));
        assert.ok(worst <= 1e-5, `${kind}: ${worst}`);
        const { openSafetensors } = await import('../../src/io/safetensors.ts');
        const names = openSafetensors(join(out, 'model.safetensors')).names();
        const hasFull = names.some((n) => n.startsWith(full));
        assert.equal(hasFull, built.customCode, `${kind}: full names exactly in custom-code folders (${names.slice(0, 3).join(', ')})`);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test('an export of an export keeps its maps (F32 even in a BF16 export) with the blocks they follow', { skip: skipUnless(join(fixturesDir, 'llama')) }, async () => {
  const { exportModel } = await import('../../src/laser/export.ts');
  const { checkpointMaps, checkpointPrefix } = await import('../../src/export/model-parts.ts');
  const { openSafetensors } = await import('../../src/io/safetensors.ts');
  const root = mkdtempSync(join(tmpdir(), 'linscope-export-again-'));
  try {
    await buildExport('prune-linear', join(fixturesDir, 'llama'), join(root, 'pruned'));
    const pruned = await loadModel(join(root, 'pruned'));
    assert.equal(pruned.linearMaps.length, 1);
    const src = pruned.source as { config: Record<string, unknown>; dir?: string };
    exportModel(join(root, 'bf16'), {
      config: src.config, weightNames: () => pruned.weightNames(), getWeight: (n) => pruned.getWeight(n), dir: src.dir,
      linearMaps: checkpointMaps(pruned), prefix: checkpointPrefix(pruned),
    }, { dtype: 'BF16' });
    const file = openSafetensors(join(root, 'bf16', 'model.safetensors'));
    assert.equal(file.info('linscope_maps.0.weight').dtype, 'F32');
    assert.equal(file.info('model.embed_tokens.weight').dtype, 'BF16');
    const again = await loadModel(join(root, 'bf16'));
    assert.equal(again.linearMaps.length, 1);
    assert.deepEqual(again.linearMaps[0].weight.data, pruned.linearMaps[0].weight.data);
    assert.equal(again.linearMaps[0].afterLayer, pruned.linearMaps[0].afterLayer);
    assert.equal(JSON.parse(readFileSync(join(root, 'bf16', 'config.json'), 'utf8')).model_type, 'linscope_llama');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('Falcon and Gemma (random weights): custom-code exports reload as the evaluated model', async () => {
  const { randomWeightSource } = await import('../../src/models/random-weights.ts');
  const { writeSafetensors } = await import('../../src/io/safetensors.ts');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const small = { hidden_size: 32, num_hidden_layers: 3, vocab_size: 512, max_position_embeddings: 64 };
  const configs = {
    falcon: { ...small, model_type: 'falcon', num_attention_heads: 4 },
    gemma: { ...small, model_type: 'gemma', num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, intermediate_size: 48 },
  };
  const root = mkdtempSync(join(tmpdir(), 'linscope-export-random-'));
  try {
    for (const [name, config] of Object.entries(configs)) {
      const src = join(root, name);
      mkdirSync(src);
      const source = randomWeightSource(config, { seed: 3, std: 0.1 });
      writeSafetensors(join(src, 'model.safetensors'), Object.fromEntries(source.tensorNames!().map((n) => [n, source.getTensor(n)])));
      writeFileSync(join(src, 'config.json'), JSON.stringify(config));
      for (const kind of ['prune-maps-unfolded', 'laser-factored'] as const) {
        const out = join(root, `${name}-${kind}`);
        const built = await buildExport(kind, src, out);
        assert.ok(built.customCode);
        const got = (await loadModel(out)).forward(EVAL_IDS).logits;
        let worst = 0;
        for (let i = 0; i < got.size; i++) worst = Math.max(worst, Math.abs(got.data[i] - built.expected.data[i]));
        assert.ok(worst <= 1e-5, `${name} ${kind}: ${worst}`);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
