/**
 * Option groups shared by the commands, declared once so that the same option has the same flag,
 * help text and type everywhere: spread a group into a command's `options`, and type a helper's
 * argument with `OptionsOf<typeof group>`.
 */
import { backend } from '../backend/index.ts';
import { openModelSource, type ModelSource } from '../io/model-source.ts';
import { defineOptions, type OptionsOf } from './args.ts';
import { REWARD_HEAD_CONFIG_KEY } from '../train/reward-model.ts';

/** `--offline` alone (for commands whose model option differs, e.g. repeatable). */
export const offlineOption = defineOptions({
  offline: { type: 'boolean', description: 'Never contact the Hugging Face hub; use only the local cache (default: $HF_HUB_OFFLINE)' },
});

/** The model to load, and whether the hub may be contacted. */
export const modelOptions = defineOptions({
  model: { type: 'string', description: 'Model folder, llama2.c .bin, or Hugging Face hub id[@revision]', required: true, short: 'm', valueName: 'path|id' },
  ...offlineOption,
});

/** A tokenizer other than the model's own. */
export const tokenizerOptions = defineOptions({
  tokenizer: { type: 'string', description: 'Tokenizer override: a tokenizer folder (tokenizer.json, tokenizer.model or vocab.json + merges.txt) or a llama2.c tok*.bin', valueName: 'path' },
});

/** No progress output. */
export const quietOptions = defineOptions({
  quiet: { type: 'boolean', description: 'No progress output', short: 'q' },
});

/** BLAS threads for the command's computation. */
export const threadsOptions = defineOptions({
  threads: { type: 'integer', description: 'BLAS threads (default: $LINSCOPE_THREADS, else one per core)', valueName: 'n' },
});

/** Sets the backend's thread count from `--threads` (absent: leaves $LINSCOPE_THREADS / the default). */
export function applyThreads(o: OptionsOf<typeof threadsOptions>): void {
  if (o.threads === undefined) return;
  if (!(o.threads >= 1)) throw new Error(`--threads must be at least 1, got ${o.threads}`);
  backend().setThreads(o.threads);
}

/** Opens `--model` honouring `--offline` (absent: $HF_HUB_OFFLINE / $TRANSFORMERS_OFFLINE decide). */
export async function openModel(o: OptionsOf<typeof modelOptions>): Promise<ModelSource> {
  const source = await openModelSource(o.model, { offline: o.offline });
  if (source.config[REWARD_HEAD_CONFIG_KEY] !== undefined) {
    // a reward-model export (finetune --task reward-hh): say which part runs here
    process.stderr.write(`linscope: note: ${o.model} is a reward model; this command runs its decoder (body and language-model head), not its reward head "score.weight"\n`);
  }
  return source;
}
