/**
 * Save a trainable model as a Hugging Face model folder: `config.json`, `model.safetensors`
 * (float32, the architecture's HF names; the head is left out when tied, as transformers saves it) and the
 * tokenizer files (a llama2.c `tok*.bin` in `tokenizerDir` also as tokenizer.json), so both transformers and linscope's loader open it as its HF model class.
 * Written by the one folder writer (src/export/hf-folder.ts): the folder appears complete or not at all.
 */
import { writeHFFolder } from '../export/hf-folder.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { TrainableModel } from './trainable-model.ts';

export const TOKENIZER_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.model', 'vocab.json', 'merges.txt', 'added_tokens.json',
] as const;

/** What a task head adds to the folder (reward-model.ts): its tensors (replacing the body's of the same name), the config that names its class, files replacing the copied ones. */
export interface HeadExtras {
  config: Record<string, unknown>;
  tensors: Record<string, Tensor>;
  files?: Record<string, string>;
}

/** Writes the model (and the tokenizer files found in `tokenizerDir`) into `dir`. */
export function saveHFModel(dir: string, model: TrainableModel, tokenizerDir?: string, metadata: Record<string, string> = {}, head?: HeadExtras): void {
  writeHFFolder(dir, {
    config: head?.config ?? (model.rawConfig as Record<string, unknown>),
    tensors: { ...model.namedTensors(), ...head?.tensors },
    metadata: { format: 'pt', ...metadata },
    tokenizerFrom: tokenizerDir,
    vocabSize: typeof model.rawConfig.vocab_size === 'number' ? model.rawConfig.vocab_size : undefined,
    files: head?.files,
  });
}
