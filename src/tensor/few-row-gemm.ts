/**
 * Products of a few rows with a large transposed float32 weight, C = X·Wᵀ (W stored [n, k]: a
 * Linear layer or a tied head, in a batched generation step or a short forward), as column slabs.
 *
 * One `cblas_sgemm` call first copies all of W into packed panels and then runs a kernel made for
 * many rows: with 2–32 rows the slabs below were 1.0–3.6× faster (bench/RESULTS-kernels.md).
 * OpenBLAS builds for SkylakeX-family cores (SkylakeX, Cooperlake, SapphireRapids) have a
 * small-matrix sgemm kernel that reads B in place, for products of up to about 100³ multiply-adds.
 * So here W is cut into slabs (fewRowSlabColumns: ≤ 256 KB, ≤ SMALL_KERNEL_MNK multiply-adds),
 * one sgemm call each, the slabs spread over the BLAS's threads by native/kernels.c
 * lk_sgemm_column_slabs (each call on one BLAS thread, as the C attention kernels do). Each output
 * element is still one OpenBLAS dot product, summed in the small kernel's order (within float32
 * rounding of one call's).
 *
 * Other core types, other dtypes, α ≠ 1 or β ≠ 0 make one call (slabs measured 0.7–1.8× there with
 * the Haswell and Zen kernels). Without the C kernels the slabs run one after the other, the same
 * calls, so the numbers do not depend on them.
 */
import { GEMV_MIN_ELEMENTS, OpenBlasBackend, SMALL_KERNEL_MIN_COLUMNS, SMALL_KERNEL_MNK } from '../backend/openblas.ts';
import type { Backend, GemmArgs } from '../backend/backend.ts';
import { nativeAttentionKernels, onOneThread } from './attention.ts';

/** Rows up to which a product runs in slabs; from 64 rows on one call is as fast. */
export const FEW_ROWS = 32;
/** Elements of op(B) per slab at most: 256 KB of float32, kept in a core's L2 while every row reads it. */
const SLAB_ELEMENTS = 1 << 16;

/**
 * Columns of op(B) (rows of W) per slab of a product of `m` rows with inner dimension `k`: at most
 * SLAB_ELEMENTS values and SMALL_KERNEL_MNK multiply-adds. Products with a 16-bit weight decode
 * slabs of the same width (half-weight.ts), so they make the same sgemm calls as its float32 copy.
 */
export function fewRowSlabColumns(m: number, k: number): number {
  return Math.floor(Math.min(SLAB_ELEMENTS, Math.floor(SMALL_KERNEL_MNK / Math.max(1, m))) / Math.max(1, k));
}

/** Whether a GEMM is C = A·Bᵀ with α = 1 and β = 0: x·Wᵀ for W stored [n, k], a Linear layer's product. */
export function isPlainTransposedProduct(g: { transA: boolean; transB: boolean; alpha: number; beta: number }): boolean {
  return g.transB && !g.transA && g.alpha === 1 && g.beta === 0;
}

/** Whether OpenBLAS runs thin products with its small-matrix kernel here (see above). */
export function hasSmallMatrixKernel(be: Backend): be is OpenBlasBackend {
  return be instanceof OpenBlasBackend && be.smallMatrixKernel;
}

/** Runs C = A·Bᵀ as column slabs when that is faster here (see above); false when the caller should make one call. */
export function fewRowProduct(be: Backend, g: GemmArgs): boolean {
  if (!(g.m >= 2 && g.m <= FEW_ROWS) || !isPlainTransposedProduct(g)) return false;
  if (!(g.c instanceof Float32Array) || g.n * g.k < GEMV_MIN_ELEMENTS) return false;
  if (!hasSmallMatrixKernel(be)) return false;
  const step = fewRowSlabColumns(g.m, g.k);
  if (step < SMALL_KERNEL_MIN_COLUMNS) return false;
  const nk = nativeAttentionKernels(be);
  if (!nk) {
    // the same sgemm calls one after the other (the same numbers as with the C kernels)
    for (let c0 = 0; c0 < g.n; c0 += step) {
      be.gemm({ ...g, n: Math.min(step, g.n - c0), b: g.b.subarray(c0 * g.ldb), c: g.c.subarray(c0) });
    }
    return true;
  }
  const threads = be.threads();
  let status = 0;
  onOneThread(be, () => {
    status = nk.sgemmColumnSlabs(g.a as Float32Array, g.lda, g.b as Float32Array, g.ldb, g.c as Float32Array, g.ldc, g.m, g.n, g.k, step, threads);
  });
  return status === 0;
}

/** How products of a few rows run here, for `linscope info`. */
export function fewRowStatus(be: Backend): string {
  if (!(be instanceof OpenBlasBackend)) return 'one GEMM call';
  if (!be.smallMatrixKernel) return `one GEMM call (OpenBLAS core ${be.core} has no small-matrix kernel)`;
  if (!nativeAttentionKernels(be)) return `column slabs (OpenBLAS ${be.core} small-matrix kernel), on one thread (the C kernels are not loaded)`;
  return `column slabs (OpenBLAS ${be.core} small-matrix kernel)`;
}

/** C = α·op(A)·op(B) + β·C through `be`, as column slabs where `fewRowProduct` runs them. */
export function gemmOrSlabs(be: Backend, g: GemmArgs): void {
  if (!fewRowProduct(be, g)) be.gemm(g);
}
