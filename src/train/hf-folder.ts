/**
 * Save a trainable model as a Hugging Face model folder: `config.json`, `model.safetensors`
 * (float32, the architecture's HF names; the head is left out when tied, as transformers saves it) and the
 * tokenizer files, so both transformers and linscope's loader open it as its HF model class.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../io/safetensors-write.ts';
import type { TrainableModel } from './trainable-model.ts';

export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'] as const;

/** Writes the model (and the tokenizer files found in `tokenizerDir`) into `dir`. */
export function saveHFModel(dir: string, model: TrainableModel, tokenizerDir?: string, metadata: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(model.rawConfig, null, 2)}\n`);
  writeSafetensors(join(dir, 'model.safetensors'), model.namedTensors(), { format: 'pt', ...metadata });
  if (tokenizerDir) {
    for (const f of TOKENIZER_FILES) {
      const from = join(tokenizerDir, f);
      if (existsSync(from) && from !== join(dir, f)) copyFileSync(from, join(dir, f));
    }
  }
}
