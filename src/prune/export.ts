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
 * Every other map is written to `linscope_linear_maps.safetensors` and listed under the `linscope`
 * key of config.json (format: linear-maps-format.ts), which `loadPrunedCheckpoint` reads.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backend } from '../backend/index.ts';
import { writeSafetensors, writeShardedSafetensors, type FloatStorage } from '../io/safetensors.ts';
import { COPIED_FILES } from '../laser/export.ts';
import type { DecoderModel } from '../models/decoder.ts';
import { Tensor } from '../tensor/tensor.ts';
import { LINEAR_MAPS_FILE, LINEAR_MAPS_FORMAT, LINSCOPE_CONFIG_KEY, type StoredLinearMap } from './linear-maps-format.ts';
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
}

/** Why an 'mlp' map cannot be folded into block `layer`'s MLP output projection (undefined: it can). */
export function mlpFoldProblem(model: DecoderModel, layer: number, map?: LinearMap): string | undefined {
  if (model.config.normBeforeSublayer === false) return 'post-LN blocks normalise the sum after the MLP output is added';
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
  const tensors: Record<string, Tensor> = {};
  for (const name of model.globalWeightNames()) tensors[name] = model.getWeight(name);
  const renamed = new Map<string, string>();
  kept.forEach((layer, j) => {
    const from = model.blockWeightNames(layer);
    const to = model.blockWeightNames(j);
    from.forEach((name, n) => {
      tensors[to[n]] = model.getWeight(name);
      renamed.set(name, to[n]);
    });
  });

  const folded: FoldedMap[] = [];
  const stored: StoredLinearMap[] = [];
  const mapTensors: Record<string, Tensor> = {};
  for (const r of pruned.replacements) {
    if (!r.map) continue;
    const previous = r.start - 1;
    if (r.map.input === 'mlp' && (options.fold ?? true) && mlpFoldProblem(model, previous, r.map) === undefined) {
      const ref = model.matrices(previous).out!;
      const { weight, bias } = foldIntoOutput(model.getWeight(ref.tensorName), ref.layout, ref.biasName ? model.getWeight(ref.biasName) : undefined, r.map);
      tensors[renamed.get(ref.tensorName)!] = weight;
      if (ref.biasName) tensors[renamed.get(ref.biasName)!] = bias!;
      folded.push({ span: spanLabel(r), intoBlock: previous, tensor: renamed.get(ref.tensorName)! });
      continue;
    }
    const n = stored.length;
    const entry: StoredLinearMap = {
      after_layer: lastKeptBefore(kept, r.start, newIndex),
      input: r.map.input,
      weight: `linear_maps.${n}.weight`,
      bias: r.map.bias ? `linear_maps.${n}.bias` : null,
      replaces: Array.from({ length: r.count }, (_, i) => r.start + i),
    };
    mapTensors[entry.weight] = transposed(r.map.weight);
    if (r.map.bias) mapTensors[entry.bias!] = r.map.bias;
    stored.push(entry);
  }

  mkdirSync(outDir, { recursive: true });
  const { files } = writeShardedSafetensors(outDir, tensors, {
    dtype: options.dtype ?? 'F32',
    maxShardBytes: options.maxShardBytes ?? 2e9,
    metadata: { format: 'pt' },
  });
  if (stored.length > 0) writeSafetensors(join(outDir, LINEAR_MAPS_FILE), mapTensors, { dtype: 'F32' });

  const config = prunedConfig(model.source.config, kept, model.numLayers);
  if (stored.length > 0) config[LINSCOPE_CONFIG_KEY] = { format: LINEAR_MAPS_FORMAT, linear_maps: stored };
  if (options.dtype) config.torch_dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' }[options.dtype];
  writeFileSync(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  copyTokenizerFiles((model.source as { dir?: string }).dir, outDir);
  const record = {
    originalLayers: model.numLayers,
    numLayers: kept.length,
    keptBlocks: kept,
    replacements: pruned.replacements.map(describeReplacement),
    folded,
    storedMaps: stored,
    ...options.provenance,
  };
  writeFileSync(join(outDir, 'prune.json'), JSON.stringify(record, null, 2) + '\n');
  return { dir: outDir, numLayers: kept.length, keptBlocks: kept, folded, stored, weightFiles: files };
}

/** W_out' and b_out' with the map folded in (float64 arithmetic, stored in the weight's dtype). */
export function foldIntoOutput(weight: Tensor, layout: 'out_in' | 'in_out', outBias: Tensor | undefined, map: LinearMap): { weight: Tensor; bias?: Tensor } {
  const d = map.weight.shape[0];
  const a = map.weight.to('float64').data;
  const w = weight.to('float64');
  const f = weight.size / d;
  const result = Tensor.zeros(weight.shape, 'float64');
  if (layout === 'out_in') {
    // W' [d, F] = Aᵀ [d, d] · W [d, F]
    backend().gemm({ transA: true, transB: false, m: d, n: f, k: d, alpha: 1, a, lda: d, b: w.data, ldb: f, beta: 0, c: result.data, ldc: f });
  } else {
    // W' [F, d] = W [F, d] · A [d, d]
    backend().gemm({ transA: false, transB: false, m: f, n: d, k: d, alpha: 1, a: w.data, lda: d, b: a, ldb: d, beta: 0, c: result.data, ldc: d });
  }
  let bias: Tensor | undefined;
  if (outBias || map.bias) {
    bias = Tensor.zeros([d], 'float64');
    for (let j = 0; j < d; j++) {
      let v = map.bias ? map.bias.data[j] : 0;
      if (outBias) for (let i = 0; i < d; i++) v += outBias.data[i] * a[i * d + j];
      bias.data[j] = v;
    }
  }
  return { weight: result.to(weight.dtype), bias: bias?.to(outBias?.dtype ?? weight.dtype) };
}

/** New index of the last kept block before original block `start` (−1: none). */
function lastKeptBefore(kept: readonly number[], start: number, newIndex: Map<number, number>): number {
  let j = -1;
  for (const layer of kept) if (layer < start) j = newIndex.get(layer)!;
  return j;
}

/** [d, d] → its transpose (A in x·A form → W in PyTorch Linear form, W = Aᵀ), float32. */
function transposed(m: Tensor): Tensor {
  const d = m.shape[0];
  const out = Tensor.zeros([d, d], 'float32');
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out.data[j * d + i] = m.data[i * d + j];
  return out;
}

const LAYER_COUNT_KEYS = ['num_hidden_layers', 'n_layer', 'num_layers'];

/** The source config with the layer count (and per-layer lists) of the kept blocks. */
export function prunedConfig(source: Record<string, unknown>, kept: readonly number[], originalLayers: number): Record<string, unknown> {
  const config: Record<string, unknown> = JSON.parse(JSON.stringify(source));
  delete config[LINSCOPE_CONFIG_KEY];
  const present = LAYER_COUNT_KEYS.filter((k) => typeof config[k] === 'number');
  for (const k of present.length > 0 ? present : ['num_hidden_layers']) config[k] = kept.length;
  for (const [key, value] of Object.entries(config)) {
    if (Array.isArray(value) && value.length === originalLayers && key !== 'architectures') {
      config[key] = kept.map((layer) => value[layer]);
    }
  }
  return config;
}

function copyTokenizerFiles(from: string | undefined, to: string): string[] {
  if (!from || !existsSync(from)) return [];
  const names = new Set(readdirSync(from));
  const wanted = [...COPIED_FILES.filter((f) => names.has(f)), ...[...names].filter((f) => /^tok.*\.bin$/.test(f))];
  for (const f of wanted) copyFileSync(join(from, f), join(to, f));
  return wanted;
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
