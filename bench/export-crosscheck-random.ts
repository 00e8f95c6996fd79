/**
 * Export cross-check, step 1, for the two supported architectures without a shared fixture (Falcon,
 * Gemma): random-weight checkpoints (src/models/random-weights.ts) written as HF folders, then the
 * custom-code export kinds and the folded one, as bench/export-crosscheck.ts does. Step 2 is the
 * same bench/export-hf-crosscheck.py. Not run by the test suite.
 *
 * Run: node --import tsx bench/export-crosscheck-random.ts [OUT]     (default /tmp/linscope-export-random)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeSafetensors } from '../src/io/safetensors.ts';
import { loadModel } from '../src/models/decoder.ts';
import { randomWeightSource } from '../src/models/random-weights.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { printTable } from '../src/report/table.ts';
import { buildExport, EVAL_IDS, type ExportKind } from '../test/helpers/export-kinds.ts';

const out = resolve(process.argv[2] ?? '/tmp/linscope-export-random');
rmSync(out, { recursive: true, force: true });
const small = { hidden_size: 64, num_hidden_layers: 4, vocab_size: 512, max_position_embeddings: 128 };
const configs: Record<string, Record<string, unknown>> = {
  'falcon-7b style': { ...small, model_type: 'falcon', architectures: ['FalconForCausalLM'], num_attention_heads: 4 },
  'falcon-40b style': { ...small, model_type: 'falcon', architectures: ['FalconForCausalLM'], num_attention_heads: 4, num_kv_heads: 2, new_decoder_architecture: true },
  gemma: { ...small, model_type: 'gemma', architectures: ['GemmaForCausalLM'], num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, intermediate_size: 96, hidden_act: 'gelu_pytorch_tanh', hidden_activation: 'gelu_pytorch_tanh' },
};
const kinds: ExportKind[] = ['laser-dense', 'laser-factored', 'prune-linear', 'prune-maps-unfolded', 'prune-mlp-folded'];
const manifest: Record<string, unknown>[] = [];
const rows: Record<string, string>[] = [];
for (const [name, config] of Object.entries(configs)) {
  const src = join(out, `${name.replace(/\W+/g, '-')}-source`);
  mkdirSync(src, { recursive: true });
  const source = randomWeightSource(config, { seed: 7, std: 0.1 });
  const tensors: Record<string, Tensor> = {};
  for (const n of source.tensorNames!()) tensors[n] = source.getTensor(n);
  writeSafetensors(join(src, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileSync(join(src, 'config.json'), JSON.stringify(config, null, 2));
  for (const kind of kinds) {
    const folder = join(out, name.replace(/\W+/g, '-'), kind);
    const built = await buildExport(kind, src, folder);
    const got = (await loadModel(folder)).forward(EVAL_IDS).logits;
    let worst = 0;
    for (let i = 0; i < got.size; i++) worst = Math.max(worst, Math.abs(got.data[i] - built.expected.data[i]));
    const expected = `${folder}.expected.safetensors`;
    writeSafetensors(expected, { logits: built.expected.to('float32') }, { format: 'pt' });
    manifest.push({ model: `${name} (random)`, kind, folder, expected, custom_code: built.customCode, note: built.note, linscope_reload_max_abs: worst });
    rows.push({ model: name, kind, 'custom code': built.customCode ? 'yes' : 'no', 'linscope reload max|Δ|': worst.toExponential(2), note: built.note });
  }
}
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify({ input_ids: EVAL_IDS, exports: manifest }, null, 2)}\n`);
printTable(rows);
