/**
 * `config.json` of a Hugging Face model, kept as the plain record it is (tagged with where it came
 * from, for error messages), and the integer lookup the readers below src/models need. What a config
 * says about the model (sizes under every architecture's names, defaults) is src/models/config.ts's
 * `normalizeConfig`, the one reader of it.
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

/** `vocab_size`: all a reader below src/models needs (the tokenizer checks); the sizes of a model are read by src/models/config.ts. */
export const vocabSize = (c: ModelConfig): number => configInt(c, ['vocab_size']);
