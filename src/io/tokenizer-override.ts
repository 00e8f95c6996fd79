/**
 * The tokenizer a command uses: the model's own (see tokenizer-files.ts, or the llama2.c tok*.bin
 * beside it), or an override given by the user (`--tokenizer`): a llama2.c tok*.bin file, or a folder
 * holding tokenizer.json, tokenizer.model or vocab.json + merges.txt (+ tokenizer_config.json).
 */
import { vocabSize } from './config.ts';
import { readLlama2cTokenizer } from './llama2c-tokenizer.ts';
import type { ModelSource } from './model-source.ts';
import type { Tokenizer } from './tokenizer.ts';
import { loadFolderTokenizer } from './tokenizer-files.ts';

/** The override's tokenizer when given, else the model's; a clear error when there is none. */
export async function resolveTokenizer(source: ModelSource, override?: string): Promise<Tokenizer> {
  if (override) {
    const t = override.endsWith('.bin') ? readLlama2cTokenizer(override, vocabSize(source.config)) : loadFolderTokenizer(override, source.config);
    if (!t) throw new Error(`no tokenizer (tokenizer.json, tokenizer.model or vocab.json + merges.txt) in ${override}`);
    return t;
  }
  const t = await source.tokenizer();
  if (!t) throw new Error(`${source.dir} has no tokenizer (tokenizer.json, tokenizer.model, vocab.json + merges.txt or tok*.bin); pass --tokenizer`);
  return t;
}
