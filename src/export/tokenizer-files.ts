/**
 * The tokenizer files that go with an exported model: those of the source folder, copied unchanged
 * (Hugging Face tokenizer files, generation settings, a llama2.c `tok*.bin`), and — for a llama2.c
 * source, which has no `tokenizer.json` — the equivalent Hugging Face files written from its
 * `tok*.bin` (src/io/llama2c-tokenizer-json.ts), so the export has a tokenizer for every command and
 * for transformers' AutoTokenizer.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findLlama2cTokenizerFile, readLlama2cTokenizer } from '../io/llama2c.ts';
import { llama2cTokenizerFiles } from '../io/llama2c-tokenizer-json.ts';

/** Files copied from the source folder when present (tokenizer and generation settings). */
export const COPIED_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt',
  'tokenizer.model', 'added_tokens.json', 'generation_config.json',
];

export interface TokenizerFiles {
  /** File name in the export → path it is copied from. */
  copy: Record<string, string>;
  /** File name in the export → its content (written). */
  write: Record<string, string>;
}

/**
 * What to copy and write for the tokenizer of `sourceDir`: a model folder (`vocabSize` picks a
 * llama2.c tok file there) or a llama2.c `tok*.bin` itself (a --tokenizer override).
 */
export function tokenizerFilesFor(sourceDir: string | undefined, vocabSize?: number): TokenizerFiles {
  const files: TokenizerFiles = { copy: {}, write: {} };
  if (sourceDir && sourceDir.endsWith('.bin') && existsSync(sourceDir) && statSync(sourceDir).isFile()) {
    files.copy[basename(sourceDir)] = sourceDir;
    const generated = llama2cTokenizerFiles(readLlama2cTokenizer(sourceDir, vocabSize));
    for (const [name, record] of Object.entries(generated)) files.write[name] = `${JSON.stringify(record, null, 2)}\n`;
    return files;
  }
  if (!sourceDir || !existsSync(sourceDir) || !statSync(sourceDir).isDirectory()) return files;
  const names = new Set(readdirSync(sourceDir));
  for (const f of [...COPIED_FILES.filter((f) => names.has(f)), ...[...names].filter((f) => /^tok.*\.bin$/.test(f))]) {
    files.copy[f] = join(sourceDir, f);
  }
  if (!names.has('tokenizer.json')) {
    const tok = vocabSize === undefined ? undefined : findLlama2cTokenizerFile(sourceDir, vocabSize);
    if (tok) {
      const generated = llama2cTokenizerFiles(readLlama2cTokenizer(tok, vocabSize));
      for (const [name, record] of Object.entries(generated)) files.write[name] = `${JSON.stringify(record, null, 2)}\n`;
    }
  }
  return files;
}
