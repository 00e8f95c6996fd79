/**
 * The parts of an exported checkpoint beyond plain dense weights, shared by every exporter:
 *
 * - linear maps between blocks → tensors `linscope_maps.<n>.weight` (W = Aᵀ, PyTorch Linear layout,
 *   float32) and `.bias`, and the `linscope.linear_maps` entries (src/prune/linear-maps-format.ts);
 * - weights held as `LowRankWeight` → dense, or (factored) their two factors `<name>.laser_left`,
 *   `<name>.laser_right` and the `linscope_low_rank` entry (src/io/low-rank-format.ts);
 * - weights of a streamed model that were not replaced → lazy tensors, read from the checkpoint
 *   when the writer reaches them and dropped after, so an export never holds the whole model.
 */
import { LEFT_SUFFIX, lowRankEntry, RIGHT_SUFFIX, type LowRankEntry } from '../io/low-rank-format.ts';
import type { StoredLinearMap } from '../prune/linear-maps-format.ts';
import type { MapInput } from '../prune/types.ts';
import { isLowRank } from '../tensor/low-rank.ts';
import type { LazyTensor, RawTensor } from '../io/safetensors-write.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { DecoderModel } from '../models/decoder.ts';
import { familyFor } from '../models/registry.ts';

/** A map to store: A in x·A form ([d, d], any dtype), optional bias, where it runs. */
export interface MapToStore {
  afterLayer: number;
  input: MapInput;
  weight: Tensor;
  bias?: Tensor;
  /** Original blocks it stands for (informative). */
  replaces?: number[];
  /** 'mlp' maps: name of the MLP output projection tensor of block `afterLayer` (in the export). */
  mlpOutputTensor?: string;
}

export const MAP_TENSOR_PREFIX = 'linscope_maps.';

/** Tensors and config entries of `maps`, numbered in order; the tensors stay F32 whatever the export's dtype. */
export function storeLinearMaps(maps: readonly MapToStore[]): { entries: StoredLinearMap[]; tensors: Record<string, RawTensor> } {
  const entries: StoredLinearMap[] = [];
  const tensors: Record<string, RawTensor> = {};
  maps.forEach((m, n) => {
    const entry: StoredLinearMap = {
      after_layer: m.afterLayer,
      input: m.input,
      weight: `${MAP_TENSOR_PREFIX}${n}.weight`,
      bias: m.bias ? `${MAP_TENSOR_PREFIX}${n}.bias` : null,
      ...(m.replaces ? { replaces: m.replaces } : {}),
    };
    if (m.input === 'mlp') {
      if (!m.mlpOutputTensor) throw new Error(`an 'mlp' linear map after block ${m.afterLayer} needs the block's MLP output projection`);
      entry.mlp_output = m.mlpOutputTensor.replace(/\.weight$/, '');
    }
    tensors[entry.weight] = { dtype: 'F32', shape: [...m.weight.shape], data: transposedF32(m.weight).data };
    if (m.bias) tensors[entry.bias!] = { dtype: 'F32', shape: [...m.bias.shape], data: Float32Array.from(m.bias.data) };
    entries.push(entry);
  });
  return { entries, tensors };
}

/** What an exporter needs of a model to write its weights. */
export interface WeightsToWrite {
  readonly streaming: boolean;
  getWeight(name: string): Tensor;
  weightShape(name: string): number[];
  modifiedWeightNames(): string[];
}

/**
 * Weight `name` of `model` for the writer: as held, or — for a streamed model, a weight not
 * replaced — a lazy tensor read from the checkpoint when written (a checkpoint-factored weight is
 * then written dense).
 */
export function weightToWrite(model: WeightsToWrite, name: string, modified = new Set(model.modifiedWeightNames())): Tensor | LazyTensor {
  if (!model.streaming || modified.has(name)) return model.getWeight(name);
  return {
    lazy: true, shape: model.weightShape(name),
    load: () => {
      const w = model.getWeight(name);
      return isLowRank(w) ? w.dense() : w;
    },
  };
}

/** Weights by name → tensors to write, factored weights as factors when `factored`, else dense; lazy tensors as they are. */
export function storeWeights(weights: Iterable<[string, Tensor | LazyTensor]>, factored: boolean): { tensors: Record<string, Tensor | LazyTensor>; lowRank?: LowRankEntry } {
  const tensors: Record<string, Tensor | LazyTensor> = {};
  const ranks = new Map<string, number>();
  for (const [name, w] of weights) {
    if (!(w instanceof Tensor)) {
      tensors[name] = w;
    } else if (factored && isLowRank(w)) {
      tensors[name + LEFT_SUFFIX] = w.left;
      tensors[name + RIGHT_SUFFIX] = w.right;
      ranks.set(name, w.rank);
    } else {
      tensors[name] = isLowRank(w) ? w.dense() : w;
    }
  }
  return ranks.size > 0 ? { tensors, lowRank: lowRankEntry(ranks) } : { tensors };
}

/** [d, d] → its transpose in float32 (A in x·A form → W in PyTorch Linear form, W = Aᵀ). */
function transposedF32(m: Tensor): Tensor {
  const d = m.shape[0];
  const out = Tensor.zeros([d, d], 'float32');
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out.data[j * d + i] = m.data[i * d + j];
  return out;
}

/**
 * The body prefix a checkpoint's tensor names use and the one transformers' CausalLM class expects
 * (the family's first: `transformer.`, `model.`, `model.decoder.`, `gpt_neox.`); undefined when equal.
 */
export function checkpointPrefix(model: DecoderModel): { from: string; to: string } | undefined {
  const family = familyFor(model.config);
  const from = family.prefixes.find((p) => model.source.hasTensor(p + family.embeddingName));
  const to = family.prefixes[0];
  return from === undefined || from === to ? undefined : { from, to };
}

/** A loaded checkpoint's own linear maps, to store again unchanged (same blocks, same names). */
export function checkpointMaps(model: DecoderModel): MapToStore[] {
  return model.linearMaps.map((m) => ({
    afterLayer: m.afterLayer, input: m.input, weight: m.weight, bias: m.bias, replaces: m.entry.replaces,
    mlpOutputTensor: m.input === 'mlp' ? model.matrices(m.afterLayer).out?.tensorName : undefined,
  }));
}
