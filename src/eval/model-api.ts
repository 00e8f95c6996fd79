/**
 * What evaluation needs from a model and a tokenizer. src/models' `DecoderModel` and src/io's
 * `Tokenizer` satisfy these structurally; tests use tiny hand-made models.
 */
import type { Tensor } from '../tensor/tensor.ts';

export interface ForwardOptions {
  /** [B][T]: 1 for real tokens, 0 for (left) padding. */
  attentionMask?: number[][];
}

/** A causal language model: token ids [B][T] → next-token logits [B, T, V]. */
export interface CausalLM {
  forward(inputIds: number[][], opts?: ForwardOptions): { logits: Tensor } | Promise<{ logits: Tensor }>;
}

/** Tokenizer methods evaluation uses. */
export interface EvalTokenizer {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  bosId?: number;
  eosId?: number;
  padId?: number;
}

/**
 * Greedy generation for a left-padded batch: returns only the new tokens of each row (at most
 * `maxNewTokens`, ending early after `eosId`). src/models/generate.ts provides a KV-cached one.
 */
export type GenerateFn = (prompts: number[][], maxNewTokens: number, opts: { eosId?: number; padId: number }) => Promise<number[][]>;
