/**
 * Options of a linearity run, with the paper's defaults ("Your Transformer is Secretly Linear",
 * Razzhigaev et al., ACL 2024): 128 random slices of 512 characters, seed 0, BOS kept.
 */
import type { LastBlockMode } from '../analysis/hidden-states.ts';
import type { LinearityVariant } from '../analysis/linearity-statistics.ts';
import type { DType } from '../tensor/tensor.ts';

/** Where the token sequences come from. */
export type DataSpec =
  /** Texts (any `loadTexts` source) cut into random character slices, then tokenized. */
  | { kind: 'text'; path: string; field?: string; column?: string; split?: string }
  /** Token ids as they are: a JSON array of id arrays, or JSONL with one id array (or {ids}) per line. */
  | { kind: 'ids'; path: string }
  /** `samples` sequences of `length` uniform random token ids (seeded). */
  | { kind: 'random'; length: number };

/** How sequences are drawn and tokenized. */
export interface SamplingOptions {
  /** Number of character slices / random sequences (paper: 128). */
  samples: number;
  /** Slice length in characters (paper: 512). */
  chars: number;
  /** Seed of the slice starts / random ids (paper: 0). */
  seed: number;
  /** Prepend the tokenizer's BOS token to text slices (default true; ids are used verbatim). */
  bos: boolean;
  /** Truncate every sequence to this many tokens (default: the model's context length). */
  maxTokens?: number;
}

/** What is measured and how. Everything here changes the numbers, so all of it is in the cache key. */
export interface AnalysisOptions {
  /** How the last block's output is taken (default 'preFinalNorm'). */
  lastPair: LastBlockMode;
  /** Also score each block's attention and MLP parts. */
  parts: boolean;
  /** Anisotropy and mean cosine similarity of every state. */
  anisotropy: boolean;
  /** TwoNN intrinsic dimension of every state on its first `idTokens` tokens. */
  intrinsicDim: boolean;
  idTokens: number;
  /** Logit lens (cross-entropy, top-1 accuracy, KL to the final distribution) per layer. */
  logitLens: boolean;
  /** Keep the K tokens each pair's linear map fits worst (0 = off; costs a second pass of forwards). */
  perToken: number;
  /** Which fitted map the per-token residuals are taken from. */
  perTokenVariant: LinearityVariant;
  /** Sequences per forward. */
  batchSize: number;
  padding: 'left' | 'right';
  /** Relative ridge of the robust solver. */
  ridge?: number;
  /** Eigenvalue cutoff of the exact solver (default max(N, d)·ε). */
  rcond?: number;
  /** Compute dtype of the model. */
  dtype: DType;
}

/** How the model is run; does not change the numbers (not in the cache key). */
export interface ExecutionOptions {
  /** Keep only one block's weights in memory at a time. */
  streaming: boolean;
  /** Memory budget in bytes; the residual stream spills to disk above it (default 80 % of the available memory). */
  maxMemory?: number;
}

export const DEFAULT_SAMPLING: SamplingOptions = { samples: 128, chars: 512, seed: 0, bos: true };

export const DEFAULT_ANALYSIS: AnalysisOptions = {
  lastPair: 'preFinalNorm',
  parts: false,
  anisotropy: false,
  intrinsicDim: false,
  idTokens: 4096,
  logitLens: false,
  perToken: 0,
  perTokenVariant: 'withResidual',
  batchSize: 8,
  padding: 'right',
  dtype: 'float32',
};

function positiveInteger(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be a positive integer, got ${value}`);
}

/** Throws a clear error for impossible settings. */
export function checkOptions(sampling: SamplingOptions, analysis: AnalysisOptions): void {
  positiveInteger(sampling.samples, '--samples');
  positiveInteger(sampling.chars, '--chars');
  if (!Number.isInteger(sampling.seed)) throw new Error(`--seed must be an integer, got ${sampling.seed}`);
  if (sampling.maxTokens !== undefined) {
    positiveInteger(sampling.maxTokens, '--max-tokens');
    if (sampling.maxTokens < 2) throw new Error('--max-tokens must be at least 2 (a pair of layers needs tokens to compare)');
  }
  positiveInteger(analysis.batchSize, '--batch-size');
  positiveInteger(analysis.idTokens, '--id-tokens');
  if (analysis.intrinsicDim && analysis.idTokens < 3) throw new Error('--id-tokens must be at least 3 for TwoNN');
  if (!Number.isInteger(analysis.perToken) || analysis.perToken < 0) throw new Error(`--per-token must be a non-negative integer, got ${analysis.perToken}`);
  if (analysis.ridge !== undefined && !(analysis.ridge > 0)) throw new Error(`--ridge must be positive, got ${analysis.ridge}`);
  if (analysis.rcond !== undefined && !(analysis.rcond >= 0 && analysis.rcond < 1)) throw new Error(`--rcond must be in [0, 1), got ${analysis.rcond}`);
}
