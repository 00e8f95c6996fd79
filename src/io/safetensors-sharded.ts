/**
 * Sharded safetensors checkpoints: `model.safetensors.index.json` maps every tensor name to the
 * shard file that holds it (`weight_map`). One reader serves all shards, opening each lazily.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { InputError } from './input-error.ts';
import type { DType, Tensor } from '../tensor/tensor.ts';
import { SAFETENSORS_INDEX_NAME, SAFETENSORS_SINGLE_NAME, type IntegerArray, type SafetensorsIndex, type TensorInfo } from './safetensors-format.ts';
import { SafetensorsFile, type TensorReader } from './safetensors-read.ts';

/** Why `file` cannot be a shard named by an index (undefined when it can): a relative path inside the folder. */
function badShardName(file: string, extension: string): string | undefined {
  if (file === '' || isAbsolute(file) || file.split(/[\\/]/).some((part) => part === '..' || part === '' || part === '.')) {
    return 'is not a file name inside the checkpoint folder';
  }
  if (!file.endsWith(extension)) return `is not a ${extension} file`;
  return undefined;
}

/** Parse and check an index file. */
export function readSafetensorsIndex(indexPath: string, kind = 'safetensors'): SafetensorsIndex {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (err) {
    throw new InputError(indexPath, `cannot read ${kind} index (${(err as Error).message})`);
  }
  const map = (parsed as SafetensorsIndex | null)?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map) || !Object.values(map).every((f) => typeof f === 'string')) {
    throw new InputError(indexPath, `${kind} index has no valid "weight_map" {tensor name: shard file}`);
  }
  for (const [name, file] of Object.entries(map)) {
    const bad = badShardName(file, kind === 'safetensors' ? '.safetensors' : '.bin');
    if (bad) throw new InputError(indexPath, `"weight_map" puts tensor "${name}" in ${JSON.stringify(file)}, which ${bad}`);
  }
  const metadata = (parsed as SafetensorsIndex).metadata;
  if (metadata !== undefined && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new InputError(indexPath, '"metadata" is not an object');
  }
  return parsed as SafetensorsIndex;
}

/**
 * The shards behind an index's `weight_map`, each opened (by `open`) on first use: the part every
 * sharded reader shares (safetensors here, PyTorch .bin in torch-bin.ts).
 */
export class ShardSet<S extends { readonly path: string; has(name: string): boolean }> {
  private readonly shards = new Map<string, S>();

  constructor(
    readonly path: string,
    private readonly weightMap: ReadonlyMap<string, string>,
    private readonly open: (shardPath: string) => S,
  ) {}

  /** Shard file names, in order of first appearance in the weight map. */
  shardFiles(): string[] {
    return [...new Set(this.weightMap.values())];
  }

  /** The shard that holds `name`, with a clear error when the index or the shard is wrong. */
  shardFor(name: string): S {
    const file = this.weightMap.get(name);
    if (file === undefined) {
      throw new InputError(this.path, `no tensor named "${name}" in the weight_map (${this.weightMap.size} tensors)`);
    }
    let shard = this.shards.get(file);
    if (!shard) {
      const shardPath = join(dirname(this.path), file);
      if (!existsSync(shardPath) || !statSync(shardPath).isFile()) {
        throw new InputError(this.path, `tensor "${name}" lives in shard ${file}, which is missing (${shardPath})`);
      }
      shard = this.open(shardPath);
      this.shards.set(file, shard);
    }
    if (!shard.has(name)) throw new InputError(shard.path, `the index says it holds tensor "${name}", but it does not`);
    return shard;
  }

  names(): string[] {
    return [...this.weightMap.keys()];
  }

  has(name: string): boolean {
    return this.weightMap.has(name);
  }
}

/** A sharded checkpoint behind one reader. Shard headers are parsed on first use. */
class ShardedSafetensors extends ShardSet<SafetensorsFile> implements TensorReader {
  readonly metadata: Record<string, string> = {};

  constructor(indexPath: string) {
    const index = readSafetensorsIndex(indexPath);
    super(indexPath, new Map(Object.entries(index.weight_map)), (p) => new SafetensorsFile(p));
    for (const [k, v] of Object.entries(index.metadata ?? {})) this.metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }

  info(name: string): TensorInfo & { file: string } {
    return this.shardFor(name).info(name);
  }

  readTensor(name: string, dtype?: DType): Tensor {
    return this.shardFor(name).readTensor(name, dtype);
  }

  readIntegers(name: string): IntegerArray {
    return this.shardFor(name).readIntegers(name);
  }

  readBytes(name: string): Uint8Array {
    return this.shardFor(name).readBytes(name);
  }
}

/** Open a sharded checkpoint from its index file. */
export function openShardedSafetensors(indexPath: string): ShardedSafetensors {
  return new ShardedSafetensors(indexPath);
}

/**
 * The safetensors weights of a model folder: `model.safetensors.index.json` if present, else
 * `model.safetensors`, else the only `*.safetensors` file. Undefined when the folder has none.
 */
export function findSafetensorsWeights(dir: string, files: readonly string[]): string | undefined {
  if (files.includes(SAFETENSORS_INDEX_NAME)) return join(dir, SAFETENSORS_INDEX_NAME);
  if (files.includes(SAFETENSORS_SINGLE_NAME)) return join(dir, SAFETENSORS_SINGLE_NAME);
  const indexes = files.filter((f) => f.endsWith('.safetensors.index.json'));
  if (indexes.length === 1) return join(dir, indexes[0]);
  const singles = files.filter((f) => f.endsWith('.safetensors'));
  if (singles.length === 1) return join(dir, singles[0]);
  return undefined;
}

/** Open a safetensors file or index file, by its extension. */
export function openTensorReader(path: string): TensorReader {
  return path.endsWith('.json') ? new ShardedSafetensors(path) : new SafetensorsFile(path);
}
