/**
 * A forward pass split at a block boundary.
 *
 * With h₀ = embed(x) and h_{i+1} = block_i(h_i), the residual stream entering block ℓ,
 * h_ℓ = (block_{ℓ−1} ∘ … ∘ block_0)(embed(x)), depends on the embedding and on blocks 0…ℓ−1 only.
 * Any change confined to blocks ≥ ℓ (e.g. a LASER intervention at layer ℓ) leaves h_ℓ unchanged,
 * so h_ℓ can be computed once with `residualEntering` and every variant finished with
 * `runBlocksFrom`, which runs blocks ℓ…L−1 and returns h_L (before the final norm).
 *
 * The call context (masks, position ids, RoPE/ALiBi tables) depends on the inputs alone and is
 * reused as is. That is only sound when no block writes to it, i.e. without a KV cache and without
 * keeping attention probabilities; `residualEntering` refuses both.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { ForwardInputs } from './context.ts';
import type { ForwardContext } from './types.ts';

/** The stages of a model that this split needs (src/models' `DecoderModel` has them). */
export interface BlockStages {
  readonly config: { numLayers: number };
  embed(inputIds: readonly (readonly number[])[], options?: ForwardInputs): { hidden: Tensor; ctx: ForwardContext };
  runBlock(layer: number, hidden: Tensor, ctx: ForwardContext): { hidden: Tensor };
}

/** The residual stream entering block `layer` ([B, T, D]; `layer` = L gives the last block's output) and the reusable context. */
export function residualEntering(
  model: BlockStages,
  layer: number,
  inputIds: readonly (readonly number[])[],
  options: Pick<ForwardInputs, 'attentionMask' | 'positionIds'> & { cache?: never; keepAttentionProbs?: never } = {},
): { hidden: Tensor; ctx: ForwardContext } {
  checkBoundary(model, layer);
  const opts = options as ForwardInputs;
  if (opts.cache !== undefined || opts.keepAttentionProbs) throw new Error('residualEntering: a reusable context cannot build a KV cache or keep attention probabilities');
  const { hidden, ctx } = model.embed(inputIds, options);
  return { hidden: runBlocks(model, 0, layer, hidden, ctx), ctx };
}

/** Blocks `layer`…L−1 applied to `hidden` (the stream entering `layer`): the last block's output. `hidden` is not modified. */
export function runBlocksFrom(model: BlockStages, layer: number, hidden: Tensor, ctx: ForwardContext): Tensor {
  checkBoundary(model, layer);
  return runBlocks(model, layer, model.config.numLayers, hidden, ctx);
}

/** Blocks `from`…`to`−1 applied to the stream entering `from`: the stream entering `to`. `hidden` is not modified. */
export function runBlocksBetween(model: BlockStages, from: number, to: number, hidden: Tensor, ctx: ForwardContext): Tensor {
  checkBoundary(model, from);
  checkBoundary(model, to);
  if (from > to) throw new Error(`runBlocksBetween: ${from} > ${to}`);
  return runBlocks(model, from, to, hidden, ctx);
}

function runBlocks(model: BlockStages, from: number, to: number, hidden: Tensor, ctx: ForwardContext): Tensor {
  let h = hidden;
  for (let l = from; l < to; l++) h = model.runBlock(l, h, ctx).hidden;
  return h;
}

function checkBoundary(model: BlockStages, layer: number): void {
  const L = model.config.numLayers;
  if (!(Number.isInteger(layer) && layer >= 0 && layer <= L)) throw new Error(`block boundary ${layer} is out of range 0…${L}`);
}
