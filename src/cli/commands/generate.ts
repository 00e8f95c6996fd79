/** `linscope generate --model M --prompt "..."`: greedy or sampled continuation with a KV cache. */
import { loadModel } from '../../models/decoder.ts';
import { defaultMaxMemory, parseByteSize } from '../../util/memory-budget.ts';

/** Kept out of the block cache for the KV cache, activations and the runtime (bytes). */
const GENERATION_RESERVE = 1024 ** 3;
import { generate } from '../../models/generate.ts';
import { defineCommand, parseOrExplain } from '../args.ts';
import { resolveTokenizer } from '../../io/tokenizer-override.ts';
import { applyThreads, modelOptions, openModel, threadsOptions, tokenizerOptions } from '../options.ts';

const spec = defineCommand({
  name: 'generate',
  summary: 'Generate text (greedy or sampled) with a KV cache',
  options: {
    ...modelOptions,
    ...tokenizerOptions,
    ...threadsOptions,
    prompt: { type: 'string', description: 'Prompt text (repeat for a batch)', multiple: true },
    maxNewTokens: { type: 'integer', description: 'Tokens to generate', default: 64 },
    temperature: { type: 'number', description: '0 = greedy', default: 0 },
    topK: { type: 'integer', description: 'Sample among the k most likely tokens' },
    topP: { type: 'number', description: 'Nucleus sampling mass' },
    seed: { type: 'integer', description: 'Sampling seed', default: 0 },
    bos: { type: 'boolean', description: 'Prepend the BOS token', default: true },
    ids: { type: 'boolean', description: 'Also print the token ids' },
    streaming: { type: 'boolean', description: 'Read blocks from the checkpoint as they run, keeping as many as --max-memory allows (models larger than RAM)' },
    maxMemory: { type: 'string', description: 'Memory budget with --streaming: the block cache gets it less the KV cache and activations (default 80% of the available memory)', valueName: 'SIZE' },
  },
});

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const o = args.options;
  applyThreads(o);
  const source = await openModel(o);
  const tokenizer = await resolveTokenizer(source, o.tokenizer);
  // generation is sequential (one token after another through all blocks): streamed, the blocks
  // that fit in the budget stay cached and the rest are read at every step
  const budget = o.maxMemory !== undefined ? parseByteSize(o.maxMemory) : defaultMaxMemory();
  const model = await loadModel(source, o.streaming ? { streaming: true, cacheBytes: Math.max(0, budget - GENERATION_RESERVE) } : {});
  const prompts = o.prompt.length > 0 ? o.prompt : [''];
  const encoded = prompts.map((p) => {
    const ids = tokenizer.encode(p, { addSpecialTokens: false });
    return o.bos && tokenizer.bosId !== undefined ? [tokenizer.bosId, ...ids] : ids;
  });
  const started = performance.now();
  const result = generate(model, encoded, {
    maxNewTokens: o.maxNewTokens,
    temperature: o.temperature,
    topK: o.topK,
    topP: o.topP,
    seed: o.seed,
  });
  const seconds = (performance.now() - started) / 1000;
  result.sequences.forEach((seq, i) => {
    const text = tokenizer.decode(seq, { skipSpecialTokens: true });
    console.log(text);
    if (o.ids) console.log(`ids: ${JSON.stringify(seq)}`);
    if (i < result.sequences.length - 1) console.log('---');
  });
  const generated = result.tokens.reduce((s, t) => s + t.length, 0);
  console.error(`${generated} tokens in ${seconds.toFixed(2)} s (${(generated / seconds).toFixed(1)} tokens/s, seed ${o.seed})`);
  return 0;
}
