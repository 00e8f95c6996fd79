/**
 * The tokenizer a command uses: the model's own (tokenizer.json or the llama2.c tok*.bin beside it),
 * or an override given by the user (`--tokenizer`): a llama2.c tok*.bin file, or a folder holding
 * tokenizer.json (+ tokenizer_config.json).
 */
import { vocabSize } from './config.ts';
import { readLlama2cTokenizer } from './llama2c-tokenizer.ts';
import type { ModelSource } from './model-source.ts';
import { loadHFTokenizer, type Tokenizer } from './tokenizer.ts';

/** The override's tokenizer when given, else the model's; a clear error when there is none. */
export async function resolveTokenizer(source: ModelSource, override?: string): Promise<Tokenizer> {
  if (override) {
    const t = override.endsWith('.bin') ? readLlama2cTokenizer(override, vocabSize(source.config)) : loadHFTokenizer(override, source.config);
    if (!t) throw new Error(`no tokenizer.json in ${override}`);
    return t;
  }
  const t = await source.tokenizer();
  if (!t) throw new Error(`${source.dir} has no tokenizer (tokenizer.json or tok*.bin); pass --tokenizer`);
  return t;
}
