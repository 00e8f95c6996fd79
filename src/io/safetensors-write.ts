/**
 * safetensors writer, single-file and sharded, in the layout Hugging Face writes:
 * tensors sorted by name, data packed back to back, header JSON padded with spaces so the data
 * buffer starts at a multiple of 8 bytes. Every file is written to a temporary name and renamed.
 * A `LazyTensor` entry is produced only when its bytes are written and dropped right after, so a
 * checkpoint larger than memory is written tensor by tensor (random checkpoints, block-by-block exports).
 */
import { join } from 'node:path';
import { HalfWeight, isHalf } from '../tensor/half-weight.ts';
import { Tensor } from '../tensor/tensor.ts';
import { writeAll, writeFileAtomically } from './atomic-file.ts';
import { encodeBF16, encodeF16 } from './half.ts';
import {
  DTYPE_BYTES, SAFETENSORS_INDEX_NAME, SAFETENSORS_SINGLE_NAME, isSafetensorsDType,
  type SafetensorsDType, type SafetensorsIndex,
} from './safetensors-format.ts';

/** A tensor given by dtype, shape and values (for integer tensors such as `input_ids`). */
export interface RawTensor {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: ArrayLike<number> | BigInt64Array | BigUint64Array;
}

/**
 * A tensor whose values are produced when the writer reaches it (`load` is called once, the result
 * dropped after it was written). `dtype` is the storage dtype of a loaded `Tensor` (default: the
 * write's dtype); a loaded RawTensor keeps its own, which must equal `dtype` when both are given.
 */
export interface LazyTensor {
  lazy: true;
  shape: readonly number[];
  dtype?: SafetensorsDType;
  load: () => Tensor | RawTensor;
}

export type WritableTensor = Tensor | RawTensor | LazyTensor;

function isLazy(t: WritableTensor): t is LazyTensor {
  return (t as LazyTensor).lazy === true;
}

/** Float dtypes a `Tensor` can be stored as. */
export type FloatStorage = 'F32' | 'F16' | 'BF16' | 'F64';

export interface WriteOptions {
  /** Storage dtype for `Tensor` entries (RawTensor entries keep their own dtype). Default F32. */
  dtype?: FloatStorage;
}

export interface ShardedWriteOptions extends WriteOptions {
  /** Largest shard, in bytes of tensor data. A single tensor above it gets a shard of its own. */
  maxShardBytes: number;
  metadata?: Record<string, string>;
}

/** Elements encoded per write call: bounds the temporary buffer to a few MB. */
const ENCODE_CHUNK = 1 << 20;

/** Values to encode; a 16-bit weight (HalfWeight) is copied bit for bit into its own dtype, never decoded whole. */
type Values = ArrayLike<number> | BigInt64Array | BigUint64Array | HalfWeight;

interface Entry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** The values, or how to produce them when written (lazy entries). */
  data?: Values;
  load?: () => Tensor | RawTensor;
  bytes: number;
}

function checkLength(name: string, shape: readonly number[], length: number): void {
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel !== length) {
    throw new Error(`writeSafetensors: tensor "${name}" has shape [${shape.join(', ')}] (${numel} elements) but ${length} values`);
  }
}

function toEntry(name: string, t: WritableTensor, dtype: FloatStorage): Entry {
  if (name === '' || name === '__metadata__') throw new Error(`writeSafetensors: invalid tensor name "${name}"`);
  const entryDtype = t instanceof Tensor ? dtype : (t.dtype ?? dtype);
  if (!isSafetensorsDType(entryDtype)) throw new Error(`writeSafetensors: tensor "${name}" has unknown dtype ${entryDtype}`);
  const shape = [...t.shape];
  const bytes = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[entryDtype];
  if (isLazy(t)) return { name, dtype: entryDtype, shape, load: t.load, bytes };
  if (isHalf(t)) return { name, dtype: entryDtype, shape, data: t, bytes };
  checkLength(name, shape, t.data.length);
  return { name, dtype: entryDtype, shape, data: t.data, bytes };
}

/** The values of an entry (a lazy entry's are produced now and checked against its shape and dtype). */
function valuesOf(entry: Entry): Values {
  if (entry.data) return entry.data;
  const t = entry.load!();
  if (!(t instanceof Tensor) && t.dtype !== entry.dtype) {
    throw new Error(`writeSafetensors: tensor "${entry.name}" was declared ${entry.dtype} but loaded as ${t.dtype}`);
  }
  if (t.shape.length !== entry.shape.length || t.shape.some((d, i) => d !== entry.shape[i])) {
    throw new Error(`writeSafetensors: tensor "${entry.name}" was declared [${entry.shape.join(', ')}] but loaded as [${t.shape.join(', ')}]`);
  }
  if (isHalf(t)) return t;
  checkLength(entry.name, entry.shape, t.data.length);
  return t.data;
}

function lengthOf(v: Values): number {
  return isHalf(v) ? v.size : v.length;
}

function toEntries(tensors: Record<string, WritableTensor>, options: WriteOptions): Entry[] {
  const dtype = options.dtype ?? 'F32';
  return Object.keys(tensors).sort().map((name) => toEntry(name, tensors[name], dtype));
}

/** Little-endian bytes of values [start, end) of `entry` in its dtype. */
function encodeRange(entry: Entry, values: Values, start: number, end: number): Uint8Array {
  if (isHalf(values)) {
    if (values.storage === entry.dtype) {
      const bits = values.bits.subarray(start, end);
      return new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
    }
    const decoded = new Float32Array(end - start);
    values.decodeRange(start, end, decoded);
    return encodeRange(entry, decoded, 0, end - start);
  }
  const src = values;
  const n = end - start;
  const slice = (): ArrayLike<number> => {
    if (ArrayBuffer.isView(src) && 'subarray' in src) return (src as unknown as Float64Array).subarray(start, end);
    return Array.prototype.slice.call(src, start, end) as number[];
  };
  const bigs = (Ctor: BigInt64ArrayConstructor | BigUint64ArrayConstructor): Uint8Array => {
    const out = new Ctor(n);
    for (let i = 0; i < n; i++) {
      const v = src[start + i];
      out[i] = typeof v === 'bigint' ? v : BigInt(Math.round(v as number));
    }
    return new Uint8Array(out.buffer);
  };
  const typed = (arr: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) =>
    new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    if (entry.dtype === 'I64') return bigs(BigInt64Array);
    if (entry.dtype === 'U64') return bigs(BigUint64Array);
    throw new Error(`writeSafetensors: tensor "${entry.name}" holds bigints but its dtype is ${entry.dtype}`);
  }
  switch (entry.dtype) {
    case 'F64': return typed(Float64Array.from(slice()));
    case 'F32': return typed(Float32Array.from(slice()));
    case 'F16': { const out = new Uint16Array(n); encodeF16(slice(), out); return typed(out); }
    case 'BF16': { const out = new Uint16Array(n); encodeBF16(slice(), out); return typed(out); }
    case 'I64': return bigs(BigInt64Array);
    case 'U64': return bigs(BigUint64Array);
    case 'I32': return typed(Int32Array.from(slice()));
    case 'U32': return typed(Uint32Array.from(slice()));
    case 'I16': return typed(Int16Array.from(slice()));
    case 'U16': return typed(Uint16Array.from(slice()));
    case 'I8': return typed(Int8Array.from(slice()));
    case 'U8': case 'BOOL': return Uint8Array.from(slice());
  }
}

/** Header bytes: JSON padded with spaces to a multiple of 8, as the reference writer does. */
function encodeHeader(entries: readonly { name: string; dtype: string; shape: readonly number[]; bytes: number }[],
  metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes] };
    offset += e.bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function writeEntries(path: string, entries: Entry[], metadata?: Record<string, string>): void {
  writeFileAtomically(path, (fd) => {
    writeAll(fd, encodeHeader(entries, metadata));
    for (const entry of entries) {
      const data = valuesOf(entry);
      const n = lengthOf(data);
      for (let start = 0; start < n; start += ENCODE_CHUNK) {
        writeAll(fd, encodeRange(entry, data, start, Math.min(n, start + ENCODE_CHUNK)));
      }
    }
  });
}

/**
 * Write `tensors` to one safetensors file at `path`. `Tensor` entries are stored as F32 unless
 * `options.dtype` asks for F16/BF16 (rounded to nearest even) or F64.
 */
export function writeSafetensors(path: string, tensors: Record<string, WritableTensor>,
  metadata?: Record<string, string>, options: WriteOptions = {}): void {
  writeEntries(path, toEntries(tensors, options), metadata);
}

export interface ShardedWriteResult {
  /** Shard file names, in order. */
  files: string[];
  /** The index file, or undefined when everything fit in one `model.safetensors`. */
  indexPath?: string;
}

/**
 * Write a checkpoint into `dir`, split into shards of at most `maxShardBytes` of tensor data, as
 * Hugging Face's `save_pretrained` does: `model-00001-of-0000N.safetensors` + `model.safetensors.index.json`
 * (or a single `model.safetensors` when one shard suffices). The index is written last, after
 * every shard is complete.
 */
export function writeShardedSafetensors(dir: string, tensors: Record<string, WritableTensor>,
  options: ShardedWriteOptions): ShardedWriteResult {
  if (!(options.maxShardBytes > 0)) throw new Error(`writeShardedSafetensors: maxShardBytes must be positive, got ${options.maxShardBytes}`);
  const entries = toEntries(tensors, options);
  const shards: Entry[][] = [];
  let current: Entry[] = [];
  let currentBytes = 0;
  for (const entry of entries) {
    if (current.length > 0 && currentBytes + entry.bytes > options.maxShardBytes) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += entry.bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);

  const metadata = options.metadata ?? { format: 'pt' };
  if (shards.length === 1) {
    writeEntries(join(dir, SAFETENSORS_SINGLE_NAME), shards[0], metadata);
    return { files: [SAFETENSORS_SINGLE_NAME] };
  }
  const width = 5;
  const total = String(shards.length).padStart(width, '0');
  const files = shards.map((_, i) => `model-${String(i + 1).padStart(width, '0')}-of-${total}.safetensors`);
  const index: SafetensorsIndex = { metadata: { total_size: entries.reduce((s, e) => s + e.bytes, 0) }, weight_map: {} };
  shards.forEach((shard, i) => {
    writeEntries(join(dir, files[i]), shard, metadata);
    for (const e of shard) index.weight_map[e.name] = files[i];
  });
  const indexPath = join(dir, SAFETENSORS_INDEX_NAME);
  writeFileAtomically(indexPath, (fd) => writeAll(fd, Buffer.from(JSON.stringify(index, null, 2) + '\n', 'utf8')));
  return { files, indexPath };
}
