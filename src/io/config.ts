/**
 * `config.json` of a Hugging Face model, kept as the plain record it is, plus typed helpers that
 * look a value up under the names the different architectures use (e.g. `hidden_size` vs `n_embd`).
 * Architecture-specific defaults belong to the model code, not here.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ModelConfig = Record<string, any>;

/** Where each config came from, for error messages. */
const origins = new WeakMap<ModelConfig, string>();

/** Remember that `config` came from `origin` (a path), so helper errors can name it. */
export function tagConfig(config: ModelConfig, origin: string): ModelConfig {
  origins.set(config, origin);
  return config;
}

function originOf(config: ModelConfig): string {
  return origins.get(config) ?? 'config';
}

/** Read `config.json` from a model folder (or the file itself). */
export function readConfig(dirOrFile: string): ModelConfig {
  const path = existsSync(dirOrFile) && statSync(dirOrFile).isDirectory() ? join(dirOrFile, 'config.json') : dirOrFile;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read model config ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${path}: not a JSON object`);
  return tagConfig(parsed as ModelConfig, path);
}

/** The first of `keys` that is set (not undefined/null) in `config`. */
function configValue(config: ModelConfig, keys: readonly string[]): unknown {
  for (const k of keys) if (config[k] !== undefined && config[k] !== null) return config[k];
  return undefined;
}

function missing(config: ModelConfig, keys: readonly string[]): Error {
  return new Error(`${originOf(config)}: none of ${keys.map((k) => `"${k}"`).join(', ')} is set`);
}

/** An integer setting under any of `keys`; `fallback` when absent, an error when there is none. */
export function configInt(config: ModelConfig, keys: readonly string[], fallback?: number): number {
  const v = configValue(config, keys);
  if (v === undefined) {
    if (fallback === undefined) throw missing(config, keys);
    return fallback;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${originOf(config)}: "${keys.find((k) => config[k] != null)}" should be an integer, got ${JSON.stringify(v)}`);
  return v;
}

/** `model_type` (e.g. "llama", "gpt2"). */
export function modelType(config: ModelConfig): string {
  const v = config.model_type;
  if (typeof v !== 'string') throw new Error(`${originOf(config)}: "model_type" is missing`);
  return v;
}

export const hiddenSize = (c: ModelConfig): number => configInt(c, ['hidden_size', 'n_embd', 'd_model']);
export const numLayers = (c: ModelConfig): number => configInt(c, ['num_hidden_layers', 'n_layer', 'num_layers']);
export const numHeads = (c: ModelConfig): number => configInt(c, ['num_attention_heads', 'n_head', 'num_heads']);
/** Key/value heads (grouped-query attention); equals `numHeads` when the config does not say. */
export const numKvHeads = (c: ModelConfig): number => configInt(c, ['num_key_value_heads', 'num_kv_heads'], numHeads(c));
export const vocabSize = (c: ModelConfig): number => configInt(c, ['vocab_size']);
export const maxPositions = (c: ModelConfig): number | undefined => {
  const v = configValue(c, ['max_position_embeddings', 'n_positions', 'n_ctx', 'seq_length']);
  return typeof v === 'number' ? v : undefined;
};
/** Per-head size: `head_dim` if set, else hidden_size / num_heads. */
export const headDim = (c: ModelConfig): number => configInt(c, ['head_dim'], hiddenSize(c) / numHeads(c));

/** Token ids as a list (configs store either one id or several, e.g. several EOS ids). */
function tokenIds(c: ModelConfig, key: string): number[] {
  const v = c[key];
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}
export const bosTokenId = (c: ModelConfig): number | undefined => tokenIds(c, 'bos_token_id')[0];
export const eosTokenIds = (c: ModelConfig): number[] => tokenIds(c, 'eos_token_id');
