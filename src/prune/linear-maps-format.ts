/**
 * The on-disk format of linear maps that could not be folded into a checkpoint's weights.
 *
 * A pruned checkpoint is a Hugging Face folder (layers renumbered, the layer count updated); when it
 * holds unfolded maps, config.json has a `linscope` key and the folder linscope's modeling file
 * (src/export/custom-code.ts):
 *
 *     "model_type": "linscope_llama",
 *     "linscope": {
 *       "format": 2, "base_model_type": "llama", "base_architectures": ["LlamaForCausalLM"],
 *       "linear_maps": [
 *         { "after_layer": 1, "input": "residual", "weight": "linscope_maps.0.weight",
 *           "bias": "linscope_maps.0.bias", "replaces": [2, 3] }
 *       ]
 *     }
 *
 * Format 2 stores the map tensors in the model's safetensors beside its own weights; format 1
 * (older exports, still read) stored them in `linscope_linear_maps.safetensors`.
 *
 * - `after_layer` j: the map runs after block j of this checkpoint (renumbered index), before block
 *   j + 1; −1 = on the embeddings, as block 0 starts (hidden state 0 stays the embeddings). Maps with
 *   the same `after_layer` run in list order.
 * - `weight` W [d, d] in PyTorch Linear layout, `bias` b [d] or null, F32 tensors in
 *   linscope_linear_maps.safetensors.
 * - `input` "residual": h ← h·Wᵀ + b (h the residual stream after block j).
 *   `input` "mlp": h ← h − m + m·Wᵀ + b, with m the MLP output of block j (the map replaces what
 *   block j's MLP writes into the stream); only right after block j.
 * - `replaces`: the original block indices the map stands for (informative).
 *
 * linscope's loader (`DecoderModel`, src/models/linscope-maps.ts) runs the maps; transformers runs
 * them through the modeling file (`trust_remote_code=True`) and refuses the folder without it.
 */
import type { MapInput } from './types.ts';

export const LINEAR_MAPS_FILE = 'linscope_linear_maps.safetensors';
export const LINSCOPE_CONFIG_KEY = 'linscope';
/** Format written (2); format 1 is still read. */
export const LINEAR_MAPS_FORMAT = 2;
const READ_FORMATS = [1, 2];

export interface StoredLinearMap {
  after_layer: number;
  input: MapInput;
  weight: string;
  bias: string | null;
  replaces?: number[];
  /** Module whose output is the MLP output m ('mlp' maps, format 2). */
  mlp_output?: string;
}

export interface LinscopeConfigEntry {
  format: number;
  /** The architecture the export is built on (format 2). */
  base_model_type?: string;
  base_architectures?: string[];
  linear_maps: StoredLinearMap[];
  /** What the export did (informative). */
  pruning?: Record<string, unknown>;
}

/** The `linscope` entry of a config.json record, validated; undefined when absent. */
export function readLinscopeEntry(config: Record<string, unknown>): LinscopeConfigEntry | undefined {
  const raw = config[LINSCOPE_CONFIG_KEY] as LinscopeConfigEntry | undefined;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || !Array.isArray(raw.linear_maps)) {
    throw new Error(`config.json: "${LINSCOPE_CONFIG_KEY}" must be an object with a "linear_maps" list`);
  }
  if (!READ_FORMATS.includes(raw.format)) {
    throw new Error(`config.json: "${LINSCOPE_CONFIG_KEY}.format" is ${String(raw.format)}; this linscope reads formats ${READ_FORMATS.join(' and ')}`);
  }
  raw.linear_maps.forEach((m, i) => {
    const where = `config.json: ${LINSCOPE_CONFIG_KEY}.linear_maps[${i}]`;
    if (!Number.isInteger(m.after_layer) || m.after_layer < -1) throw new Error(`${where}.after_layer must be an integer ≥ −1`);
    if (m.input !== 'residual' && m.input !== 'mlp') throw new Error(`${where}.input must be "residual" or "mlp"`);
    if (m.input === 'mlp' && m.after_layer < 0) throw new Error(`${where}: an "mlp" map needs a block before it (after_layer ≥ 0)`);
    if (typeof m.weight !== 'string') throw new Error(`${where}.weight must name a tensor`);
    if (m.bias !== null && typeof m.bias !== 'string') throw new Error(`${where}.bias must name a tensor or be null`);
  });
  return raw;
}
