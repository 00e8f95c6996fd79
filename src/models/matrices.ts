/**
 * Addressing one logical weight matrix (LASER's q, k, v, o, in, up, out) inside a model's stored
 * tensors, whatever their layout — the one module LASER, pruning and the tests use for it.
 *
 * A matrix is a whole stored 2-D tensor or a block of a fused one (GPT-2's c_attn holds q|k|v side
 * by side; GPT-NeoX's query_key_value interleaves them per head). `layout` says how the stored
 * tensor is oriented: 'out_in' (nn.Linear, [out, in]) or 'in_out' (GPT-2 Conv1D, [in, out]). The
 * block is given by `outRanges` (half-open ranges of the output axis, as src/models' architectures
 * describe fused tensors) or, more generally, by the rows and columns of the stored tensor it
 * occupies (`rows`/`cols`: a range or explicit indices). `resolveMatrix` turns either form into
 * explicit index lists; every read and write goes through `readBlock`/`writeBlock` on them.
 * Matrices are exchanged with callers in the PyTorch orientation [out, in].
 */
import { Tensor, allocate } from '../tensor/tensor.ts';
import { MATRIX_TYPES, type MatrixRef, type MatrixType } from './types.ts';

export { MATRIX_TYPES, type MatrixRef, type MatrixType };

export function isMatrixType(s: string): s is MatrixType {
  return (MATRIX_TYPES as readonly string[]).includes(s);
}

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

/** Where a matrix lives. src/models' {@link MatrixRef} is one (with `outRanges`, shape and bias). */
export interface MatrixSpec {
  tensorName: string;
  layout: WeightLayout;
  /** Rows of the stored tensor (all when absent). */
  rows?: IndexSet;
  /** Columns of the stored tensor (all when absent). */
  cols?: IndexSet;
  /**
   * Half-open ranges of the *output* axis (rows for 'out_in', columns for 'in_out') that,
   * concatenated, form this matrix. Exclusive with rows/cols.
   */
  outRanges?: ReadonlyArray<readonly [number, number]>;
}

/**
 * A model whose weight matrices can be read and replaced by name: src/models' `DecoderModel`
 * satisfies it; tests pass plain weight stores.
 */
export interface MatrixModel {
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
function resolveMatrix(spec: MatrixSpec, storedShape: readonly number[]): ResolvedMatrix {
  if (storedShape.length !== 2) {
    throw new Error(`${spec.tensorName} has shape [${storedShape.join(', ')}]; only 2-D weight tensors hold a matrix`);
  }
  let rowSet = spec.rows;
  let colSet = spec.cols;
  if (spec.outRanges) {
    if (rowSet || colSet) throw new Error(`${spec.tensorName}: give either outRanges or rows/cols, not both`);
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
    if (set.length !== 2) throw new Error(`${what}: a range is [start, end); use {indices} for explicit lists`);
    out = range(set[0], set[1]);
  } else if ('indices' in set) out = Int32Array.from(set.indices);
  else out = range((set as { start: number }).start, (set as { end: number }).end);
  for (const i of out) {
    if (!(Number.isInteger(i) && i >= 0 && i < size)) throw new Error(`${what}: index ${i} outside 0…${size - 1}`);
  }
  if (out.length === 0) throw new Error(`${what}: empty selection`);
  return out;
}

function range(start: number, end: number): Int32Array {
  if (!(Number.isInteger(start) && Number.isInteger(end) && start <= end)) throw new Error(`bad range [${start}, ${end})`);
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
export function writeBlock(t: Tensor, m: ResolvedMatrix, values: ArrayLike<number>): void {
  const width = t.shape[1];
  const nc = m.cols.length;
  const d = t.data;
  for (let i = 0; i < m.rows.length; i++) {
    const base = m.rows[i] * width;
    for (let j = 0; j < nc; j++) d[base + m.cols[j]] = values[i * nc + j];
  }
}

/** Where matrix `type` of `layer` lives, resolved, with a clear error when the layer or the matrix does not exist. */
export function locateMatrix(model: MatrixModel, type: MatrixType, layer: number): ResolvedMatrix {
  if (!(Number.isInteger(layer) && layer >= 0 && layer < model.numLayers)) {
    throw new Error(`layer ${layer} out of range (the model has ${model.numLayers} layers, 0…${model.numLayers - 1})`);
  }
  const table = model.matrices(layer);
  const spec = table[type];
  if (!spec) throw new Error(`this architecture has no "${type}" matrix (layer ${layer} has: ${Object.keys(table).join(', ')})`);
  return resolveMatrix(spec, model.getWeight(spec.tensorName).shape);
}

/** A model of src/models: matrices with shapes and biases, and a compute dtype. */
interface RefModel {
  matrices(layer: number): Partial<Record<MatrixType, MatrixRef>>;
  getWeight(name: string): Tensor;
  setWeight(name: string, value: Tensor): void;
  readonly dtype: 'float32' | 'float64';
  readonly config: { modelType: string };
}

/** The matrix `type` of block `layer`, or a clear error when the architecture has none (e.g. `up` outside gated MLPs). */
export function matrixRef(model: RefModel, layer: number, type: MatrixType): MatrixRef {
  const ref = model.matrices(layer)[type];
  if (!ref) {
    const have = Object.keys(model.matrices(layer)).join(', ');
    throw new Error(`${model.config.modelType} has no "${type}" matrix (it has: ${have})`);
  }
  return ref;
}

/** Copy of the matrix as [out, in], in the stored tensor's dtype. */
export function readMatrix(model: Pick<RefModel, 'getWeight'>, ref: MatrixSpec): Tensor {
  const w = model.getWeight(ref.tensorName);
  const loc = resolveMatrix(ref, w.shape);
  const block = readBlock(w, loc);
  const m = new Tensor(allocate(w.dtype, loc.outDim * loc.inDim), [loc.outDim, loc.inDim]);
  if (loc.layout === 'out_in') m.data.set(block);
  else transposeInto(block, loc.rows.length, loc.cols.length, m.data);
  return m;
}

/** Replace the matrix with `matrix` ([out, in]); other parts of a fused tensor are kept. */
export function writeMatrix(model: RefModel, ref: MatrixSpec, matrix: Tensor): void {
  const w = model.getWeight(ref.tensorName).to(model.dtype);
  const loc = resolveMatrix(ref, w.shape);
  if (matrix.shape.length !== 2 || matrix.shape[0] !== loc.outDim || matrix.shape[1] !== loc.inDim) {
    throw new Error(`writeMatrix: ${ref.tensorName} expects a [${loc.outDim}, ${loc.inDim}] matrix, got [${matrix.shape.join(', ')}]`);
  }
  if (loc.layout === 'out_in') writeBlock(w, loc, matrix.data);
  else {
    const stored = new Float64Array(matrix.size);
    transposeInto(matrix.data, loc.outDim, loc.inDim, stored);
    writeBlock(w, loc, stored);
  }
  model.setWeight(ref.tensorName, w);
}

/** Output-axis indices of the matrix in its stored tensor (where its bias entries are). */
function outputIndices(ref: MatrixSpec, w: Tensor): Int32Array {
  const loc = resolveMatrix(ref, w.shape);
  return loc.layout === 'out_in' ? loc.rows : loc.cols;
}

/** Copy of the matrix's bias entries, or undefined when it has no bias. */
export function readBias(model: Pick<RefModel, 'getWeight'>, ref: MatrixRef): Tensor | undefined {
  if (!ref.biasName) return undefined;
  const b = model.getWeight(ref.biasName);
  const idx = outputIndices(ref, model.getWeight(ref.tensorName));
  const out = new Tensor(allocate(b.dtype, idx.length), [idx.length]);
  idx.forEach((k, i) => (out.data[i] = b.data[k]));
  return out;
}

/** Replace the matrix's bias entries. */
export function writeBias(model: RefModel, ref: MatrixRef, bias: Tensor): void {
  if (!ref.biasName) throw new Error(`writeBias: ${ref.tensorName} has no bias`);
  const b = model.getWeight(ref.biasName).to(model.dtype);
  const idx = outputIndices(ref, model.getWeight(ref.tensorName));
  if (bias.size !== idx.length) throw new Error(`writeBias: ${ref.biasName} part has ${idx.length} entries, got ${bias.size}`);
  idx.forEach((k, i) => (b.data[k] = bias.data[i]));
  model.setWeight(ref.biasName, b);
}

/** dst[j·rows + i] = src[i·cols + j]: the transpose of a rows × cols matrix. */
function transposeInto(src: ArrayLike<number>, rows: number, cols: number, dst: { [i: number]: number }): void {
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j];
}
