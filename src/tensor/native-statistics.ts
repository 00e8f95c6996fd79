/**
 * The float64 statistics kernels of native/kernels.c (section "linearity statistics"), bound through
 * the library `native-kernels.ts` loads: the per-element loops of src/analysis/rows.ts, moments.ts and
 * linearity-cholesky.ts. Each equals its TypeScript loop bit for bit (same order of every float64 sum),
 * and the TypeScript loops stay the fallback and the test oracle (`LINSCOPE_NATIVE_KERNELS=0`).
 */
import type koffi from 'koffi';
import { nativeKernels } from './native-kernels.ts';

type F64 = Float64Array;
export interface NativeStatisticsKernels {
  /** copyShiftedRows: out[r] = src[row(start + r)] − shift; `f64` 1 when src is a Float64Array; −1 when a row is not in src. */
  rows(src: Float32Array | F64, f64: number, srcRows: number, dim: number, rows: Int32Array | null, start: number, count: number, shift: F64 | null, out: F64, threads: number): number;
  /** ShiftedReader's first chunk: mean ← column means, chunk −= mean. */
  centreColumns(chunk: F64, rows: number, dim: number, mean: F64): void;
  /** StreamMoments.addShifted's loop; out = [Σ‖x̃‖², Σ weights, rows with ‖x‖ > 0]. */
  streamAdd(chunk: F64, rows: number, d: number, shift: F64, sum: F64, weights: F64 | null, out: F64): void;
  /** CrossMoments.addDifference (form = 1: delta ← y − x) or addShifted (form = 0); out = [Σ‖d̃‖², Σ‖ỹ‖²]. */
  crossAdd(x: F64, y: F64 | null, delta: F64, form: number, rows: number, d: number, sumDelta: F64, out: F64): void;
  /** centredProduct (upper = 1: raw is an upper triangle, read symmetric) into `out`. */
  centredProduct(raw: F64, upper: number, sumA: F64, sumB: F64, n: number, dim: number, out: F64, threads: number): void;
  /** Σ a_i², index order. */
  sumSquares(a: F64, n: number): number;
  /** max_i Σ_j |a_ij| (NaN as Math.max). */
  maxRowSum(a: F64, d: number): number;
  /** choleskyScores' ridge sums; out = [Σ cxd·a, Σ a², Σ (cxx + cxd)·kcxy, Σ kcxy²]. */
  ridgeSums(cxd: F64, a: F64, k: F64, cxx: F64, d: number, shift: number, out: F64): void;
}

/** Binds the statistics kernels of a loaded library (native-kernels.ts `open`). */
export function bindStatisticsKernels(lib: ReturnType<typeof koffi.load>): NativeStatisticsKernels {
  const f = <T>(sig: string) => lib.func(sig) as T;
  return {
    rows: f('int lk_rows_f64(void *src, int f64, int64_t srcRows, int64_t dim, void *rows, int64_t start, int64_t count, void *shift, void *out, int nt)'),
    centreColumns: f('void lk_centre_columns_f64(void *chunk, int64_t rows, int64_t dim, void *mean)'),
    streamAdd: f('void lk_stream_add_f64(void *chunk, int64_t rows, int64_t d, void *s, void *sum, void *weights, void *out)'),
    crossAdd: f('void lk_cross_add_f64(void *x, void *y, void *delta, int form, int64_t rows, int64_t d, void *sumDelta, void *out)'),
    centredProduct: f('void lk_centred_product_f64(void *raw, int upper, void *sumA, void *sumB, double n, int64_t dim, void *out, int nt)'),
    sumSquares: f('double lk_sumsq_f64(void *a, int64_t n)'),
    maxRowSum: f('double lk_max_row_sum_f64(void *a, int64_t d)'),
    ridgeSums: f('void lk_ridge_sums_f64(void *cxd, void *a, void *k, void *cxx, int64_t d, double shift, void *out)'),
  };
}

/** The statistics kernels, or null when the native kernels are off or unavailable. */
export function nativeStatistics(): NativeStatisticsKernels | null {
  return nativeKernels()?.statistics ?? null;
}
