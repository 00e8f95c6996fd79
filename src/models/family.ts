/**
 * The contract each architecture module fulfils. A module knows its checkpoint's tensor names and
 * shapes, how to run embed → blocks → final norm → head, and where LASER's matrices live.
 * Weights stay in their Hugging Face layout; modules pass transpose flags instead of copying.
 * The forward steps are written once against `Ops<T>` (ops.ts): with eager ops on tensors they are
 * the inference runtime (decoder.ts), with tape ops on autograd Vars the training model
 * (src/train/trainable-model.ts).
 */
import type { DecoderConfig, FamilyName, NormConfig } from './config.ts';
import type { BlockResult, Ops } from './ops.ts';
import type { ForwardContext, MatrixTable } from './types.ts';

/** A tensor the model reads, with the shape it must have. */
export interface WeightSpec {
  name: string;
  shape: number[];
}

/** Resolves a weight by its full HF name: a tensor (inference) or a parameter Var (training). */
export type Weights<T> = (name: string) => T;

export interface Architecture {
  readonly config: DecoderConfig;
  /** Prefix of the body's names in this checkpoint (e.g. "model.", "transformer.", or ""). */
  readonly prefix: string;
  /** Weights outside the blocks (embeddings, final norm, head), in checkpoint order. */
  globalWeights(): WeightSpec[];
  blockWeights(layer: number): WeightSpec[];
  /** Token ids (B·T, row-major) → the hidden state fed to block 0, [B, T, D]. */
  embed<T>(o: Ops<T>, w: Weights<T>, ids: readonly number[], ctx: ForwardContext): T;
  block<T>(o: Ops<T>, w: Weights<T>, layer: number, x: T, ctx: ForwardContext): BlockResult<T>;
  /** Final norm (and OPT's project_out): the last entry of HF's hidden_states. */
  finalNorm<T>(o: Ops<T>, w: Weights<T>, x: T): T;
  lmHead<T>(o: Ops<T>, w: Weights<T>, x: T): T;
  /** LASER's matrix types of block `layer` → tensor name, layout and ranges. */
  matrices(layer: number): MatrixTable;
}

export interface Family {
  name: FamilyName;
  /** Body prefixes to try, preferred first; the one under which `embeddingName` exists wins. */
  prefixes: string[];
  embeddingName: string;
  create(config: DecoderConfig, prefix: string): Architecture;
}

/** Weight spec helper: `spec('x.weight', [a, b])`. */
export const spec = (name: string, shape: number[]): WeightSpec => ({ name, shape });

/** The LM head's weight name: the token embedding when tied, else `lm_head.weight` (or `headName`). */
export function headWeightName(config: DecoderConfig, embeddingFullName: string, headName = 'lm_head.weight'): string {
  return config.tieWordEmbeddings ? embeddingFullName : headName;
}

/** `name.weight` of `shape`, and `name.bias` of [shape[0]] when `bias`. */
export const withBias = (name: string, shape: number[], bias: boolean): WeightSpec[] =>
  [spec(`${name}.weight`, shape), ...(bias ? [spec(`${name}.bias`, [shape[0]])] : [])];

/** The linear layer `name` (`name.weight`, and `name.bias` when `bias`) applied to x. */
export const dense = <T>(o: Ops<T>, w: Weights<T>, name: string, x: T, bias: boolean): T =>
  o.project(x, w(`${name}.weight`), bias ? w(`${name}.bias`) : undefined);

/** The norm layer `name` with weight and bias (LayerNorm) applied to x. */
export const normWithBias = <T>(o: Ops<T>, w: Weights<T>, norm: NormConfig, name: string, x: T): T =>
  o.norm(norm, x, w(`${name}.weight`), w(`${name}.bias`));
