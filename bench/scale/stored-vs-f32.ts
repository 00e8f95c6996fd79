/**
 * The 16-bit weight path against the float32 in-memory path on one checkpoint (bench/RESULTS-scale.md):
 * the model is loaded twice, one after the other — weights decoded to float32 on load
 * (`storedDtype: false`, the path every command used before) and weights held BF16/F16 (the
 * default) — and each does the same work: a forward over a few tokens (logits and every hidden
 * state), a LASER intervention, the forward again, and the `laser apply` export in the checkpoint's
 * dtype. Prints max |Δ| of every compared output, whether the two exported folders' safetensors are
 * byte-identical, and the time and RSS of each path.
 *
 *   node --import tsx bench/scale/stored-vs-f32.ts /work/big/tinyllama-1.1b out:21:0.01 16
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openModelSource } from '../../src/io/model-source.ts';
import { checkpointDtype } from '../../src/io/stored-tensor.ts';
import { exportModel } from '../../src/laser/export.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { parseInterventions } from '../../src/laser/parse.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

const [dir, ivText = 'out:0:0.01', nTokens = '16'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: stored-vs-f32.ts <model folder> [type:layer:rho] [tokens]');
  process.exit(2);
}

interface Run { outputs: Map<string, Tensor>; seconds: number; rssGB: number; exportDir: string }

async function run(storedDtype: boolean): Promise<Run> {
  const t0 = performance.now();
  const source = await openModelSource(dir);
  const model = await loadModel(source, { storedDtype });
  const V = model.config.vocabSize;
  const ids = [Array.from({ length: Number(nTokens) }, (_, i) => (i * 7919 + 13) % Math.min(V, 512))];
  const outputs = new Map<string, Tensor>();
  const before = model.forward(ids, { outputHiddenStates: true });
  outputs.set('logits', before.logits);
  before.hiddenStates!.forEach((h, i) => outputs.set(`hidden_states.${i}`, h));
  const ivs = parseInterventions(ivText, model.numLayers);
  const applied = new LaserEditor(model).applyAll(ivs);
  outputs.set(`logits after ${ivText}`, model.forward(ids).logits);
  const exportDir = `/tmp/linscope-stored-vs-f32-${storedDtype ? 'stored' : 'f32'}`;
  exportModel(exportDir, {
    config: source.config, weightNames: () => model.weightNames(), getWeight: (n) => model.getWeight(n), dir: source.dir, vocabSize: V,
  }, { dtype: checkpointDtype(source, model.weightNames()), applied });
  const seconds = (performance.now() - t0) / 1000;
  return { outputs, seconds, rssGB: process.resourceUsage().maxRSS / 1e6, exportDir };
}

function sameFiles(a: string, b: string): boolean {
  const names = readdirSync(a).filter((f) => f.endsWith('.safetensors')).sort();
  if (names.join() !== readdirSync(b).filter((f) => f.endsWith('.safetensors')).sort().join()) return false;
  return names.every((f) => readFileSync(join(a, f)).equals(readFileSync(join(b, f))));
}

const f32 = await run(false);
console.log(`float32 path: ${f32.seconds.toFixed(1)} s, peak RSS so far ${f32.rssGB.toFixed(2)} GB`);
const gcOutputs = f32.outputs;
const stored = await run(true);
console.log(`16-bit path:  ${stored.seconds.toFixed(1)} s (peak RSS of the process is the float32 path's)`);
let worst = 0;
for (const [name, t] of gcOutputs) {
  const d = maxAbsDiff(t, stored.outputs.get(name)!);
  worst = Math.max(worst, d);
  console.log(`  ${name.padEnd(28)} max |Δ| ${d.toExponential(3)}`);
}
const identical = sameFiles(f32.exportDir, stored.exportDir);
console.log(`worst max |Δ| ${worst.toExponential(3)} (${worst <= 1e-6 ? 'within' : 'ABOVE'} 1e-6); exported safetensors byte-identical: ${identical}`);
for (const d of [f32.exportDir, stored.exportDir]) rmSync(d, { recursive: true, force: true });
