/** `linscope generate --model M --prompt "..."`: greedy or sampled continuation with a KV cache. */
import { readLlama2cTokenizer } from '../../io/llama2c.ts';
import { openModelSource } from '../../io/model-source.ts';
import { loadHFTokenizer } from '../../io/tokenizer.ts';
import { loadModel } from '../../models/decoder.ts';
import { generate } from '../../models/generate.ts';
import { defineCommand, parseOrExplain } from '../args.ts';

const spec = defineCommand({
  name: 'generate',
  summary: 'Generate text (greedy or sampled) with a KV cache',
  options: {
    model: { type: 'string', description: 'Model folder, llama2.c .bin, or hub id', required: true, valueName: 'path|id', short: 'm' },
    tokenizer: { type: 'string', description: 'Tokenizer override: a tokenizer.json folder or a llama2.c tok*.bin', valueName: 'path' },
    prompt: { type: 'string', description: 'Prompt text (repeat for a batch)', multiple: true },
    maxNewTokens: { type: 'integer', description: 'Tokens to generate', default: 64 },
    temperature: { type: 'number', description: '0 = greedy', default: 0 },
    topK: { type: 'integer', description: 'Sample among the k most likely tokens' },
    topP: { type: 'number', description: 'Nucleus sampling mass' },
    seed: { type: 'integer', description: 'Sampling seed', default: 0 },
    bos: { type: 'boolean', description: 'Prepend the BOS token', default: true },
    ids: { type: 'boolean', description: 'Also print the token ids' },
    offline: { type: 'boolean', description: 'Use only the local Hugging Face cache' },
  },
});

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const o = args.options;
  const source = await openModelSource(o.model, { offline: o.offline });
  const model = await loadModel(source);
  const tokenizer = o.tokenizer
    ? (o.tokenizer.endsWith('.bin') ? readLlama2cTokenizer(o.tokenizer, model.config.vocabSize) : loadHFTokenizer(o.tokenizer, source.config))
    : await source.tokenizer();
  if (!tokenizer) throw new Error(o.tokenizer ? `no tokenizer.json in ${o.tokenizer}` : `${o.model} has no tokenizer (tokenizer.json or tok*.bin) to encode the prompt; pass --tokenizer`);
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
