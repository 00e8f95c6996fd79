/**
 * The safetensors file format, as shared by the reader and the writer.
 *
 *   [u64 little-endian N] [N bytes of JSON header] [data buffer]
 *
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
 * the start of the data buffer) and may hold a string-to-string `__metadata__` record.
 */

/** Element types of the safetensors format. */
export type SafetensorsDType =
  | 'F64' | 'F32' | 'F16' | 'BF16'
  | 'I64' | 'I32' | 'I16' | 'I8'
  | 'U64' | 'U32' | 'U16' | 'U8'
  | 'BOOL';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1,
};

export const FLOAT_DTYPES: readonly SafetensorsDType[] = ['F64', 'F32', 'F16', 'BF16'];

export function isSafetensorsDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** Where one tensor lives in a file. `begin`/`end` are absolute byte offsets in the file. */
export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** Integer tensor contents as plain numbers (exact up to 2^53, checked). */
export interface IntegerArray {
  dtype: SafetensorsDType;
  shape: number[];
  data: number[];
}

/** Headers above this size are refused, like the reference implementation does (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Name of the index file of a sharded checkpoint, as Hugging Face writes it. */
export const SAFETENSORS_INDEX_NAME = 'model.safetensors.index.json';
export const SAFETENSORS_SINGLE_NAME = 'model.safetensors';

/** Contents of `model.safetensors.index.json`. */
export interface SafetensorsIndex {
  metadata?: Record<string, unknown>;
  weight_map: Record<string, string>;
}
