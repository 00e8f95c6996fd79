/**
 * The results of a linearity run as plain JSON-like records (what `linearity.json` holds and the
 * cache stores): per model, one entry per consecutive pair of states and one per state.
 */
import type { LayerLens } from '../analysis/logit-lens.ts';
import type { AnalysisOptions, SamplingOptions } from './options.ts';

/** One solver's and variant's numbers. */
export interface Scores {
  /** Pseudo-inverse score: the paper's definition. */
  exact: number;
  /** Ridge score (slightly below `exact`; insensitive to near-null directions). */
  robust: number;
  /** Directions of X the exact solver kept. */
  rank: number;
}

/** Linearity of one map X → Y, with and without the residual stream. */
export interface PairScores {
  withResidual: Scores;
  withoutResidual: Scores;
}

/** The pair states[from] → states[to] (to = from + 1): block `from`, or block + final norm. */
export interface PairResult {
  block: number;
  from: number;
  to: number;
  /** Normalised depth block / (pairs − 1). */
  depth: number;
  /** True when the target state is after the final norm (`--last-pair finalNorm`). */
  includesFinalNorm: boolean;
  layer: PairScores;
  attention?: PairScores;
  mlp?: PairScores;
}

/** TwoNN intrinsic dimension of one state. */
export interface IntrinsicDimensionResult {
  dimension: number;
  maximumLikelihood: number;
  points: number;
  discarded: number;
}

/** Companion metrics of one state of the residual stream. */
export interface StateResult {
  state: number;
  /** Normalised depth state / (states − 1). */
  depth: number;
  /** Authors' anisotropy: top covariance eigenvalue share. */
  anisotropy?: number;
  meanCosine?: number;
  intrinsicDimension?: IntrinsicDimensionResult;
}

/** One of the tokens a pair's linear map fits worst. */
export interface WorstTokenRecord {
  /** Index of the sequence in the probe set and position in it. */
  sequence: number;
  position: number;
  token: number;
  /** The token as text (its id when there is no tokenizer). */
  text: string;
  /** A few tokens either side, the token itself in ⟦ ⟧. */
  context: string;
  /** ‖x_n A − t_n‖²: its share of 1 − score. */
  residual: number;
  /** residual / ‖t_n‖² (1 = no better than predicting the mean). */
  relative: number;
}

/** Wall-clock seconds per stage. */
export interface Timings {
  forward: number;
  statistics: number;
  solve: number;
  intrinsicDimension?: number;
  logitLens?: number;
  /** Second pass: forwards again + residuals of the fitted maps. */
  perToken?: number;
  total: number;
}

/** What was analysed. */
export interface ModelInfo {
  /** As given on the command line (path or hub id). */
  spec: string;
  /** Short name used in tables and charts. */
  label: string;
  modelType: string;
  layers: number;
  hiddenSize: number;
  vocabSize: number;
  parallelResidual: boolean;
  /** Identity used in the cache key: the content fingerprint of the model folder (src/io/fingerprint.ts), or as given. */
  identity: unknown;
}

export interface ModelLinearity {
  model: ModelInfo;
  /** Real (non-pad) tokens in the statistics. */
  tokens: number;
  sequences: number;
  /** Pad slots excluded from the statistics. */
  padTokens: number;
  batches: number;
  pairs: PairResult[];
  states: StateResult[];
  /** One entry per hidden state 0 … L (the last is the last block's output before the final norm). */
  logitLens?: LayerLens[];
  /** Per pair (same order as `pairs`), worst first. */
  worstTokens?: WorstTokenRecord[][];
  /** Hash of the token sequences analysed (the data's identity after tokenization). */
  sequencesHash: string;
  timings: Timings;
  computedAt: string;
  /** True when this result came from the cache. */
  cached: boolean;
  /** Why the numbers may mislead (e.g. too few tokens for the hidden size); set on every run, never cached. */
  warnings?: string[];
}

/** Everything `linearity.json` holds. */
export interface LinearityRun {
  tool: 'linscope linearity';
  version: string;
  createdAt: string;
  command?: string;
  data: DataInfo;
  sampling: SamplingOptions;
  options: AnalysisOptions;
  models: ModelLinearity[];
  /** Wall-clock seconds of the whole run, cache hits included. */
  seconds: number;
}

/** Where the probe set came from. */
export interface DataInfo {
  kind: 'text' | 'ids' | 'random';
  /** Human-readable description, e.g. "128 slices of 512 chars (seed 0) of tinystories_val.txt". */
  description: string;
  /** Source identity: the path as given and the content fingerprint of what it holds. */
  identity: unknown;
}
