/**
 * Logits at chosen positions only. Factual-recall scoring needs the next-token distribution at a
 * few positions per sequence (the answer positions), not at every prompt token; with a large
 * vocabulary the LM head over every position can cost as much as the rest of the model. When the
 * model exposes its stages (src/models' `DecoderModel`: embed → runBlock… → finalNorm → lmHead),
 * we run the blocks on the whole batch, gather the hidden states of the wanted positions, and apply
 * the final norm and the head to those rows only (both act on each token separately, so the
 * result equals the full forward's rows up to float rounding). Otherwise we run `forward` and copy
 * the rows out.
 */
import { Tensor, allocate } from '../tensor/tensor.ts';
import type { CausalLM, ForwardOptions } from './model-api.ts';
import { isLayerMajorModel, type LayerMajorModel } from '../models/layer-major.ts';
import { gatherPositions } from '../models/gather-positions.ts';

/**
 * Logits [N, V] for the (row, position) pairs `at`, in that order.
 * @param at pairs [b, t] into the [B, T] batch
 */
export async function logitsAt(model: CausalLM, inputIds: number[][], opts: ForwardOptions, at: readonly (readonly [number, number])[]): Promise<Tensor> {
  const T = inputIds[0].length;
  if (isLayerMajorModel(model)) {
    const { hidden: h0, ctx } = model.embed(inputIds, opts);
    let h = h0;
    for (let l = 0; l < model.config.numLayers; l++) h = model.runBlock(l, h, ctx).hidden;
    return headAt(model, h, at);
  }
  const { logits } = await model.forward(inputIds, opts);
  const V = logits.shape[2];
  const out = new Tensor(allocate(logits.dtype, at.length * V), [at.length, V]);
  at.forEach(([b, t], i) => out.data.set(logits.data.subarray((b * T + t) * V, (b * T + t + 1) * V), i * V));
  return out;
}

/**
 * Logits [N, V] at the (row, position) pairs `at` of the last block's output `hidden` [B, T, D]
 * (holding positions from `from` on): the final norm and the LM head applied to those rows only.
 */
export function headAt(model: Pick<LayerMajorModel, 'finalNorm' | 'lmHead'>, hidden: Tensor, at: readonly (readonly [number, number])[], from = 0): Tensor {
  const logits = model.lmHead(model.finalNorm(gatherPositions(hidden, at, from)));
  return logits.reshape(at.length, logits.shape[2]);
}
