/**
 * One tokenizer interface for every model source, and its implementation over Hugging Face
 * `tokenizer.json` (+ `tokenizer_config.json`) via `@huggingface/tokenizers`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HFTokenizerImpl } from '@huggingface/tokenizers';
import type { ModelConfig } from './config.ts';
import { checkTokenizerJson } from './tokenizer-json-check.ts';

export interface EncodeOptions {
  /** Add the model's special tokens (BOS etc.) as its tokenizer does by default. Default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out special tokens (BOS, EOS, pad…). Default false. */
  skipSpecialTokens?: boolean;
}

/** What the rest of linscope needs from a tokenizer. */
export interface Tokenizer {
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** Token string of one id (the raw vocabulary entry), undefined when out of range. */
  idToToken(id: number): string | undefined;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  /** Largest id + 1, added tokens included. */
  readonly vocabSize: number;
}

/** A special token in tokenizer_config.json: a plain string or an AddedToken-like {content}. */
export function specialTokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/** A special token's id as config.json states it (`bos_token_id`: a number, or a list whose first entry is one). */
export function configTokenId(modelConfig: Record<string, unknown>, key: string): number | undefined {
  const fromConfig = modelConfig[`${key}_id`];
  if (typeof fromConfig === 'number') return fromConfig;
  if (Array.isArray(fromConfig) && typeof fromConfig[0] === 'number') return fromConfig[0];
  return undefined;
}

/** A folder's `tokenizer_config.json`, or {} when it has none. */
export function readTokenizerConfig(dir: string): Record<string, unknown> {
  const path = join(dir, 'tokenizer_config.json');
  return existsSync(path) ? readJson(path) : {};
}

export function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read tokenizer file ${path}: ${(err as Error).message}`);
  }
}

/** A Hugging Face fast tokenizer (`tokenizer.json`), run by `@huggingface/tokenizers`. */
export class HFTokenizer implements Tokenizer {
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  readonly vocabSize: number;
  private readonly impl: HFTokenizerImpl;

  /**
   * @param tokenizerJson parsed tokenizer.json
   * @param tokenizerConfig parsed tokenizer_config.json ({} when absent)
   * @param modelConfig config.json, the fallback for special token ids
   */
  constructor(tokenizerJson: object, tokenizerConfig: Record<string, unknown> = {}, modelConfig: ModelConfig = {}) {
    this.impl = new HFTokenizerImpl(tokenizerJson, tokenizerConfig);
    let maxId = -1;
    for (const id of this.impl.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
    const idOf = (key: string): number | undefined => {
      const text = specialTokenText(tokenizerConfig[key]);
      const fromTokenizer = text === undefined ? undefined : this.impl.token_to_id(text);
      return fromTokenizer ?? configTokenId(modelConfig, key);
    };
    this.bosId = idOf('bos_token');
    this.eosId = idOf('eos_token');
    this.padId = idOf('pad_token');
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.impl.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    return this.impl.decode(Array.from(ids), { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  idToToken(id: number): string | undefined {
    return this.impl.id_to_token(id);
  }
}

/**
 * The Hugging Face tokenizer of a model folder: `tokenizer.json` plus `tokenizer_config.json` when
 * present. Undefined when the folder has no `tokenizer.json`.
 */
export function loadHFTokenizer(dir: string, modelConfig: ModelConfig = {}): HFTokenizer | undefined {
  const jsonPath = join(dir, 'tokenizer.json');
  if (!existsSync(jsonPath)) return undefined;
  const tokenizerConfig = readTokenizerConfig(dir);
  const json = readJson(jsonPath);
  checkTokenizerJson(jsonPath, json);
  try {
    const tokenizer = new HFTokenizer(json, tokenizerConfig, modelConfig);
    // a damaged post-processor or decoder only fails when used: try it once here, where the file is known
    tokenizer.decode(tokenizer.encode('Probe 12, é 🎉'));
    return tokenizer;
  } catch (err) {
    throw new Error(`${jsonPath}: cannot build tokenizer: ${(err as Error).message}`);
  }
}
