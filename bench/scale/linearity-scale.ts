/**
 * `linearity` on a large checkpoint, streamed and layer-major, with a line per block: seconds,
 * the process's RSS now and at its peak, and the bytes it has read so far (/proc/self/io rchar:
 * every byte of the checkpoint read through pread, from the page cache or not). The analysis is
 * the CLI's own (src/linearity/analyse.ts); random token ids as with `--random-tokens`.
 *
 *   bench/scale/measured.sh nice -n 10 node --import tsx bench/scale/linearity-scale.ts \
 *     --model /work/big/llama-2-13b --samples 8 --tokens 256 --batch-size 4 --max-memory 5G
 * `--last-pair skip` scores blocks 0 … L − 2 only (one block fewer to run and solve).
 */
import { readFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openModelSource } from '../../src/io/model-source.ts';
import { analyseModelAsync } from '../../src/linearity/analyse.ts';
import { randomTokenIds } from '../../src/linearity/data.ts';
import { DEFAULT_ANALYSIS } from '../../src/linearity/options.ts';
import { createModel } from '../../src/models/decoder.ts';
import { formatBytes, } from '../../src/util/memory-estimate.ts';
import { parseByteSize } from '../../src/util/memory-budget.ts';

const args = process.argv.slice(2);
const get = (flag: string, fallback?: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : fallback;
};
const dir = get('--model')!;
const samples = Number(get('--samples', '8'));
const tokens = Number(get('--tokens', '256'));
const batchSize = Number(get('--batch-size', '4'));
const maxMemory = get('--max-memory') ? parseByteSize(get('--max-memory')!) : undefined;
const lastPair = (get('--last-pair', DEFAULT_ANALYSIS.lastPair) as typeof DEFAULT_ANALYSIS.lastPair);

const rchar = () => Number(/^rchar:\s+(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
const checkpointBytes = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
const gb = (b: number) => (b / 2 ** 30).toFixed(2);

const source = await openModelSource(dir);
const model = createModel(source, { streaming: true });
const cfg = model.config;
console.log(`${dir}: ${cfg.numLayers} blocks, d ${cfg.hiddenSize}, intermediate ${cfg.intermediateSize}, vocab ${cfg.vocabSize}; checkpoint ${gb(checkpointBytes)} GiB`);
console.log(`${samples} × ${tokens} random tokens = ${samples * tokens}, batch ${batchSize}, --max-memory ${maxMemory ? formatBytes(maxMemory) : 'default'}`);
const sequences = randomTokenIds(samples, tokens, cfg.vocabSize, 0);
const info = { spec: dir, label: dir, modelType: cfg.modelType, layers: cfg.numLayers, hiddenSize: cfg.hiddenSize, vocabSize: cfg.vocabSize, parallelResidual: cfg.parallelResidual, identity: null };
const t0 = performance.now();
let last = t0;
const read0 = rchar();
const result = await analyseModelAsync(model, info, sequences, { ...DEFAULT_ANALYSIS, batchSize, lastPair }, {
  maxMemory,
  onPair: (block, scores) => {
    const now = performance.now();
    const read = rchar() - read0;
    console.log(
      `block ${block}: ${((now - last) / 1000).toFixed(1)} s (total ${((now - t0) / 1000).toFixed(0)} s), score ${scores.layer.withResidual.exact.toFixed(6)}, ` +
        `RSS ${gb(process.memoryUsage().rss)} GiB (peak ${gb(process.resourceUsage().maxRSS * 1024)} GiB), read ${gb(read)} GiB = ${(read / checkpointBytes).toFixed(3)} × checkpoint`,
    );
    last = now;
  },
  onStore: (s) => console.log(`residual store: budget ${formatBytes(s.budgetBytes)}, peak in memory ${formatBytes(s.peakResidentBytes)}, spilled ${formatBytes(s.spilledBytes)}`),
});
const read = rchar() - read0;
console.log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${result.pairs.length} pairs, ${result.tokens} tokens; timings ${JSON.stringify(result.timings)}`);
console.log(`peak RSS ${gb(process.resourceUsage().maxRSS * 1024)} GiB; read ${gb(read)} GiB = ${(read / checkpointBytes).toFixed(3)} × the checkpoint (${gb(checkpointBytes)} GiB)`);
