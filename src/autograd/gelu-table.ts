/**
 * Exact GELU, y = x·Φ(x), and its derivative y' = Φ(x) + x·φ(x), for float32 tensors at table speed.
 *
 * On [−8, 8) both functions are piecewise cubic Hermite interpolants on a grid of spacing 1/128,
 * built once from float64-exact values and derivatives (y'' = φ(x)·(2 − x²)). The interpolation error
 * is below h⁴/384·max|f⁗| ≈ 1e-11 — far under float32 rounding — and it is relative near zero
 * because 0 is a grid node and the cell offset is computed exactly (x·128 − ⌊x·128⌋). Outside the
 * grid the float64 formulas are evaluated directly. No exp or erf per element: a truncation, four
 * loads and three multiply-adds; the value and slope coefficients of a cell share a cache line.
 */
import { erfc64 } from './erf.ts';

const STEPS_PER_UNIT = 128;
const RANGE = 8;
const CELLS = 2 * RANGE * STEPS_PER_UNIT;
const OFFSET = RANGE * STEPS_PER_UNIT;
const INV_SQRT_2 = 1 / Math.SQRT2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Φ(x), accurate in both tails. */
export function normalCdf(x: number): number {
  return x < 0 ? 0.5 * erfc64(-x * INV_SQRT_2) : 1 - 0.5 * erfc64(x * INV_SQRT_2);
}

export function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** GELU in float64 (reference for the tables and for values off the grid). */
export function geluExact64(x: number): number {
  return x * normalCdf(x);
}

export function geluDerivative64(x: number): number {
  return normalCdf(x) + x * normalPdf(x);
}

function geluSecondDerivative64(x: number): number {
  return normalPdf(x) * (2 - x * x);
}

/**
 * Per-cell cubic coefficients of the Hermite interpolants of GELU and of GELU', interleaved so one
 * cell is one 64-byte cache line: [a, b, c, d] of the value then [a, b, c, d] of the slope, where
 * p(u) = a + u(b + u(c + u·d)), u ∈ [0, 1) on the cell [x_i, x_i + h).
 */
function hermiteTable(): Float64Array {
  const h = 1 / STEPS_PER_UNIT;
  const table = new Float64Array(8 * CELLS);
  const put = (at: number, f0: number, f1: number, d0: number, d1: number) => {
    table[at] = f0;
    table[at + 1] = d0;
    table[at + 2] = 3 * (f1 - f0) - 2 * d0 - d1;
    table[at + 3] = 2 * (f0 - f1) + d0 + d1;
  };
  for (let i = 0; i < CELLS; i++) {
    const x0 = (i - OFFSET) * h;
    const x1 = x0 + h;
    put(8 * i, geluExact64(x0), geluExact64(x1), geluDerivative64(x0) * h, geluDerivative64(x1) * h);
    put(8 * i + 4, geluDerivative64(x0), geluDerivative64(x1), geluSecondDerivative64(x0) * h, geluSecondDerivative64(x1) * h);
  }
  return table;
}

let cached: Float64Array | undefined;

function table(): Float64Array {
  return (cached ??= hermiteTable());
}

/*
 * Every kernel below finds the cell of x with t = x·128 ∈ [−1024, 1024) (exact: a power-of-two
 * scaling of a float32): k = ⌊t⌋ by truncating the non-negative t + 1024 (cheaper than
 * Math.floor), u = t − k (exact), and the cell's coefficients start at 8(k + 1024). Values off the
 * grid (|x| ≥ 8, NaN) take the float64 formulas.
 */

/** y[i] = GELU(x[i]). */
export function geluForwardTable(x: Float32Array, y: Float32Array): void {
  const T = table();
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const t = v * STEPS_PER_UNIT;
    if (t >= -OFFSET && t < OFFSET) {
      const k = ((t + OFFSET) | 0) - OFFSET;
      const u = t - k;
      const j = (k + OFFSET) << 3;
      y[i] = T[j] + u * (T[j + 1] + u * (T[j + 2] + u * T[j + 3]));
    } else {
      y[i] = geluExact64(v);
    }
  }
}

/**
 * y[i] = GELU(x[i]) and slope[i] = GELU'(x[i]) in one pass (one cell lookup for both), so that
 * backward is a plain product g·slope.
 */
export function geluForwardWithSlope(x: Float32Array, y: Float32Array, slope: Float32Array): void {
  const T = table();
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const t = v * STEPS_PER_UNIT;
    if (t >= -OFFSET && t < OFFSET) {
      const k = ((t + OFFSET) | 0) - OFFSET;
      const u = t - k;
      const j = (k + OFFSET) << 3;
      y[i] = T[j] + u * (T[j + 1] + u * (T[j + 2] + u * T[j + 3]));
      slope[i] = T[j + 4] + u * (T[j + 5] + u * (T[j + 6] + u * T[j + 7]));
    } else {
      y[i] = geluExact64(v);
      slope[i] = geluDerivative64(v);
    }
  }
}

/** GELU'(v) from the table (or the float64 formula off the grid). */
function slopeAt(T: Float64Array, v: number): number {
  const t = v * STEPS_PER_UNIT;
  if (!(t >= -OFFSET && t < OFFSET)) return geluDerivative64(v);
  const k = ((t + OFFSET) | 0) - OFFSET;
  const u = t - k;
  const j = ((k + OFFSET) << 3) + 4;
  return T[j] + u * (T[j + 1] + u * (T[j + 2] + u * T[j + 3]));
}

/** gx[i] += g[i]·GELU'(x[i]), or gx[i] = g[i]·GELU'(x[i]) when not `accumulate` (gx may be g itself). */
export function geluBackwardTable(x: Float32Array, g: Float32Array, gx: Float32Array, accumulate = true): void {
  const T = table();
  if (accumulate) {
    for (let i = 0; i < x.length; i++) gx[i] += g[i] * slopeAt(T, x[i]);
  } else {
    for (let i = 0; i < x.length; i++) gx[i] = g[i] * slopeAt(T, x[i]);
  }
}
