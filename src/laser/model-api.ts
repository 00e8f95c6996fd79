/**
 * The part of a model LASER needs: read and write named weights, and know where each LASER matrix
 * type lives in a given layer. src/models' `DecoderModel` satisfies it structurally; tests can pass
 * a plain weight store.
 *
 * A matrix may be a whole stored tensor or a block of a fused one (GPT-2's c_attn holds q|k|v side
 * by side; GPT-NeoX's query_key_value interleaves them per head). A block is given by the rows and
 * columns of the stored 2-D tensor it occupies: a half-open range [start, end) or an explicit list
 * of indices (for interleaved layouts). `layout` says how the stored tensor is oriented:
 * 'out_in' (nn.Linear, [out, in]) or 'in_out' (GPT-2 Conv1D, [in, out]).
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { MatrixType } from './types.ts';

export type WeightLayout = 'out_in' | 'in_out';

/**
 * Rows or columns of a stored tensor: a half-open range as [start, end) or {start, end}, or explicit
 * indices as an Int32Array or {indices} (a plain two-number array always means a range).
 */
export type IndexSet =
  | readonly [number, number]
  | { readonly start: number; readonly end: number }
  | { readonly indices: ArrayLike<number> }
  | Int32Array;

export interface MatrixSpec {
  tensorName: string;
  layout: WeightLayout;
  /** Rows of the stored tensor (all when absent). */
  rows?: IndexSet;
  /** Columns of the stored tensor (all when absent). */
  cols?: IndexSet;
  /**
   * src/models' form for fused tensors: half-open ranges of the *output* axis (rows for 'out_in',
   * columns for 'in_out') that, concatenated, form this matrix. Exclusive with rows/cols.
   */
  outRanges?: ReadonlyArray<readonly [number, number]>;
}

export interface LaserModel {
  getWeight(name: string): Tensor;
  setWeight(name: string, value: Tensor): void;
  /** Where each matrix type of `layer` is stored; types the architecture lacks are absent. */
  matrices(layer: number): Partial<Record<MatrixType, MatrixSpec>>;
  /** Number of transformer blocks. */
  readonly numLayers: number;
  /**
   * Optional (src/models): names currently replaced by `setWeight`, and dropping a replacement.
   * With both, undoing a reduction of a weight that was not replaced before frees its copy.
   */
  modifiedWeightNames?(): string[];
  resetWeight?(name: string): void;
}

/** A matrix location with explicit row/column index lists into its 2-D stored tensor. */
export interface ResolvedMatrix {
  tensorName: string;
  layout: WeightLayout;
  rows: Int32Array;
  cols: Int32Array;
  /** Output and input dimension of the linear map (rows/cols swapped for 'in_out'). */
  outDim: number;
  inDim: number;
}

/** Turn a spec into explicit indices, checking them against the stored tensor's shape. */
export function resolveMatrix(spec: MatrixSpec, storedShape: readonly number[]): ResolvedMatrix {
  if (storedShape.length !== 2) {
    throw new Error(`LASER: ${spec.tensorName} has shape [${storedShape.join(', ')}]; only 2-D weight tensors can be rank-reduced`);
  }
  let rowSet = spec.rows;
  let colSet = spec.cols;
  if (spec.outRanges) {
    if (rowSet || colSet) throw new Error(`LASER: ${spec.tensorName}: give either outRanges or rows/cols, not both`);
    const fused: IndexSet = { indices: spec.outRanges.flatMap(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i)) };
    if (spec.layout === 'out_in') rowSet = fused;
    else colSet = fused;
  }
  const rows = indices(rowSet, storedShape[0], `${spec.tensorName} rows`);
  const cols = indices(colSet, storedShape[1], `${spec.tensorName} columns`);
  const [outDim, inDim] = spec.layout === 'in_out' ? [cols.length, rows.length] : [rows.length, cols.length];
  return { tensorName: spec.tensorName, layout: spec.layout, rows, cols, outDim, inDim };
}

function indices(set: IndexSet | undefined, size: number, what: string): Int32Array {
  let out: Int32Array;
  if (set === undefined) out = range(0, size);
  else if (set instanceof Int32Array) out = set;
  else if (Array.isArray(set)) {
    if (set.length !== 2) throw new Error(`LASER: ${what}: a range is [start, end); use {indices} for explicit lists`);
    out = range(set[0], set[1]);
  } else if ('indices' in set) out = Int32Array.from(set.indices);
  else out = range((set as { start: number }).start, (set as { end: number }).end);
  for (const i of out) {
    if (!(Number.isInteger(i) && i >= 0 && i < size)) throw new Error(`LASER: ${what}: index ${i} outside 0…${size - 1}`);
  }
  if (out.length === 0) throw new Error(`LASER: ${what}: empty selection`);
  return out;
}

function range(start: number, end: number): Int32Array {
  if (!(Number.isInteger(start) && Number.isInteger(end) && start <= end)) throw new Error(`LASER: bad range [${start}, ${end})`);
  const out = new Int32Array(end - start);
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}

/** Read the block as a |rows| × |cols| float64 matrix (in stored orientation). */
export function readBlock(t: Tensor, m: ResolvedMatrix): Float64Array {
  const width = t.shape[1];
  const out = new Float64Array(m.rows.length * m.cols.length);
  const nc = m.cols.length;
  const d = t.data;
  for (let i = 0; i < m.rows.length; i++) {
    const base = m.rows[i] * width;
    for (let j = 0; j < nc; j++) out[i * nc + j] = d[base + m.cols[j]];
  }
  return out;
}

/** Write a |rows| × |cols| block into `t` in place (values rounded to t's dtype). */
export function writeBlock(t: Tensor, m: ResolvedMatrix, values: Float64Array): void {
  const width = t.shape[1];
  const nc = m.cols.length;
  const d = t.data;
  for (let i = 0; i < m.rows.length; i++) {
    const base = m.rows[i] * width;
    for (let j = 0; j < nc; j++) d[base + m.cols[j]] = values[i * nc + j];
  }
}
