/**
 * Hidden states seen as rows: a tensor [N, d] or [B, T, d] is N (= B·T) token vectors of d features.
 * The analysis code reads them in chunks of rows, converted to float64 and shifted by a reference
 * vector (see `moments.ts` for why), optionally through a selection of row indices (to drop padding).
 */
import { kernelThreads } from '../tensor/native-kernels.ts';
import { nativeStatistics } from '../tensor/native-statistics.ts';
import type { Tensor, TypedArray } from '../tensor/tensor.ts';

/** Row indices into the flattened rows of a tensor; undefined = all rows in order. */
export type RowSelection = ArrayLike<number> | undefined;

/** Feature dimension d (the last axis). */
export function featureDim(t: Tensor): number {
  if (t.ndim < 1) throw new Error(`analysis: expected a tensor of token vectors, got a scalar ${t}`);
  return t.dim(-1);
}

/** Number of token rows of `t` (the product of all axes but the last). */
export function rowCount(t: Tensor): number {
  const d = featureDim(t);
  return d === 0 ? 0 : t.size / d;
}

/** Number of rows a selection picks from `t`. */
export function selectedCount(t: Tensor, rows: RowSelection): number {
  return rows === undefined ? rowCount(t) : rows.length;
}

/** Throws unless `t` holds rows of `dim` features (and, when given, exactly `rows` of them). */
export function checkRows(what: string, t: Tensor, dim: number, rows?: number): void {
  if (featureDim(t) !== dim) throw new Error(`${what}: expected ${dim} features per token, got ${t}`);
  if (rows !== undefined && rowCount(t) !== rows) {
    throw new Error(`${what}: expected ${rows} token rows, got ${rowCount(t)} (${t})`);
  }
}

/**
 * Copies rows [start, end) of the selection (or of all rows) into `out` as float64, minus `shift`
 * when given: out[r, j] = src[row(start + r), j] − shift[j]. Returns `out` trimmed to the rows copied.
 */
export function copyShiftedRows(
  src: TypedArray,
  dim: number,
  rows: RowSelection,
  start: number,
  end: number,
  shift: Float64Array | null,
  out: Float64Array,
): Float64Array {
  const count = end - start;
  const k = nativeStatistics();
  if (k && count > 0 && dim > 0 && out.length >= count * dim && (rows === undefined || (rows instanceof Int32Array && end <= rows.length))) {
    const f64 = src instanceof Float64Array;
    if ((f64 || src instanceof Float32Array) && k.rows(src, f64 ? 1 : 0, Math.floor(src.length / dim), dim, rows ?? null, start, count, shift, out, kernelThreads()) === 0) {
      return out.subarray(0, count * dim);
    }
  }
  for (let r = 0; r < count; r++) {
    const row = rows === undefined ? start + r : rows[start + r];
    const from = row * dim;
    const to = r * dim;
    if (shift) for (let j = 0; j < dim; j++) out[to + j] = src[from + j] - shift[j];
    else for (let j = 0; j < dim; j++) out[to + j] = src[from + j];
  }
  return out.subarray(0, count * dim);
}

/** Column means of `rows` × `dim` float64 values (row by row, in order). */
export function columnMeans(data: Float64Array, rows: number, dim: number): Float64Array {
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) mean[j] += data[o + j];
  }
  for (let j = 0; j < dim; j++) mean[j] /= rows;
  return mean;
}

/** The rows of `t` picked by `rows`, as a float64 [count, d] tensor-shaped array. */
export function gatherRows64(t: Tensor, rows: RowSelection): Float64Array {
  const d = featureDim(t);
  const n = selectedCount(t, rows);
  return copyShiftedRows(t.data, d, rows, 0, n, null, new Float64Array(n * d));
}

/**
 * Reads chunks of rows as float64 minus a reference point that is fixed, once, to the column means
 * of the first chunk read (or set explicitly beforehand).
 */
export class ShiftedReader {
  shift: Float64Array | null = null;

  constructor(readonly dim: number) {}

  /** Rows [start, end) of the selection of `t`, minus the shift, into `buffer`; returns the filled part. */
  read(t: Tensor, rows: RowSelection, start: number, end: number, buffer: Float64Array): Float64Array {
    const d = this.dim;
    if (this.shift) return copyShiftedRows(t.data, d, rows, start, end, this.shift, buffer);
    const chunk = copyShiftedRows(t.data, d, rows, start, end, null, buffer);
    const n = end - start;
    const k = nativeStatistics();
    let s: Float64Array;
    if (k && n > 0) {
      s = new Float64Array(d);
      k.centreColumns(chunk, n, d, s);
    } else {
      s = columnMeans(chunk, n, d);
      for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) chunk[r * d + j] -= s[j];
    }
    this.shift = s;
    return chunk;
  }
}
