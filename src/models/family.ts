/**
 * The contract each architecture module fulfils. A module knows its checkpoint's tensor names and
 * shapes, how to run embed → blocks → final norm → head, and where LASER's matrices live.
 * Weights stay in their Hugging Face layout; modules pass transpose flags instead of copying.
 */
import { embedding } from '../tensor/embedding.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { DecoderConfig, FamilyName } from './config.ts';
import type { BlockOutput, ForwardContext, MatrixTable, WeightGetter } from './types.ts';

/** A tensor the model reads, with the shape it must have. */
export interface WeightSpec {
  name: string;
  shape: number[];
}

export interface Architecture {
  readonly config: DecoderConfig;
  /** Prefix of the body's names in this checkpoint (e.g. "model.", "transformer.", or ""). */
  readonly prefix: string;
  /** Weights outside the blocks (embeddings, final norm, head), in checkpoint order. */
  globalWeights(): WeightSpec[];
  blockWeights(layer: number): WeightSpec[];
  /** Token ids (B·T, row-major) → the hidden state fed to block 0, [B, T, D]. */
  embed(w: WeightGetter, ids: readonly number[], ctx: ForwardContext): Tensor;
  block(w: WeightGetter, layer: number, x: Tensor, ctx: ForwardContext): BlockOutput;
  /** Final norm (and OPT's project_out): the last entry of HF's hidden_states. */
  finalNorm(w: WeightGetter, x: Tensor): Tensor;
  lmHead(w: WeightGetter, x: Tensor): Tensor;
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

/** Token embedding rows for a flat id list, shaped [B, T, D]. */
export function embedTokens(table: Tensor, ids: readonly number[], ctx: ForwardContext): Tensor {
  return embedding(table, ids, [ctx.batch, ctx.length]);
}

/** Rows of a learned position table, with a clear error past its end. */
export function embedPositions(table: Tensor, positions: readonly number[], ctx: ForwardContext, offset = 0, what = 'learned positions'): Tensor {
  const limit = table.shape[0] - offset;
  for (const p of positions) {
    if (p >= limit) throw new Error(`forward: position ${p} is beyond the model's ${limit} ${what} (sequence too long)`);
  }
  return embedding(table, offset === 0 ? positions : positions.map((p) => p + offset), [ctx.batch, ctx.length]);
}

/** Weight spec helper: `spec('x.weight', [a, b])`. */
export const spec = (name: string, shape: number[]): WeightSpec => ({ name, shape });

/** The LM head's weight name: the token embedding when tied, else `lm_head.weight` (or `headName`). */
export function headWeightName(config: DecoderConfig, embeddingFullName: string, headName = 'lm_head.weight'): string {
  return config.tieWordEmbeddings ? embeddingFullName : headName;
}
