/**
 * Load every weight of a model folder as float32 (what `loadModel` does without --streaming) and
 * report the time and a checksum; used by bench/torch-bin/compare.sh for .bin vs safetensors.
 *
 *   node --import tsx bench/torch-bin/load.ts DIR [--stream]
 * --stream reads each tensor and drops it (as `--streaming` model loading does): peak memory is
 * then about one tensor, showing that the file is never read whole.
 */
import { openModelSource } from '../../src/io/model-source.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

const dir = process.argv[2];
const stream = process.argv.includes('--stream');
const t0 = performance.now();
const source = await openModelSource(dir);
const held: Tensor[] = [];
let checksum = 0;
for (const name of source.tensorNames()) {
  const t = source.getTensor(name);
  if (!stream) held.push(t);
  for (let i = 0; i < t.size; i += 4099) checksum += t.data[i];
}
const seconds = (performance.now() - t0) / 1000;
const maxRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ tool: `linscope-${source.format}${stream ? ' --stream' : ''}`, seconds: +seconds.toFixed(3), tensors: source.tensorNames().length, checksum, maxRssMB: Math.round(maxRssMB) }));
