/**
 * Checkpoints exported by linscope that hold more than plain blocks, read as the model they are:
 *
 * - linear maps on the residual stream between blocks (`linscope prune --method linear`; format:
 *   src/prune/linear-maps-format.ts). `DecoderModel` runs each map as part of a block, inside
 *   `runBlock`, so every consumer — forward, hidden states, partial forwards, generation — sees the
 *   exported model: `after_layer` j ≥ 0 at the end of block j, j = −1 at the start of block 0 (so
 *   hidden state 0 is the embeddings, as in transformers' run of the modeling file). A map and its
 *   block are one unit: pruning that block later drops its maps too.
 * - the `linscope_<base>` model_type such exports carry so that Hugging Face refuses to load them
 *   without their modeling file (src/export/custom-code.ts): `intendedConfig` gives the base
 *   config linscope's architectures read.
 *
 * The arithmetic of a map is the same as the pruned model's in src/prune/pruned-model.ts:
 *   residual: h ← h·A + b;   mlp: h ← (h − m) + m·A + b = h + m·(A − I) + b,  m the block's MLP output,
 * with A = Wᵀ (W stored in PyTorch Linear layout [out, in]).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../io/config.ts';
import { openSafetensors } from '../io/safetensors.ts';
import { LINEAR_MAPS_FILE, readLinscopeEntry, type StoredLinearMap } from '../prune/linear-maps-format.ts';
import { addInPlace } from '../tensor/elementwise.ts';
import { addRowVectorInPlace, matmul } from '../tensor/matmul.ts';
import { Tensor, type DType } from '../tensor/tensor.ts';
import type { WeightSource } from './types.ts';

/** model_type prefix of exports that need linscope's modeling file in Hugging Face. */
export const CUSTOM_MODEL_TYPE_PREFIX = 'linscope_';

/** One map of a checkpoint, ready to run: A [d, d] (x·A form) and b, float64 masters. */
export interface CheckpointMap {
  /** Runs after block `afterLayer` (−1: at the start of block 0, on the embeddings). */
  afterLayer: number;
  input: 'residual' | 'mlp';
  /** A = Wᵀ, float64. */
  weight: Tensor;
  bias?: Tensor;
  /** The stored entry (names, replaced blocks), for re-export. */
  entry: StoredLinearMap;
}

/** The config as linscope's architectures read it: a `linscope_<base>` model_type becomes `<base>`. */
export function intendedConfig(config: ModelConfig): ModelConfig {
  const type = config.model_type;
  if (typeof type !== 'string' || !type.startsWith(CUSTOM_MODEL_TYPE_PREFIX)) return config;
  const base = (config.linscope as { base_model_type?: unknown } | undefined)?.base_model_type;
  return { ...config, model_type: typeof base === 'string' ? base : type.slice(CUSTOM_MODEL_TYPE_PREFIX.length) };
}

/**
 * The maps a checkpoint lists, read from its weights (format 2: tensors beside the model's own)
 * or from `linscope_linear_maps.safetensors` in its folder (format 1). [] for ordinary checkpoints.
 */
export function readCheckpointMaps(source: WeightSource & { dir?: string }, hiddenSize: number, numLayers: number): CheckpointMap[] {
  const entry = readLinscopeEntry(source.config as Record<string, unknown>);
  if (!entry || entry.linear_maps.length === 0) return [];
  let side: ReturnType<typeof openSafetensors> | undefined;
  const sidePath = source.dir ? join(source.dir, LINEAR_MAPS_FILE) : LINEAR_MAPS_FILE;
  const read = (name: string): Tensor => {
    if (source.hasTensor(name)) return source.getTensor(name, 'float64');
    if (!side) {
      if (!source.dir || !existsSync(sidePath)) {
        throw new Error(`config.json lists linscope linear maps, but the checkpoint has no tensor "${name}" (nor ${LINEAR_MAPS_FILE})`);
      }
      side = openSafetensors(sidePath);
    }
    if (!side.has(name)) throw new Error(`${sidePath} has no tensor "${name}" (listed in config.json's linscope.linear_maps)`);
    return side.readTensor(name, 'float64');
  };
  return entry.linear_maps.map((m, i) => {
    if (m.after_layer >= numLayers) throw new Error(`config.json: linscope.linear_maps[${i}] runs after block ${m.after_layer}, but the model has ${numLayers} blocks`);
    const w = read(m.weight);
    if (w.shape.length !== 2 || w.shape[0] !== hiddenSize || w.shape[1] !== hiddenSize) {
      throw new Error(`linscope linear map "${m.weight}" must be [${hiddenSize}, ${hiddenSize}], got [${w.shape.join(', ')}]`);
    }
    const bias = m.bias === null ? undefined : read(m.bias);
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== hiddenSize)) {
      throw new Error(`linscope linear map bias "${m.bias}" must be [${hiddenSize}], got [${bias.shape.join(', ')}]`);
    }
    return { afterLayer: m.after_layer, input: m.input, weight: transpose(w), ...(bias ? { bias } : {}), entry: m };
  });
}

/** Runs a checkpoint's maps in a compute dtype (converted copies made once per dtype). */
export class MapRunner {
  private readonly byLayer = new Map<number, CheckpointMap[]>();
  private readonly runtime = new WeakMap<CheckpointMap, { dtype: DType; weight: Tensor; weightMinusI: Tensor; bias?: Tensor }>();

  constructor(readonly maps: readonly CheckpointMap[]) {
    for (const m of maps) {
      const list = this.byLayer.get(m.afterLayer) ?? [];
      list.push(m);
      this.byLayer.set(m.afterLayer, list);
    }
  }

  /** Maps after block `layer` (−1: before block 0), in order. */
  after(layer: number): readonly CheckpointMap[] {
    return this.byLayer.get(layer) ?? [];
  }

  /** h after block `layer`'s maps; `mlpOut` is that block's MLP output (for 'mlp' maps). */
  apply(layer: number, h: Tensor, mlpOut?: Tensor): Tensor {
    for (const map of this.after(layer)) {
      const m = this.runtimeOf(map, h.dtype);
      if (map.input === 'residual') {
        const out = matmul(h, m.weight);
        if (m.bias) addRowVectorInPlace(out, m.bias);
        h = out;
      } else {
        if (!mlpOut) throw new Error(`linscope linear map after block ${layer} reads the block's MLP output, which is not available here`);
        const out = matmul(mlpOut, m.weightMinusI);
        addInPlace(out, h);
        if (m.bias) addRowVectorInPlace(out, m.bias);
        h = out;
      }
    }
    return h;
  }

  private runtimeOf(map: CheckpointMap, dtype: DType): { weight: Tensor; weightMinusI: Tensor; bias?: Tensor } {
    let m = this.runtime.get(map);
    if (!m || m.dtype !== dtype) {
      const d = map.weight.shape[0];
      const minusI = map.weight.to('float64');
      for (let i = 0; i < d; i++) minusI.data[i * d + i] -= 1;
      m = { dtype, weight: map.weight.to(dtype), weightMinusI: minusI.to(dtype), bias: map.bias?.to(dtype) };
      this.runtime.set(map, m);
    }
    return m;
  }
}

function transpose(m: Tensor): Tensor {
  const d = m.shape[0];
  const out = Tensor.zeros([d, d], 'float64');
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out.data[j * d + i] = m.data[i * d + j];
  return out;
}
