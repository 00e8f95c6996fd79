/**
 * Lazy reader for PyTorch state-dict checkpoints (`pytorch_model.bin`, as `torch.save` writes them)
 * and their sharded form (`pytorch_model.bin.index.json`, the same `weight_map` layout as sharded
 * safetensors). Only the pickle is parsed up front, by the restricted unpickler (torch-pickle.ts);
 * tensor bytes are read from the file when a tensor is asked for, like the safetensors reader.
 *
 * Two container layouts, matching torch/serialization.py:
 *  - zip (torch ≥ 1.6): `<archive>/data.pkl` holds the state dict; storage `key` is the stored
 *    entry `<archive>/data/<key>` (zip-read.ts);
 *  - legacy (torch < 1.6, or `_use_new_zipfile_serialization=False`): pickles of the magic number,
 *    protocol version, sys info, the state dict and the sorted storage keys follow each other; then
 *    each storage as int64 element count + raw little-endian bytes.
 * Tensors may be views: a storage offset and arbitrary strides (shared storages, tied weights,
 * transposed views) are honoured. Float32/float16/bfloat16/float64 are read; integer and bool
 * tensors are refused when read, with an error naming them.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, type DType } from '../tensor/tensor.ts';
import { decodeBF16, decodeF16 } from './half.ts';
import { readExactly } from './read-at.ts';
import { readSafetensorsIndex, ShardSet } from './safetensors-sharded.ts';
import { StorageType, TensorRecord, TORCH_STORAGE_DTYPES, Tuple, unpickle, type TorchDType, type TorchStorageKind } from './torch-pickle.ts';
import { looksLikeZip, ZipIndex } from './zip-read.ts';

const TORCH_BIN_SINGLE_NAME = 'pytorch_model.bin';
const TORCH_BIN_INDEX_NAME = 'pytorch_model.bin.index.json';

/** One storage: its element type and where its bytes start in the file. */
interface Storage {
  kind: TorchStorageKind;
  key: string;
  numel: number;
  /** Byte offset of element 0 in the file (resolved on first read for zip entries). */
  dataOffset: () => number;
}

/** What the model loader needs from a weights file. */
export interface TorchWeights {
  readonly path: string;
  names(): string[];
  has(name: string): boolean;
  shape(name: string): number[];
  /** torch dtype of the stored tensor. */
  dtype(name: string): TorchDType;
  readTensor(name: string, dtype?: DType): Tensor;
  /** A float16/bfloat16 2-D tensor's 16-bit values, row-major (undefined otherwise). */
  readHalfBits(name: string): { bits: Uint16Array; dtype: 'F16' | 'BF16'; shape: number[] } | undefined;
}

function storageFromPid(pid: unknown, where: string, resolve: (key: string) => () => number, seen: Map<string, Storage>): Storage {
  const t = pid instanceof Tuple ? pid.items : undefined;
  if (!t || t[0] !== 'storage' || !(t[1] instanceof StorageType) || typeof t[2] !== 'string' || !Number.isSafeInteger(t[4])) {
    throw new Error(`${where}: pickle has a persistent id that is not a torch storage record`);
  }
  if (t.length > 5 && t[5] !== null) {
    throw new Error(`${where}: storage ${t[2]} is a legacy storage view, which linscope does not read; re-save the checkpoint with a current torch.save`);
  }
  const key = t[2];
  const known = seen.get(key);
  if (known) return known;
  const storage: Storage = { kind: t[1].kind, key, numel: t[4] as number, dataOffset: resolve(key) };
  seen.set(key, storage);
  return storage;
}

function stateDictEntries(value: unknown, where: string): Map<string, TensorRecord<Storage>> {
  if (!(value instanceof Map)) throw new Error(`${where}: the pickle holds no state dict (a dict of tensors)`);
  const out = new Map<string, TensorRecord<Storage>>();
  for (const [k, v] of value) {
    if (typeof k !== 'string') throw new Error(`${where}: state dict has a non-string key`);
    if (!(v instanceof TensorRecord)) {
      throw new Error(`${where}: state dict entry "${k}" is not a tensor (a nested dict or training state?); linscope reads flat state dicts of tensors`);
    }
    out.set(k, v as TensorRecord<Storage>);
  }
  return out;
}

const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];

function readHead(path: string, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const n = Math.min(length, fstatSync(fd).size);
    const buf = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const got = readSync(fd, buf, done, n - done, done);
      if (got === 0) break;
      done += got;
    }
    return buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** True when the file is a torch.save checkpoint: a zip archive, or the legacy format's magic pickle. */
export function looksLikeTorchBin(path: string): boolean {
  const head = readHead(path, LEGACY_MAGIC.length);
  return looksLikeZip(path) || (head.length === LEGACY_MAGIC.length && LEGACY_MAGIC.every((b, i) => head[i] === b));
}

/** One `torch.save` file, read lazily. */
export class TorchBinFile implements TorchWeights {
  readonly path: string;
  private readonly records: Map<string, TensorRecord<Storage>>;

  constructor(path: string) {
    this.path = path;
    this.records = looksLikeZip(path) ? this.openZip() : this.openLegacy();
  }

  private openZip(): Map<string, TensorRecord<Storage>> {
    const zip = new ZipIndex(this.path);
    const pkl = zip.names().filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
    if (pkl.length !== 1) throw new Error(`${this.path}: a zip archive but not a torch.save file (expected one <archive>/data.pkl, found ${pkl.length})`);
    const prefix = pkl[0].slice(0, -'data.pkl'.length);
    // torch ≥ 2.1 records the writer's byte order; older files are little-endian
    if (zip.entry(`${prefix}byteorder`) && new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim() !== 'little') {
      throw new Error(`${this.path}: written on a big-endian machine (byteorder entry); linscope reads little-endian checkpoints only`);
    }
    const seen = new Map<string, Storage>();
    const resolve = (key: string) => () => zip.dataOffset(`${prefix}data/${key}`);
    const { value } = unpickle<Storage>(zip.read(pkl[0]), {
      where: this.path,
      persistentLoad: (pid) => storageFromPid(pid, this.path, resolve, seen),
    });
    for (const s of seen.values()) {
      const entry = zip.entry(`${prefix}data/${s.key}`);
      if (!entry) throw new Error(`${this.path}: storage ${s.key} has no data entry ${prefix}data/${s.key} (truncated archive?)`);
      const need = s.numel * TORCH_STORAGE_DTYPES[s.kind].bytes;
      if (entry.size < need) throw new Error(`${this.path}: storage ${s.key} needs ${need} bytes but its entry holds ${entry.size}`);
    }
    return stateDictEntries(value, this.path);
  }

  private openLegacy(): Map<string, TensorRecord<Storage>> {
    const fileSize = (() => { const fd = openSync(this.path, 'r'); try { return fstatSync(fd).size; } finally { closeSync(fd); } })();
    for (let headLength = 1 << 20; ; headLength *= 4) {
      const head = readHead(this.path, headLength);
      if (head.length < LEGACY_MAGIC.length || !LEGACY_MAGIC.every((b, i) => head[i] === b)) {
        throw new Error(`${this.path}: not a PyTorch checkpoint (neither a torch.save zip archive nor the legacy torch.save format)`);
      }
      try {
        return this.parseLegacy(head, fileSize);
      } catch (err) {
        if (head.length < fileSize && /ends unexpectedly/.test((err as Error).message)) continue;
        throw err;
      }
    }
  }

  private parseLegacy(head: Uint8Array, fileSize: number): Map<string, TensorRecord<Storage>> {
    const where = this.path;
    const none = () => { throw new Error(`${where}: legacy header pickle holds a storage record`); };
    let pos = LEGACY_MAGIC.length;
    const version = unpickle(head, { where, start: pos, persistentLoad: none });
    if (version.value !== 1001) throw new Error(`${where}: legacy torch.save protocol ${String(version.value)} is not 1001`);
    const sysInfo = unpickle(head, { where, start: version.end, persistentLoad: none });
    const info = sysInfo.value instanceof Map ? sysInfo.value : undefined;
    if (info?.get('little_endian') !== true) throw new Error(`${where}: legacy checkpoint was not written on a little-endian machine`);
    const seen = new Map<string, Storage>();
    const offsets = new Map<string, number>();
    const resolve = (key: string) => () => {
      const o = offsets.get(key);
      if (o === undefined) throw new Error(`${where}: storage ${key} is not in the checkpoint's storage list`);
      return o;
    };
    const main = unpickle<Storage>(head, { where, start: sysInfo.end, persistentLoad: (pid) => storageFromPid(pid, where, resolve, seen) });
    const keys = unpickle(head, { where, start: main.end, persistentLoad: none });
    if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) throw new Error(`${where}: legacy storage key list is malformed`);
    pos = keys.end;
    const lenBuf = new Uint8Array(8);
    for (const key of keys.value as string[]) {
      const s = seen.get(key);
      if (!s) throw new Error(`${where}: legacy storage ${key} is listed but used by no tensor`);
      if (pos + 8 > fileSize) throw new Error(`${where}: file ends before storage ${key} (truncated?)`);
      readExactly(where, pos, lenBuf, `size of storage ${key}`);
      const numel = Number(new DataView(lenBuf.buffer).getBigInt64(0, true));
      if (numel !== s.numel) throw new Error(`${where}: storage ${key} holds ${numel} elements but the pickle says ${s.numel}`);
      offsets.set(key, pos + 8);
      pos += 8 + numel * TORCH_STORAGE_DTYPES[s.kind].bytes;
      if (pos > fileSize) throw new Error(`${where}: storage ${key} runs past the end of the ${fileSize}-byte file (truncated?)`);
    }
    return stateDictEntries(main.value, where);
  }

  names(): string[] {
    return [...this.records.keys()];
  }

  has(name: string): boolean {
    return this.records.has(name);
  }

  private record(name: string): TensorRecord<Storage> {
    const r = this.records.get(name);
    if (!r) throw new Error(`${this.path}: no tensor named "${name}" (the file holds ${this.records.size} tensors)`);
    return r;
  }

  shape(name: string): number[] {
    return [...this.record(name).shape];
  }

  dtype(name: string): TorchDType {
    return TORCH_STORAGE_DTYPES[this.record(name).storage.kind].dtype;
  }

  readTensor(name: string, dtype: DType = 'float32'): Tensor {
    const r = this.record(name);
    const { kind } = r.storage;
    const { dtype: stored, bytes } = TORCH_STORAGE_DTYPES[kind];
    if (stored !== 'float32' && stored !== 'float16' && stored !== 'bfloat16' && stored !== 'float64') {
      throw new Error(`${this.path}: tensor "${name}" is ${stored} (torch.${kind}); linscope reads float32, float16 and bfloat16 weights only`);
    }
    const numel = r.shape.reduce((a, b) => a * b, 1);
    if (numel === 0) return new Tensor(dtype === 'float64' ? new Float64Array(0) : new Float32Array(0), r.shape);
    // Elements of the storage the view touches: offset … offset + Σ (size_i − 1)·stride_i.
    let last = r.offset;
    for (let i = 0; i < r.shape.length; i++) last += (r.shape[i] - 1) * r.stride[i];
    if (!(last < r.storage.numel)) {
      throw new Error(`${this.path}: tensor "${name}" (offset ${r.offset}, size [${r.shape}], stride [${r.stride}]) reaches past its storage of ${r.storage.numel} elements`);
    }
    const out = dtype === 'float64' ? new Float64Array(numel) : new Float32Array(numel);
    const start = r.storage.dataOffset() + r.offset * bytes;
    const dense = isRowMajor(r.shape, r.stride);
    if (dense && ((stored === 'float32' && out instanceof Float32Array) || (stored === 'float64' && out instanceof Float64Array))) {
      readExactly(this.path, start, new Uint8Array(out.buffer), `tensor "${name}"`); // same type: no copy
      return new Tensor(out, r.shape);
    }
    const values = this.storedValues(name, span(r), start, dense, bytes);
    if (stored === 'float16') decodeF16(values as Uint16Array, out);
    else if (stored === 'bfloat16') decodeBF16(values as Uint16Array, out);
    else out.set(values);
    return new Tensor(out, r.shape);
  }

  /**
   * The values of a float16/bfloat16 tensor as their 16-bit patterns, dense row-major (what
   * `readTensor` decodes); undefined for other dtypes and for anything but a non-empty 2-D tensor
   * within its storage (read those with `readTensor`, which explains a bad one).
   */
  readHalfBits(name: string): { bits: Uint16Array; dtype: 'F16' | 'BF16'; shape: number[] } | undefined {
    const r = this.record(name);
    const { dtype: stored, bytes } = TORCH_STORAGE_DTYPES[r.storage.kind];
    if (stored !== 'float16' && stored !== 'bfloat16') return undefined;
    if (r.shape.length !== 2 || r.shape.some((d) => d === 0) || !(r.offset + span(r) <= r.storage.numel)) return undefined; // readTensor reads (or refuses) it
    const start = r.storage.dataOffset() + r.offset * bytes;
    const bits = this.storedValues(name, span(r), start, isRowMajor(r.shape, r.stride), bytes) as Uint16Array;
    return { bits, dtype: stored === 'float16' ? 'F16' : 'BF16', shape: [...r.shape] };
  }

  /** The `count` storage elements from byte `start`, gathered into row-major order unless `dense`. */
  private storedValues(name: string, count: number, start: number, dense: boolean, bytes: number): Float64Array | Float32Array | Uint16Array {
    const r = this.record(name);
    const raw = new Uint8Array(count * bytes);
    readExactly(this.path, start, raw, `tensor "${name}"`);
    const src = bytes === 8 ? new Float64Array(raw.buffer) : bytes === 4 ? new Float32Array(raw.buffer) : new Uint16Array(raw.buffer);
    return dense ? src : gather(src, r.shape, r.stride);
  }
}

/** Storage elements a view spans: from its offset to its last element. */
function span(r: { offset: number; shape: number[]; stride: number[] }): number {
  let last = r.offset;
  for (let i = 0; i < r.shape.length; i++) last += (r.shape[i] - 1) * r.stride[i];
  return last - r.offset + 1;
}

/** True when strides are the row-major ones (dimensions of size 1 may have any stride). */
function isRowMajor(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/** Copy a strided view (element 0 at src[0]) into a dense row-major array. */
function gather<T extends Float64Array | Float32Array | Uint16Array>(src: T, shape: number[], stride: number[]): T {
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = new (src.constructor as new (n: number) => T)(numel);
  const nd = shape.length;
  const index = new Array<number>(nd).fill(0);
  const inner = shape[nd - 1];
  const innerStride = stride[nd - 1];
  let at = 0;
  for (let o = 0; o < numel; o += inner) {
    for (let j = 0, s = at; j < inner; j++, s += innerStride) out[o + j] = src[s];
    for (let d = nd - 2; d >= 0; d--) {
      index[d]++;
      at += stride[d];
      if (index[d] < shape[d]) break;
      at -= index[d] * stride[d];
      index[d] = 0;
    }
  }
  return out;
}

/** A sharded checkpoint: `pytorch_model.bin.index.json` maps names to shard files, opened on first use. */
class ShardedTorchBin extends ShardSet<TorchBinFile> implements TorchWeights {
  constructor(indexPath: string) {
    super(indexPath, new Map(Object.entries(readSafetensorsIndex(indexPath, 'PyTorch weights').weight_map)), (p) => new TorchBinFile(p));
  }

  shape(name: string): number[] {
    return this.shardFor(name).shape(name);
  }

  dtype(name: string): TorchDType {
    return this.shardFor(name).dtype(name);
  }

  readTensor(name: string, dtype?: DType): Tensor {
    return this.shardFor(name).readTensor(name, dtype);
  }

  readHalfBits(name: string): { bits: Uint16Array; dtype: 'F16' | 'BF16'; shape: number[] } | undefined {
    return this.shardFor(name).readHalfBits(name);
  }
}

/** Open a `torch.save` file or a `pytorch_model.bin.index.json`, by its extension. */
export function openTorchWeights(path: string): TorchWeights {
  return path.endsWith('.json') ? new ShardedTorchBin(path) : new TorchBinFile(path);
}

/**
 * The PyTorch weights of a model folder, as transformers picks them after safetensors:
 * `pytorch_model.bin.index.json`, else `pytorch_model.bin`. Undefined when neither exists.
 */
export function findTorchBinWeights(dir: string, files: readonly string[]): string | undefined {
  if (files.includes(TORCH_BIN_INDEX_NAME)) return join(dir, TORCH_BIN_INDEX_NAME);
  if (files.includes(TORCH_BIN_SINGLE_NAME)) return join(dir, TORCH_BIN_SINGLE_NAME);
  return undefined;
}
