/**
 * Lazy safetensors reader: parses the header once, then reads one tensor at a time with
 * `fs.readSync` at its offset. The file is never read whole, so checkpoints larger than RAM work.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { nonFiniteSummary } from '../tensor/finite.ts';
import { Tensor, type DType } from '../tensor/tensor.ts';
import { decodeBF16, decodeF16 } from './half.ts';
import { InputError } from './input-error.ts';
import { readExactly } from './read-at.ts';
import { parseSafetensorsHeader, type ParsedHeader } from './safetensors-header.ts';
import {
  DTYPE_BYTES, FLOAT_DTYPES, MAX_HEADER_BYTES,
  type IntegerArray, type SafetensorsDType, type TensorInfo,
} from './safetensors-format.ts';

if (endianness() !== 'LE') throw new Error('linscope io: safetensors reading assumes a little-endian host');

/** Anything that serves named tensors lazily: one safetensors file, or a sharded checkpoint. */
export interface TensorReader {
  /** The file (or index file) this reader was opened from. */
  readonly path: string;
  /** `__metadata__` of the file (of the index for sharded checkpoints). */
  readonly metadata: Record<string, string>;
  /** Tensor names in file order. */
  names(): string[];
  has(name: string): boolean;
  /** Dtype, shape and byte range of a tensor; throws a clear error for an unknown name. */
  info(name: string): TensorInfo & { file: string };
  /**
   * Read a float tensor (F16/BF16/F32/F64, or an integer tensor cast) as float32 or float64. A tensor
   * holding NaN or ±Infinity is refused with an error naming it.
   */
  readTensor(name: string, dtype?: DType): Tensor;
  /** Read an integer (or BOOL) tensor as plain numbers. */
  readIntegers(name: string): IntegerArray;
  /** The raw little-endian bytes of a tensor. */
  readBytes(name: string): Uint8Array;
}

function parseHeader(path: string): ParsedHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InputError(path, `cannot open safetensors file: ${(err as Error).message}`);
  }
  let headerBytes: Buffer;
  let fileSize: number;
  try {
    fileSize = fstatSync(fd).size;
    if (fileSize < 8) throw new InputError(path, `not a safetensors file (only ${fileSize} bytes, no header length)`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = lenBuf.readBigUInt64LE(0);
    if (headerLen > BigInt(MAX_HEADER_BYTES)) {
      throw new InputError(path, `not a safetensors file (header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes)`);
    }
    if (headerLen > BigInt(fileSize - 8)) {
      throw new InputError(path, `truncated or not a safetensors file (header length ${headerLen} but file has ${fileSize} bytes)`);
    }
    headerBytes = Buffer.alloc(Number(headerLen));
    let done = 0;
    while (done < headerBytes.length) {
      const got = readSync(fd, headerBytes, done, headerBytes.length - done, 8 + done);
      if (got === 0) throw new InputError(path, `file ended inside the header`);
      done += got;
    }
  } finally {
    closeSync(fd);
  }

  return parseSafetensorsHeader(path, headerBytes, fileSize);
}

/** One safetensors file, read lazily. */
export class SafetensorsFile implements TensorReader {
  readonly path: string;
  readonly metadata: Record<string, string>;
  private readonly infos: Map<string, TensorInfo>;

  constructor(path: string) {
    this.path = path;
    const { metadata, infos } = parseHeader(path);
    this.metadata = metadata;
    this.infos = infos;
  }

  names(): string[] {
    return [...this.infos.keys()];
  }

  has(name: string): boolean {
    return this.infos.has(name);
  }

  info(name: string): TensorInfo & { file: string } {
    const info = this.infos.get(name);
    if (!info) throw new InputError(this.path, `no tensor named "${name}" (the file holds ${this.infos.size} tensors)`);
    return { ...info, shape: [...info.shape], file: this.path };
  }

  readBytes(name: string): Uint8Array {
    const info = this.info(name);
    const bytes = new Uint8Array(info.end - info.begin);
    readExactly(this.path, info.begin, bytes, `tensor "${name}"`);
    return bytes;
  }

  readTensor(name: string, dtype: DType = 'float32'): Tensor {
    const info = this.info(name);
    const n = (info.end - info.begin) / DTYPE_BYTES[info.dtype];
    const read = <T extends { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }>(arr: T): T => {
      readExactly(this.path, info.begin, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), `tensor "${name}"`);
      return arr;
    };
    const out = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
    switch (info.dtype) {
      case 'F32':
        if (out instanceof Float32Array) read(out);
        else out.set(read(new Float32Array(n)));
        break;
      case 'F64':
        if (out instanceof Float64Array) read(out);
        else out.set(read(new Float64Array(n)));
        break;
      case 'F16':
        decodeF16(read(new Uint16Array(n)), out);
        break;
      case 'BF16':
        decodeBF16(read(new Uint16Array(n)), out);
        break;
      default:
        out.set(this.readIntegers(name).data);
    }
    const bad = nonFiniteSummary(out, info.shape);
    if (bad) throw new InputError(this.path, `tensor "${name}" ${bad}: the checkpoint is corrupt (or was saved from a diverged run)`);
    return new Tensor(out, info.shape);
  }

  readIntegers(name: string): IntegerArray {
    const info = this.info(name);
    if (FLOAT_DTYPES.includes(info.dtype)) {
      throw new InputError(this.path, `tensor "${name}" is ${info.dtype}, not an integer tensor (use readTensor)`);
    }
    const bytes = this.readBytes(name);
    const n = bytes.length / DTYPE_BYTES[info.dtype];
    const buf = bytes.buffer;
    let data: number[];
    switch (info.dtype) {
      case 'I64': case 'U64': {
        const big = info.dtype === 'I64' ? new BigInt64Array(buf, 0, n) : new BigUint64Array(buf, 0, n);
        data = Array.from(big, (v) => {
          const x = Number(v);
          if (!Number.isSafeInteger(x)) throw new InputError(this.path, `tensor "${name}" holds ${v}, beyond exact JS numbers`);
          return x;
        });
        break;
      }
      case 'I32': data = Array.from(new Int32Array(buf, 0, n)); break;
      case 'U32': data = Array.from(new Uint32Array(buf, 0, n)); break;
      case 'I16': data = Array.from(new Int16Array(buf, 0, n)); break;
      case 'U16': data = Array.from(new Uint16Array(buf, 0, n)); break;
      case 'I8': data = Array.from(new Int8Array(buf, 0, n)); break;
      default: data = Array.from(bytes); // U8, BOOL
    }
    return { dtype: info.dtype, shape: info.shape, data };
  }
}

/** Open one safetensors file: parses and validates the header, reads nothing else. */
export function openSafetensors(path: string): SafetensorsFile {
  return new SafetensorsFile(path);
}

/** Read every tensor of a (small) file into memory: float tensors as `Tensor`, integers as arrays. */
export function loadSafetensors(path: string, dtype: DType = 'float32'): Record<string, Tensor | IntegerArray> {
  const file = openSafetensors(path);
  const out: Record<string, Tensor | IntegerArray> = {};
  for (const name of file.names()) {
    const kind: SafetensorsDType = file.info(name).dtype;
    out[name] = FLOAT_DTYPES.includes(kind) ? file.readTensor(name, dtype) : file.readIntegers(name);
  }
  return out;
}
