/**
 * The tokenizer of a model folder, in transformers' order: `tokenizer.json` (the fast tokenizer),
 * else the slow tokenizer's files — `tokenizer.model` (SentencePiece), else `vocab.json` +
 * `merges.txt` (GPT-2 byte-level BPE). Undefined when the folder has none of them.
 */
import type { ModelConfig } from './config.ts';
import { loadGpt2BpeTokenizer } from './gpt2-bpe.ts';
import { loadSentencePieceTokenizer } from './sentencepiece-tokenizer.ts';
import { loadHFTokenizer, type Tokenizer } from './tokenizer.ts';

export function loadFolderTokenizer(dir: string, modelConfig: ModelConfig = {}): Tokenizer | undefined {
  return loadHFTokenizer(dir, modelConfig) ?? loadSentencePieceTokenizer(dir, modelConfig) ?? loadGpt2BpeTokenizer(dir, modelConfig);
}
