/**
 * Export cross-check, step 1, for pretraining of the non-Llama architectures: runs
 * `linscope pretrain --config configs/pretrain-tiny.yaml --arch A --steps N` for gpt2 and opt (and
 * the other architectures given), then writes linscope's logits of each final model (DIR/model, as
 * every command loads it) on fixed ids beside it and `manifest.json`. Step 2 is the same
 * bench/export-hf-crosscheck.py, which loads each folder in Hugging Face transformers and compares.
 * Not run by the test suite.
 *
 * Run: node --import tsx bench/export-crosscheck-pretrain.ts [OUT] [--steps N] [--arch A,B]
 *      (default /tmp/linscope-export-pretrain, 25 steps: the tiny config warms up for 20, gpt2,opt)
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeSafetensors } from '../src/io/safetensors.ts';
import { loadModel } from '../src/models/decoder.ts';
import { printTable } from '../src/report/table.ts';
import { EVAL_IDS } from '../test/helpers/export-kinds.ts';

const flag = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
};
const positional = process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && (i === 0 || !all[i - 1].startsWith('--')));
const out = resolve(positional ?? '/tmp/linscope-export-pretrain');
const steps = flag('steps', '25');
const archs = flag('arch', 'gpt2,opt').split(',');
const root = resolve(import.meta.dirname, '..');
rmSync(out, { recursive: true, force: true });
const manifest: Record<string, unknown>[] = [];
const rows: Record<string, string>[] = [];
for (const arch of archs) {
  const dir = join(out, arch);
  execFileSync(process.execPath, [join(root, 'bin/linscope.mjs'), 'pretrain', '--config', join(root, 'configs/pretrain-tiny.yaml'),
    '--arch', arch, '--steps', steps, '--out', dir, '--quiet'], { stdio: 'inherit' });
  const folder = join(dir, 'model');
  const model = await loadModel(folder);
  const logits = model.forward(EVAL_IDS).logits;
  const expected = `${folder}.expected.safetensors`;
  writeSafetensors(expected, { logits: logits.to('float32') }, { format: 'pt' });
  manifest.push({ model: `pretrain --arch ${arch} (tiny, ${steps} steps)`, kind: 'pretrain', folder, expected, custom_code: false, note: `${model.config.modelType}`, linscope_reload_max_abs: 0 });
  rows.push({ arch, folder, 'model type': String(model.config.modelType), layers: String(model.config.numLayers) });
}
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify({ input_ids: EVAL_IDS, exports: manifest }, null, 2)}\n`);
printTable(rows);
