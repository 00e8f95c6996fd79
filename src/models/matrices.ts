/**
 * Reading and replacing single logical matrices (LASER's q, k, v, o, in, up, out) inside a model's
 * stored tensors, whatever their layout: whole Linear weights, GPT-2's transposed Conv1D weights,
 * or row ranges of fused QKV tensors. Matrices are exchanged in the PyTorch orientation [out, in].
 */
import { Tensor, allocate } from '../tensor/tensor.ts';
import type { DecoderModel } from './decoder.ts';
import type { MatrixRef, MatrixType } from './types.ts';

/** The matrix `type` of block `layer`, or a clear error when the architecture has none (e.g. `up` outside gated MLPs). */
export function matrixRef(model: DecoderModel, layer: number, type: MatrixType): MatrixRef {
  const ref = model.matrices(layer)[type];
  if (!ref) {
    const have = Object.keys(model.matrices(layer)).join(', ');
    throw new Error(`${model.config.modelType} has no "${type}" matrix (it has: ${have})`);
  }
  return ref;
}

/** Output-axis indices of `ref` in its stored tensor, in order. */
function outIndices(ref: MatrixRef, storedOut: number): number[] {
  const ranges = ref.outRanges ?? [[0, storedOut]];
  const idx: number[] = [];
  for (const [a, b] of ranges) for (let i = a; i < b; i++) idx.push(i);
  return idx;
}

/** Copy of the matrix as [out, in]. */
export function readMatrix(model: DecoderModel, ref: MatrixRef): Tensor {
  const w = model.getWeight(ref.tensorName);
  const [outDim, inDim] = ref.shape;
  const m = new Tensor(allocate(w.dtype, outDim * inDim), [outDim, inDim]);
  if (ref.layout === 'out_in') {
    const rows = outIndices(ref, w.shape[0]);
    rows.forEach((r, i) => m.data.set(w.data.subarray(r * inDim, (r + 1) * inDim), i * inDim));
  } else {
    const cols = outIndices(ref, w.shape[1]);
    const n = w.shape[1];
    cols.forEach((c, i) => {
      for (let j = 0; j < inDim; j++) m.data[i * inDim + j] = w.data[j * n + c];
    });
  }
  return m;
}

/** Replace the matrix with `matrix` ([out, in]); other parts of a fused tensor are kept. */
export function writeMatrix(model: DecoderModel, ref: MatrixRef, matrix: Tensor): void {
  const [outDim, inDim] = ref.shape;
  if (matrix.shape.length !== 2 || matrix.shape[0] !== outDim || matrix.shape[1] !== inDim) {
    throw new Error(`writeMatrix: ${ref.tensorName} expects a [${outDim}, ${inDim}] matrix, got [${matrix.shape.join(', ')}]`);
  }
  const w = model.getWeight(ref.tensorName).to(model.dtype);
  if (ref.layout === 'out_in') {
    outIndices(ref, w.shape[0]).forEach((r, i) => w.data.set(matrix.data.subarray(i * inDim, (i + 1) * inDim), r * inDim));
  } else {
    const n = w.shape[1];
    outIndices(ref, n).forEach((c, i) => {
      for (let j = 0; j < inDim; j++) w.data[j * n + c] = matrix.data[i * inDim + j];
    });
  }
  model.setWeight(ref.tensorName, w);
}

/** Copy of the matrix's bias entries, or undefined when it has no bias. */
export function readBias(model: DecoderModel, ref: MatrixRef): Tensor | undefined {
  if (!ref.biasName) return undefined;
  const b = model.getWeight(ref.biasName);
  const idx = outIndices(ref, b.size);
  const out = new Tensor(allocate(b.dtype, idx.length), [idx.length]);
  idx.forEach((k, i) => (out.data[i] = b.data[k]));
  return out;
}

/** Replace the matrix's bias entries. */
export function writeBias(model: DecoderModel, ref: MatrixRef, bias: Tensor): void {
  if (!ref.biasName) throw new Error(`writeBias: ${ref.tensorName} has no bias`);
  const b = model.getWeight(ref.biasName).to(model.dtype);
  const idx = outIndices(ref, b.size);
  if (bias.size !== idx.length) throw new Error(`writeBias: ${ref.biasName} part has ${idx.length} entries, got ${bias.size}`);
  idx.forEach((k, i) => (b.data[k] = bias.data[i]));
  model.setWeight(ref.biasName, b);
}
