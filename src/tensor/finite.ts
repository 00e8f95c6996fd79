/**
 * Finding NaN and ±Infinity in a run of numbers: one pass, no allocation, for the checks that keep
 * a non-finite value from travelling silently (weights on load, statistics before LAPACK).
 */
import { FINITE_KIND, NATIVE_CALL_MIN, nativeKernels } from './native-kernels.ts';

/**
 * Index of the first NaN or ±Infinity in `values`, or −1 when every value is finite. Long float
 * arrays are scanned by native/kernels.c lk_first_nonfinite (exponent bits all ones: the same test);
 * this loop is its reference and fallback.
 */
export function firstNonFinite(values: ArrayLike<number>): number {
  const n = values.length;
  const native = n >= NATIVE_CALL_MIN && (values instanceof Float32Array || values instanceof Float64Array) ? nativeKernels() : null;
  if (native) return native.firstNonFinite(values as Float32Array | Float64Array, n, values instanceof Float32Array ? FINITE_KIND.float32 : FINITE_KIND.float64);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    // v − v is 0 for every finite v, NaN for NaN and ±Infinity
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Number of NaN or ±Infinity values from index `from` on. */
export function countNonFinite(values: ArrayLike<number>, from = 0): number {
  let count = 0;
  for (let i = from; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) count++;
  }
  return count;
}

/** "NaN at [2, 5]": the value and its multi-index in a row-major tensor of `shape`. */
export function describeAt(values: ArrayLike<number>, index: number, shape: readonly number[]): string {
  const at: number[] = [];
  let rest = index;
  for (let k = shape.length - 1; k >= 0; k--) {
    at.unshift(shape[k] > 0 ? rest % shape[k] : 0);
    rest = shape[k] > 0 ? Math.floor(rest / shape[k]) : 0;
  }
  return `${values[index]} at [${at.join(', ')}]`;
}

/**
 * Null when `values` are all finite, else one phrase for an error message:
 * "holds 3 NaN/Inf values (first: NaN at [2, 5])".
 */
export function nonFiniteSummary(values: ArrayLike<number>, shape: readonly number[]): string | null {
  const first = firstNonFinite(values);
  if (first < 0) return null;
  const count = 1 + countNonFinite(values, first + 1);
  return `holds ${count} NaN/Inf value${count === 1 ? '' : 's'} (first: ${describeAt(values, first, shape)})`;
}
