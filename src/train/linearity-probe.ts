/**
 * The linearity profile of a model during or after training, measured by src/analysis on a few
 * batches: for every block i the linearity score of h_i → h_{i+1} over the residual stream
 * (embeddings, block outputs before the final norm), with the residual (Y = h_{i+1}) and without it
 * (Y = h_{i+1} − h_i), exact (pseudo-inverse) solver — the paper's Table 1 quantities.
 */
import { LinearityProfileAccumulator } from '../analysis/linearity-profile.ts';
import type { Tensor } from '../tensor/tensor.ts';

export interface LayerLinearity {
  block: number;
  withResidual: number;
  withoutResidual: number;
}

export interface LinearitySummary {
  tokens: number;
  layers: LayerLinearity[];
  meanWithResidual: number;
  meanWithoutResidual: number;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Streams the states of each batch (L + 1 tensors [B, T, d] or [N, d], from `statesOf`) into one
 * profile and solves it. `rows` optionally selects the real (unpadded) tokens of a batch.
 */
export function measureLinearity<B>(batches: readonly B[], statesOf: (b: B) => { states: readonly Tensor[]; rows?: ArrayLike<number> }): LinearitySummary {
  if (batches.length === 0) throw new Error('linearity: no batches to measure on');
  let acc: LinearityProfileAccumulator | undefined;
  for (const b of batches) {
    const { states, rows } = statesOf(b);
    acc ??= new LinearityProfileAccumulator({ dim: states[0].shape[states[0].shape.length - 1], blocks: states.length - 1, anisotropy: false });
    acc.add({ states, rows });
  }
  const profile = acc!.result({ robust: false });
  const layers = profile.blocks.map((b) => ({ block: b.block, withResidual: b.layer.withResidual.exact, withoutResidual: b.layer.withoutResidual.exact }));
  return {
    tokens: profile.tokens,
    layers,
    meanWithResidual: mean(layers.map((l) => l.withResidual)),
    meanWithoutResidual: mean(layers.map((l) => l.withoutResidual)),
  };
}
