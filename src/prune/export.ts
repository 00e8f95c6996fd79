/**
 * Export a pruned model as a Hugging Face folder.
 *
 * Dropped and replaced blocks are removed: the kept blocks are renumbered 0 … L' − 1 (their tensors
 * renamed accordingly) and the layer count in config.json is set to L' (per-layer lists such as
 * `layer_types` are filtered). Tokenizer files are copied; `prune.json` records what was done.
 *
 * Linear maps. A map replacing a span acts on the residual stream, h ↦ h·A + b. Folding that into
 * the previous block's MLP output projection alone is not exact: the previous block writes
 * h = r + m (r its residual stream before the MLP, m = a·W_outᵀ + b_out the MLP output), and
 * h·A = r·A + m·A, while a folded W_out only changes m — r would pass through unchanged. Folding is
 * exact exactly when the map leaves r alone, i.e. in ReplaceMe's form h_out ≈ r + m·A + b, which
 * is our 'mlp' map (fitted on the MLP output, types.ts). Then
 *
 *     m·A + b = a·(W_outᵀA) + (b_out·A + b)   ⇒   W_out' = AᵀW_out  ([out, in] layout; W·A for GPT-2's
 *                                                   [in, out] Conv1D),   b_out' = b_out·A + b
 *
 * and the checkpoint stays a plain HF checkpoint. Conditions, all checked:
 * - the map is an 'mlp' map and the block before the span is kept (by construction);
 * - that block adds its MLP output to the residual stream last, with nothing after it (pre-norm and
 *   parallel blocks; not OPT's post-LN blocks, do_layer_norm_before = false, which normalise the sum);
 * - the MLP output projection is its own tensor (not fused), and it has a bias tensor whenever the
 *   map's bias is non-zero (Llama-style MLPs without bias need a map fitted without bias).
 * Every other map is stored beside the weights (format: linear-maps-format.ts) and the folder gets
 * linscope's modeling file (src/export/custom-code.ts): transformers loads it with
 * `trust_remote_code=True` and refuses it without. A source checkpoint's own maps are carried over
 * with their blocks (after block j: block j's; on the embeddings: block 0's). The folder is written by the one writer, src/export/hf-folder.ts.
 */
import { backend } from '../backend/index.ts';
import type { FloatStorage } from '../io/safetensors.ts';
import { vanillaConfig } from '../export/custom-code.ts';
import { writeHFFolder } from '../export/hf-folder.ts';
import { checkpointPrefix, storeLinearMaps, storeWeights, weightToWrite, type MapToStore } from '../export/model-parts.ts';
import type { LazyTensor } from '../io/safetensors-write.ts';
import type { DecoderModel } from '../models/decoder.ts';
import { readBias, readMatrix, writeBias, writeMatrix, type MatrixRef } from '../models/matrices.ts';
import { Tensor } from '../tensor/tensor.ts';
import { LINEAR_MAPS_FORMAT, LINSCOPE_CONFIG_KEY, type StoredLinearMap } from './linear-maps-format.ts';
import type { PrunedModel } from './pruned-model.ts';
import { spanLabel, type LinearMap, type Replacement } from './types.ts';

export interface PruneExportOptions {
  /** Storage dtype of the model weights (default F32; maps are always F32). */
  dtype?: FloatStorage;
  /** Fold 'mlp' maps into the previous block's MLP output projection where exact (default true). */
  fold?: boolean;
  maxShardBytes?: number;
  /** Extra provenance for prune.json (command line, data, ranking…). */
  provenance?: Record<string, unknown>;
}

export interface FoldedMap {
  span: string;
  /** Original index of the block whose MLP output projection absorbed the map. */
  intoBlock: number;
  tensor: string;
}

export interface PruneExportResult {
  dir: string;
  numLayers: number;
  /** Original index of each exported block, in order. */
  keptBlocks: number[];
  folded: FoldedMap[];
  stored: StoredLinearMap[];
  weightFiles: string[];
  /** The folder needs linscope's modeling file in transformers (trust_remote_code=True). */
  customCode: boolean;
}

/** Why an 'mlp' map cannot be folded into block `layer`'s MLP output projection (undefined: it can). */
export function mlpFoldProblem(model: DecoderModel, layer: number, map?: LinearMap): string | undefined {
  if (model.config.normBeforeSublayer === false) return 'post-LN blocks normalise the sum after the MLP output is added';
  if (model.linearMaps.some((m) => m.afterLayer === layer)) return `block ${layer} is followed by linear maps of the checkpoint`;
  const out = model.matrices(layer).out;
  if (!out) return `block ${layer} has no MLP output matrix`;
  if (out.outRanges) return `block ${layer}'s MLP output projection is part of a fused tensor`;
  const d = model.config.hiddenSize;
  if (out.shape[0] !== d) return `block ${layer}'s MLP output projection does not write the residual stream (${out.shape[0]} ≠ ${d})`;
  if (map?.bias && !out.biasName && map.bias.data.some((v) => v !== 0)) {
    return `the map has a bias but block ${layer}'s MLP output projection has none (fit the map without bias to fold it)`;
  }
  return undefined;
}

/** Write `pruned` to `outDir` (see the module comment). */
export function exportPrunedModel(outDir: string, pruned: PrunedModel, options: PruneExportOptions = {}): PruneExportResult {
  const model = pruned.base;
  const kept = pruned.keptBlocks();
  const newIndex = new Map(kept.map((layer, j) => [layer, j]));
  const tensors: Record<string, Tensor | LazyTensor> = {};
  const modified = new Set(model.modifiedWeightNames());
  for (const name of model.globalWeightNames()) tensors[name] = weightToWrite(model, name, modified);
  const renamed = new Map<string, string>();
  kept.forEach((layer, j) => {
    const from = model.blockWeightNames(layer);
    const to = model.blockWeightNames(j);
    from.forEach((name, n) => {
      tensors[to[n]] = weightToWrite(model, name, modified);
      renamed.set(name, to[n]);
    });
  });

  // the exported tensors addressed by their source names (src/models/matrices.ts reads and writes through it)
  const exported = {
    getWeight: (name: string) => {
      const t = tensors[renamed.get(name) ?? name];
      return t instanceof Tensor ? t : model.getWeight(name); // a lazily written weight: read it now
    },
    setWeight: (name: string, value: Tensor) => { tensors[renamed.get(name) ?? name] = value; },
    matrices: (layer: number) => model.matrices(layer), dtype: model.dtype, config: model.config,
  };
  const folded: FoldedMap[] = [];
  const toStore: MapToStore[] = [];
  const outTensorOf = (layer: number) => renamed.get(model.matrices(layer).out?.tensorName ?? '');
  // the checkpoint's own maps go with their blocks (−1: part of block 0)
  for (const m of model.linearMaps) {
    if (!newIndex.has(Math.max(m.afterLayer, 0))) continue;
    toStore.push({
      afterLayer: m.afterLayer < 0 ? -1 : newIndex.get(m.afterLayer)!, input: m.input, weight: m.weight, bias: m.bias,
      replaces: m.entry.replaces, mlpOutputTensor: m.input === 'mlp' ? outTensorOf(m.afterLayer) : undefined,
    });
  }
  for (const r of pruned.replacements) {
    if (!r.map) continue;
    const previous = r.start - 1;
    if (r.map.input === 'mlp' && (options.fold ?? true) && mlpFoldProblem(model, previous, r.map) === undefined) {
      const ref = model.matrices(previous).out!;
      foldIntoOutput(exported, ref, r.map);
      folded.push({ span: spanLabel(r), intoBlock: previous, tensor: renamed.get(ref.tensorName)! });
      continue;
    }
    toStore.push({
      afterLayer: lastKeptBefore(kept, r.start, newIndex), input: r.map.input, weight: r.map.weight, bias: r.map.bias,
      replaces: Array.from({ length: r.count }, (_, i) => r.start + i),
      mlpOutputTensor: r.map.input === 'mlp' ? outTensorOf(previous) : undefined,
    });
  }
  // carried maps first within a block: they are part of it, new ones run after it
  const order = toStore.map((m, i) => ({ m, i })).sort((a, b) => a.m.afterLayer - b.m.afterLayer || a.i - b.i).map((x) => x.m);
  const maps = storeLinearMaps(order);
  const weights = storeWeights(Object.entries(tensors), true);

  const config = prunedConfig(vanillaConfig(model.source.config), kept, model.numLayers);
  if (maps.entries.length > 0) config[LINSCOPE_CONFIG_KEY] = { format: LINEAR_MAPS_FORMAT, linear_maps: maps.entries };
  if (weights.lowRank) config.linscope_low_rank = weights.lowRank;
  else delete config.linscope_low_rank;
  const record = {
    originalLayers: model.numLayers,
    numLayers: kept.length,
    keptBlocks: kept,
    replacements: pruned.replacements.map(describeReplacement),
    folded,
    storedMaps: maps.entries,
    ...options.provenance,
  };
  const written = writeHFFolder(outDir, {
    config, tensors: { ...weights.tensors, ...maps.tensors }, dtype: options.dtype, maxShardBytes: options.maxShardBytes,
    tokenizerFrom: (model.source as { dir?: string }).dir, vocabSize: model.config.vocabSize, prefix: checkpointPrefix(model),
    files: { 'prune.json': `${JSON.stringify(record, null, 2)}\n` },
  });
  return { dir: outDir, numLayers: kept.length, keptBlocks: kept, folded, stored: maps.entries, weightFiles: written.weightFiles, customCode: written.customCode };
}

/**
 * Folds `map` into the MLP output projection `ref` of `model` (read and written as [out, in] through
 * src/models/matrices.ts, whatever the stored layout): W_out' = Aᵀ·W_out, b_out' = b_out·A + b,
 * in float64, stored in the model's dtype.
 */
function foldIntoOutput(model: Parameters<typeof writeMatrix>[0], ref: MatrixRef, map: LinearMap): void {
  const d = map.weight.shape[0];
  const a = map.weight.to('float64').data;
  const w = readMatrix(model, ref).to('float64');
  const f = w.size / d;
  // W' [d, F] = Aᵀ [d, d] · W [d, F]
  const folded = Tensor.zeros([d, f], 'float64');
  backend().gemm({ transA: true, transB: false, m: d, n: f, k: d, alpha: 1, a, lda: d, b: w.data, ldb: f, beta: 0, c: folded.data, ldc: f });
  writeMatrix(model, ref, folded);
  if (!ref.biasName) return; // mlpFoldProblem: then the map has no bias (or a zero one)
  const outBias = readBias(model, ref)!;
  const bias = Tensor.zeros([d], 'float64');
  for (let j = 0; j < d; j++) {
    let v = map.bias ? map.bias.data[j] : 0;
    for (let i = 0; i < d; i++) v += outBias.data[i] * a[i * d + j];
    bias.data[j] = v;
  }
  writeBias(model, ref, bias);
}

/** New index of the last kept block before original block `start` (−1: none). */
function lastKeptBefore(kept: readonly number[], start: number, newIndex: Map<number, number>): number {
  let j = -1;
  for (const layer of kept) if (layer < start) j = newIndex.get(layer)!;
  return j;
}

const LAYER_COUNT_KEYS = ['num_hidden_layers', 'n_layer', 'num_layers'];

/** The source config with the layer count (and per-layer lists) of the kept blocks. */
export function prunedConfig(source: Record<string, unknown>, kept: readonly number[], originalLayers: number): Record<string, unknown> {
  const config: Record<string, unknown> = JSON.parse(JSON.stringify(source));
  delete config[LINSCOPE_CONFIG_KEY];
  delete config.auto_map;
  const present = LAYER_COUNT_KEYS.filter((k) => typeof config[k] === 'number');
  for (const k of present.length > 0 ? present : ['num_hidden_layers']) config[k] = kept.length;
  for (const [key, value] of Object.entries(config)) {
    if (Array.isArray(value) && value.length === originalLayers && key !== 'architectures') {
      config[key] = kept.map((layer) => value[layer]);
    }
  }
  return config;
}

function describeReplacement(r: Replacement): Record<string, unknown> {
  return {
    span: spanLabel(r),
    start: r.start,
    count: r.count,
    method: r.map ? 'linear' : 'drop',
    ...(r.map ? { input: r.map.input, bias: r.map.bias !== undefined } : {}),
  };
}
