/**
 * Batched greedy generation with the KV cache (`linscope generate` with several prompts): each
 * step runs B rows through every weight, where linscope's few-row products
 * (src/tensor/few-row-gemm.ts) and 16-bit slabs apply. Times linscope's `generate` for each batch
 * size on the same seeded prompts (random ids of equal length, no EOS stop) and writes the prompts
 * and tokens to OUT.json for the PyTorch peer (bench/generate-batch-torch.py).
 *
 *   node --import tsx bench/generate-batch.ts MODEL_DIR OUT.json [batches=1,4,16] [promptTokens=32] [newTokens=16]
 *
 * Prints one JSON line per batch size: {tool, batch, seconds, cpuSeconds, tokensPerSecond}.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { openModelSource } from '../src/io/model-source.ts';
import { loadModel } from '../src/models/decoder.ts';
import { generate } from '../src/models/generate.ts';
import { Rng } from '../src/tensor/random.ts';

const [modelDir, outPath, batchesArg = '1,4,16', promptArg = '32', newArg = '16'] = process.argv.slice(2);
if (!modelDir || !outPath) throw new Error('usage: bench/generate-batch.ts MODEL_DIR OUT.json [batches] [promptTokens] [newTokens]');
const batches = batchesArg.split(',').map(Number);
const newTokens = Number(newArg);
const model = await loadModel(await openModelSource(modelDir));
const vocab = model.config.vocabSize;
const rng = new Rng(2026);
const prompts = Array.from({ length: Math.max(...batches) }, () => Array.from({ length: Number(promptArg) }, () => 3 + Math.floor(rng.uniform() * (vocab - 3))));
const previous = existsSync(outPath) ? JSON.parse(readFileSync(outPath, 'utf8')) as { tokens?: Record<string, number[][]> } : {};
const tokens: Record<string, number[][]> = {};
generate(model, prompts.slice(0, 1), { maxNewTokens: 2, eosTokenIds: [] }); // warm-up (not timed)
for (const B of batches) {
  const run = () => generate(model, prompts.slice(0, B), { maxNewTokens: newTokens, eosTokenIds: [] }).tokens;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  tokens[B] = run();
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  if (previous.tokens?.[B] && JSON.stringify(previous.tokens[B]) !== JSON.stringify(tokens[B])) throw new Error(`batch ${B}: tokens differ from the previous round's`);
  console.log(JSON.stringify({ tool: 'linscope', batch: B, seconds, cpuSeconds: (c.user + c.system) / 1e6, tokensPerSecond: (B * newTokens) / seconds }));
}
writeFileSync(outPath, JSON.stringify({ prompts, newTokens, tokens }));
console.log(JSON.stringify({ tool: 'linscope', maxRssMB: process.resourceUsage().maxRSS / 1024 }));
