/**
 * A 2-D weight kept in its stored 16-bit dtype (BF16 or F16, the raw bits of the checkpoint), so a
 * model takes the memory of its file instead of twice that as float32.
 *
 * It computes in float32: `matmul` (src/tensor/matmul.ts) decodes a slab of output columns at a
 * time into one reused float32 scratch (≤ 16 MB) and multiplies with the ordinary float32 GEMM, so
 * every output element is the float32 dot product it is with the decoded weight (BF16/F16 → float32
 * is exact: src/io/half.ts); OpenBLAS may sum a product of few rows in another order when its
 * width differs (within float32 rounding: test/models/stored-dtype.test.ts). OpenBLAS's
 * `cblas_sbgemm` would also round the activations to BF16 (not the same numbers), and Debian's
 * libopenblas 0.3.21 does not export it (bench/RESULTS-scale.md).
 *
 * It is a `LazyWeight` (lazy-weight.ts): its values are the decoded weight; `slice0`, `row` and
 * `get` decode only what they return. Training takes float32 masters through `clone()`/`to()`.
 */
import type { Backend } from '../backend/backend.ts';
import { backend } from '../backend/index.ts';
import { GEMV_MIN_ELEMENTS, SMALL_KERNEL_MIN_COLUMNS } from '../backend/openblas.ts';
import { decodeBF16, decodeF16 } from '../io/half.ts';
import { FINITE_KIND, NATIVE_CALL_MIN, kernelThreads, nativeKernels } from './native-kernels.ts';
import { nativeAttentionKernels, onOneThread } from './attention.ts';
import { FEW_ROWS, fewRowSlabColumns, hasSmallMatrixKernel, isPlainTransposedProduct } from './few-row-gemm.ts';
import { LazyWeight } from './lazy-weight.ts';
import { Tensor, sizeOf, type DType } from './tensor.ts';

export type HalfStorage = 'BF16' | 'F16';

export class HalfWeight extends LazyWeight {
  readonly bits: Uint16Array;
  readonly storage: HalfStorage;
  readonly shape: readonly number[];

  constructor(bits: Uint16Array, storage: HalfStorage, shape: readonly number[]) {
    super();
    if (shape.length !== 2) throw new Error(`HalfWeight: a 2-D weight is expected, got shape [${shape.join(', ')}]`);
    if (bits.length !== sizeOf(shape)) throw new Error(`HalfWeight: shape [${shape.join(', ')}] holds ${sizeOf(shape)} elements but ${bits.length} were given`);
    this.bits = bits;
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
  }

  /** Decode bits [start, end) into `out` (float32). */
  decodeRange(start: number, end: number, out: Float32Array): void {
    const src = this.bits.subarray(start, end);
    if (this.storage === 'BF16') decodeBF16(src, out);
    else decodeF16(src, out);
  }

  /** Decode columns [c0, c1) of every row into `out` ([rows, c1 − c0], row-major). */
  decodeColumns(c0: number, c1: number, out: Float32Array): void {
    const [rows, cols] = this.shape;
    const w = c1 - c0;
    const k = rows * w >= NATIVE_CALL_MIN ? nativeKernels() : null;
    if (k) {
      k.decodeHalf(this.bits.subarray(c0), rows, w, cols, this.storage === 'F16' ? 1 : 0, out);
      return;
    }
    for (let i = 0; i < rows; i++) this.decodeRange(i * cols + c0, i * cols + c1, out.subarray(i * w, (i + 1) * w));
  }

  /** The decoded weight as a new dense float32 tensor. */
  dense(): Tensor {
    const out = new Float32Array(this.bits.length);
    this.decodeRange(0, this.bits.length, out);
    return new Tensor(out, this.shape);
  }

  /** Bytes held. */
  get storedBytes(): number {
    return this.bits.byteLength;
  }

  // ---- the Tensor interface beyond LazyWeight's (values are the decoded weight) ----

  get dtype(): DType {
    return 'float32';
  }

  slice0(start: number, end: number): Tensor {
    if (start < 0 || end > this.shape[0] || start > end) {
      throw new Error(`HalfWeight.slice0: [${start}, ${end}) out of range for first axis ${this.shape[0]}`);
    }
    const cols = this.shape[1];
    const out = new Float32Array((end - start) * cols);
    this.decodeRange(start * cols, end * cols, out);
    return new Tensor(out, [end - start, cols]);
  }

  row(i: number): Tensor {
    return this.slice0(i, i + 1).reshape(this.shape[1]);
  }

  get(...index: number[]): number {
    const out = new Float32Array(1);
    const flat = index[0] * this.shape[1] + index[1];
    this.decodeRange(flat, flat + 1, out);
    return out[0];
  }

  toString(): string {
    return `HalfWeight(${this.storage}, [${this.shape.join(', ')}])`;
  }
}

/** Whether a weight is held in its 16-bit stored dtype. */
export function isHalf(w: unknown): w is HalfWeight {
  return w instanceof HalfWeight;
}

/** Whether 16-bit values hold a NaN or ±Infinity (exponent all ones). */
export function hasNonFiniteHalf(bits: Uint16Array, storage: HalfStorage): boolean {
  const k = bits.length >= NATIVE_CALL_MIN ? nativeKernels() : null;
  if (k) return k.firstNonFinite(bits, bits.length, FINITE_KIND[storage]) >= 0;
  const mask = storage === 'BF16' ? 0x7f80 : 0x7c00;
  for (let i = 0; i < bits.length; i++) if ((bits[i] & mask) === mask) return true;
  return false;
}

/** Largest scratch (float32 elements) a product with a HalfWeight decodes at once: 16 MB. */
const SCRATCH_ELEMENTS = 1 << 22;
/*
 * Products of at most FEW_ROWS rows (generation steps of one or a few sequences) with a weight
 * larger than L2 read each decoded value a few times: they decode cache-sized slabs, the width
 * few-row-gemm.ts gives the float32 weight's slabs (≤ 256 KB, within OpenBLAS's small-matrix
 * kernel), so the GEMM reads them from the core's L2 cache where the decode left them, not from
 * memory (bench/RESULTS-kernels.md: 11008 × 4096 BF16 at 4 rows 14.1 ms, float32 13.4 ms). Only
 * where that kernel is there: elsewhere, slabs that narrow would cost more calls for nothing.
 */
let scratch = new Float32Array(0);

/** Output columns of op(W) per cache-sized slab of a product of `m` rows. */
function cachedSlabColumns(w: HalfWeight, transB: boolean, m: number): number {
  return fewRowSlabColumns(m, transB ? w.shape[1] : w.shape[0]);
}

/**
 * Whether a product of `m` rows decodes cache-sized slabs (see above): few rows, a
 * weight larger than L2 (a smaller one is one slab, one GEMM, as its float32 copy would be), and
 * slabs not too thin.
 */
export function decodesCachedSlabs(w: HalfWeight, transB: boolean, m: number): boolean {
  return m <= FEW_ROWS && w.bits.length >= GEMV_MIN_ELEMENTS && cachedSlabColumns(w, transB, m) >= SMALL_KERNEL_MIN_COLUMNS
    && hasSmallMatrixKernel(backend());
}

/** Output columns of op(W) per decoded slab of a product of `m` rows. */
export function decodedSlabColumns(w: HalfWeight, transB: boolean, m: number): number {
  const [rows, cols] = w.shape;
  const n = transB ? rows : cols;
  const inner = transB ? cols : rows;
  const step = decodesCachedSlabs(w, transB, m) ? cachedSlabColumns(w, transB, m) : Math.floor(SCRATCH_ELEMENTS / Math.max(1, inner));
  return Math.max(1, Math.min(n, step));
}

/**
 * Output-column slabs of op(W) for a product with the HalfWeight `w`: each slab is decoded into the
 * one reused scratch and handed to `run(b, ldb, col0, cols)` as a dense row-major float32 operand
 * (W stored [rows, cols]; with `transB` the output columns are W's rows, else W's columns).
 */
export function forEachDecodedSlab(w: HalfWeight, transB: boolean, m: number,
  run: (b: Float32Array, ldb: number, col0: number, cols: number) => void): void {
  const [rows, cols] = w.shape;
  const n = transB ? rows : cols;
  const inner = transB ? cols : rows;
  const step = decodedSlabColumns(w, transB, m);
  if (scratch.length < step * inner) scratch = new Float32Array(step * inner);
  for (let c0 = 0; c0 < n; c0 += step) {
    const c1 = Math.min(n, c0 + step);
    const b = scratch.subarray(0, (c1 - c0) * inner);
    if (transB) w.decodeRange(c0 * cols, c1 * cols, b);
    else w.decodeColumns(c0, c1, b);
    run(b, transB ? cols : c1 - c0, c0, c1 - c0);
  }
}

/** Bytes a loaded weight holds in memory (16-bit for a HalfWeight, without decoding it). */
export function heldBytes(t: Tensor): number {
  return t instanceof HalfWeight ? t.storedBytes : t.data.byteLength;
}

/**
 * C = X·Wᵀ for a 16-bit W [n, k] and a few rows X (cache-sized slabs, above): the decode
 * and sgemm of every slab run in C, the slabs spread over the BLAS's threads
 * (native/kernels.c lk_half_product: the same decodes and calls as the TypeScript slab loop, so
 * the same numbers). False when the caller should run that loop.
 */
export function fewRowHalfProduct(be: Backend, w: HalfWeight, x: Float32Array, c: Float32Array, g: { transA: boolean; transB: boolean; m: number; alpha: number; beta: number }): boolean {
  if (!isPlainTransposedProduct(g) || !decodesCachedSlabs(w, g.transB, g.m)) return false;
  const nk = nativeAttentionKernels(be);
  if (!nk) return false;
  const [n, k] = w.shape;
  const threads = be.threads();
  let status = 0;
  onOneThread(be, () => {
    status = nk.halfProduct(w.bits, w.storage === 'F16' ? 1 : 0, n, k, x, k, g.m, c, n, decodedSlabColumns(w, true, g.m), threads);
  });
  return status === 0;
}

/** Lanes of the one-row product's sums (native/kernels.c GEMV_LANES). */
const GEMV_LANES = 16;

/**
 * y = W·x for one row x and W [n, k] stored transposed (a generation step of one sequence), W read
 * as stored: native/kernels.c lk_half_gemv over threads, or this loop, its twin (the same float32
 * products and sums, each y[j] in 16 lanes added pairwise at the end: the same bits). A 16-bit
 * weight moves 2 bytes a value this way, 10 when decoded into a slab for sgemv.
 */
export function oneRowHalfProduct(w: HalfWeight, x: Float32Array, y: Float32Array): void {
  const [n, k] = w.shape;
  const nk = nativeKernels();
  if (nk) {
    nk.halfGemv(w.bits, w.storage === 'F16' ? 1 : 0, n, k, x, y, kernelThreads());
    return;
  }
  const row = new Float32Array(k);
  const acc = new Float32Array(GEMV_LANES);
  for (let j = 0; j < n; j++) {
    w.decodeRange(j * k, (j + 1) * k, row);
    acc.fill(0);
    let i = 0;
    for (; i + GEMV_LANES <= k; i += GEMV_LANES) {
      for (let l = 0; l < GEMV_LANES; l++) acc[l] += Math.fround(x[i + l] * row[i + l]);
    }
    for (let l = 0; i < k; i++, l++) acc[l] += Math.fround(x[i] * row[i]);
    for (let width = GEMV_LANES / 2; width >= 1; width /= 2) for (let l = 0; l < width; l++) acc[l] += acc[l + width];
    y[j] = acc[0];
  }
}
