/**
 * Item 7 of issue #13: integer weight matrices and configs with `quantization_config` loaded
 * silently as garbage (integers cast to floats). They are refused, naming the quantisation method
 * and what to do instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/io/input-error.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadSafetensors } from '../../src/io/safetensors.ts';
import { writeSafetensors, type WritableTensor } from '../../src/io/safetensors-write.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';

const llama = join(fixturesDir, 'llama');
const root = mkdtempSync(join(tmpdir(), 'linscope-quant-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** The llama fixture rewritten with `edit` applied to its tensors and config. */
function variant(name: string, edit: (tensors: Record<string, WritableTensor>, config: Record<string, unknown>) => void): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const tensors = loadSafetensors(join(llama, 'model.safetensors')) as Record<string, WritableTensor>;
  const config = JSON.parse(readFileSync(join(llama, 'config.json'), 'utf8'));
  edit(tensors, config);
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const refused = async (dir: string, pattern: RegExp) =>
  assert.rejects(openModelSource(dir), (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.match(err.message, pattern);
    assert.match(err.message, /original|dequantis/);
    return true;
  });

test('quantization_config names its method (gptq)', { skip: skipUnless(llama) }, async () => {
  const dir = variant('gptq', (_, c) => { c.quantization_config = { quant_method: 'gptq', bits: 4, group_size: 128 }; });
  await refused(dir, /config\.json: .*quantised with gptq \(4-bit\)/);
});

test('legacy bitsandbytes flags name bitsandbytes', { skip: skipUnless(llama) }, async () => {
  const dir = variant('bnb', (_, c) => { c.quantization_config = { load_in_8bit: true }; });
  await refused(dir, /quantised with bitsandbytes \(8-bit\)/);
});

test('an I8 weight matrix without a quantization_config is refused, naming the tensor', { skip: skipUnless(llama) }, async () => {
  const name = 'model.layers.1.self_attn.q_proj.weight';
  const dir = variant('int8', (t) => {
    t[name] = { dtype: 'I8', shape: [64, 64], data: Array.from({ length: 64 * 64 }, (_, i) => (i % 200) - 100) };
  });
  await refused(dir, /model\.safetensors: tensor "model\.layers\.1\.self_attn\.q_proj\.weight" is I8 \[64, 64\]/);
});

test('GPTQ/AWQ tensor names (qweight, qzeros, scales) are recognised', { skip: skipUnless(llama) }, async () => {
  const dir = variant('awq', (t) => {
    t['model.layers.0.mlp.up_proj.qweight'] = { dtype: 'I32', shape: [64, 20], data: new Array(64 * 20).fill(7) };
    t['model.layers.0.mlp.up_proj.qzeros'] = { dtype: 'I32', shape: [1, 20], data: new Array(20).fill(7) };
    t['model.layers.0.mlp.up_proj.scales'] = { dtype: 'F16', shape: [1, 160], data: new Array(160).fill(1) };
  });
  await refused(dir, /quantised with (gptq|awq|gptq or awq)/);
});

test('an ordinary float checkpoint with integer buffers still opens', { skip: skipUnless(llama) }, async () => {
  const dir = variant('plain', (t) => {
    t['model.position_ids'] = { dtype: 'I64', shape: [1, 8], data: [0, 1, 2, 3, 4, 5, 6, 7] };
  });
  const src = await openModelSource(dir);
  assert.equal(src.format, 'safetensors');
});
