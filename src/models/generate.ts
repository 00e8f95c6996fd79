/**
 * Autoregressive generation with a KV cache: prompts are left-padded into one batch, the prompt
 * runs once (prefill), then each step feeds one token per row and attends to the cached keys.
 * Greedy by default; temperature / top-k / top-p sampling with a seeded Rng. A row stops at an EOS
 * token; rows that stopped keep being fed the pad token (as HF does) until every row is done or
 * `maxNewTokens` is reached.
 */
import { Rng } from '../tensor/random.ts';
import type { DecoderModel } from './decoder.ts';
import { sampleToken, type SamplingOptions } from './sampling.ts';
import type { KVCache } from './types.ts';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Stop tokens (default: the config's eos_token_id). Pass [] to never stop early. */
  eosTokenIds?: number[];
  /** Token used for left padding and for finished rows (default pad_token_id, else the first EOS, else 0). */
  padTokenId?: number;
  /** Random source for sampling (default `new Rng(seed ?? 0)`). */
  rng?: Rng;
  seed?: number;
  /** Reuse keys/values across steps (default true); false recomputes the whole sequence each step. */
  useCache?: boolean;
}

export interface GenerateResult {
  /** New tokens per prompt (up to and including the EOS that stopped it). */
  tokens: number[][];
  /** Prompt followed by its new tokens. */
  sequences: number[][];
  /** Whether each row stopped at an EOS token. */
  stoppedAtEos: boolean[];
}

/** Continue each prompt (token ids) with up to `maxNewTokens` tokens. */
export function generate(model: DecoderModel, prompts: readonly (readonly number[])[], options: GenerateOptions): GenerateResult {
  if (prompts.length === 0) throw new Error('generate: no prompts');
  if (prompts.some((p) => p.length === 0)) throw new Error('generate: every prompt needs at least one token (e.g. BOS)');
  if (!(Number.isInteger(options.maxNewTokens) && options.maxNewTokens >= 0)) {
    throw new Error(`generate: maxNewTokens must be a non-negative integer, got ${options.maxNewTokens}`);
  }
  const cfg = model.config;
  const eos = new Set(options.eosTokenIds ?? cfg.eosTokenIds);
  if (options.padTokenId !== undefined && !(options.padTokenId >= 0 && options.padTokenId < cfg.vocabSize)) {
    throw new Error(`generate: padTokenId ${options.padTokenId} is outside the vocabulary (size ${cfg.vocabSize})`);
  }
  const pad = [options.padTokenId, cfg.padTokenId, cfg.eosTokenIds[0]].find((id) => id !== undefined && id >= 0 && id < cfg.vocabSize) ?? 0;
  const rng = options.rng ?? new Rng(options.seed ?? 0);
  const useCache = options.useCache ?? true;
  const B = prompts.length;
  const width = Math.max(...prompts.map((p) => p.length));
  const ids = prompts.map((p) => [...new Array<number>(width - p.length).fill(pad), ...p]);
  const mask = prompts.map((p) => [...new Array<number>(width - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
  const padded = mask.some((row) => row[0] === 0);

  const tokens: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  let cache: KVCache | undefined;
  let step = 0;
  while (step < options.maxNewTokens && !done.every(Boolean)) {
    let logits;
    if (useCache) {
      const input = step === 0 ? ids : ids.map((row) => [row[row.length - 1]]);
      const inputMask = step === 0 ? (padded ? mask : undefined) : mask.map(() => [1]);
      const out = model.forward(input, { attentionMask: inputMask, cache: cache ?? true, lastTokenLogitsOnly: true });
      cache = out.cache;
      logits = out.logits;
    } else {
      logits = model.forward(ids, { attentionMask: padded ? mask : undefined, lastTokenLogitsOnly: true }).logits;
    }
    const V = logits.dim(-1);
    for (let b = 0; b < B; b++) {
      let next = pad;
      if (!done[b]) {
        next = sampleToken(logits.data.subarray(b * V, (b + 1) * V), options, rng);
        tokens[b].push(next);
        if (eos.has(next)) done[b] = true;
      }
      ids[b].push(next);
      mask[b].push(1);
    }
    step++;
  }
  return {
    tokens,
    sequences: prompts.map((p, b) => [...p, ...tokens[b]]),
    stoppedAtEos: tokens.map((t) => t.length > 0 && eos.has(t[t.length - 1])),
  };
}
