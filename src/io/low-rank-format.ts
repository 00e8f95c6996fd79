/**
 * Checkpoints whose weights are partly stored as low-rank factors (`linscope laser apply
 * --factored`, src/laser/export.ts), and reading them back as factors.
 *
 * A factored weight W [m, n] (in its stored orientation: [out, in] for a Linear, [in, out] for a
 * GPT-2 Conv1D) is absent from the safetensors under its own name; instead it holds
 *
 *     <name>.laser_left   L [m, r]
 *     <name>.laser_right  R [r, n]        with W = L·R,
 *
 * and config.json lists the factored names:
 *
 *     "linscope_low_rank": {
 *       "format": 1,
 *       "tensors": { "<name>": { "left": "<name>.laser_left", "right": "<name>.laser_right", "rank": r } }
 *     }
 *
 * linscope's loader (`openModelSource`) serves `<name>` as a `LowRankWeight` (src/tensor/low-rank.ts),
 * so the model multiplies by the factors. Such a folder also carries linscope's modeling file
 * (src/export/custom-code.ts): transformers multiplies by the factors with `trust_remote_code=True`
 * and refuses the folder without it (rather than initialising `<name>` at random).
 */
import { LowRankWeight } from '../tensor/low-rank.ts';
import type { DType, Tensor } from '../tensor/tensor.ts';
import type { ModelConfig } from './config.ts';

export const LOW_RANK_CONFIG_KEY = 'linscope_low_rank';
const LOW_RANK_FORMAT = 1;
export const LEFT_SUFFIX = '.laser_left';
export const RIGHT_SUFFIX = '.laser_right';

export interface StoredFactors {
  left: string;
  right: string;
  rank: number;
}

export interface LowRankEntry {
  format: number;
  tensors: Record<string, StoredFactors>;
}

/** The config entry describing `names` factored with the given ranks. */
export function lowRankEntry(ranks: ReadonlyMap<string, number>): LowRankEntry {
  const tensors: Record<string, StoredFactors> = {};
  for (const [name, rank] of ranks) tensors[name] = { left: name + LEFT_SUFFIX, right: name + RIGHT_SUFFIX, rank };
  return { format: LOW_RANK_FORMAT, tensors };
}

/** The validated `linscope_low_rank` entry of a config, or undefined when the checkpoint has none. */
export function readLowRankEntry(config: ModelConfig | Record<string, unknown>): LowRankEntry | undefined {
  const raw = (config as Record<string, unknown>)[LOW_RANK_CONFIG_KEY] as LowRankEntry | undefined;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || typeof raw.tensors !== 'object' || raw.tensors === null) {
    throw new Error(`config.json: "${LOW_RANK_CONFIG_KEY}" must be an object with a "tensors" map`);
  }
  if (raw.format !== LOW_RANK_FORMAT) {
    throw new Error(`config.json: "${LOW_RANK_CONFIG_KEY}.format" is ${String(raw.format)}; this linscope reads format ${LOW_RANK_FORMAT}`);
  }
  for (const [name, f] of Object.entries(raw.tensors)) {
    if (typeof f?.left !== 'string' || typeof f?.right !== 'string') {
      throw new Error(`config.json: ${LOW_RANK_CONFIG_KEY}.tensors["${name}"] must name its "left" and "right" tensors`);
    }
  }
  return raw;
}

/** What `withLowRankTensors` needs from a weight source. */
export interface TensorSource {
  config: ModelConfig;
  hasTensor(name: string): boolean;
  getTensor(name: string, dtype?: DType): Tensor;
  getStoredTensor?(name: string): Tensor;
  tensorDtype?(name: string): string;
  tensorNames?(): string[];
  tensorShape?(name: string): number[];
}

/**
 * A source that serves every factored weight of the config under its own name as a
 * `LowRankWeight` (and hides the `.laser_left/.laser_right` pieces); the source itself when the
 * config lists none.
 */
export function withLowRankTensors<S extends TensorSource>(source: S): S {
  const entry = readLowRankEntry(source.config);
  if (!entry || Object.keys(entry.tensors).length === 0) return source;
  const factored = new Map(Object.entries(entry.tensors));
  const pieces = new Set([...factored.values()].flatMap((f) => [f.left, f.right]));
  for (const [name, f] of factored) {
    if (!source.hasTensor(f.left) || !source.hasTensor(f.right)) {
      throw new Error(`checkpoint lists "${name}" as factored but lacks "${f.left}" or "${f.right}"`);
    }
  }
  const wrapped: S = {
    ...source,
    hasTensor: (name: string) => factored.has(name) || (!pieces.has(name) && source.hasTensor(name)),
    getTensor: (name: string, dtype?: DType) => {
      const f = factored.get(name);
      if (!f) return source.getTensor(name, dtype);
      return new LowRankWeight(source.getTensor(f.left, dtype), source.getTensor(f.right, dtype)) as unknown as Tensor;
    },
  };
  if (source.getStoredTensor) {
    const stored = source.getStoredTensor;
    wrapped.getStoredTensor = (name: string) => (factored.has(name) ? wrapped.getTensor(name) : stored(name));
  }
  if (source.tensorDtype) {
    const dtypeOf = source.tensorDtype;
    wrapped.tensorDtype = (name: string) => dtypeOf(factored.get(name)?.left ?? name);
  }
  if (source.tensorNames) wrapped.tensorNames = () => [...source.tensorNames!().filter((n) => !pieces.has(n)), ...factored.keys()];
  if (source.tensorShape) {
    wrapped.tensorShape = (name: string) => {
      const f = factored.get(name);
      return f ? [source.tensorShape!(f.left)[0], source.tensorShape!(f.right)[1]] : source.tensorShape!(name);
    };
  }
  return wrapped;
}
