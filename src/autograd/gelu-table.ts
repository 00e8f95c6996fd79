/**
 * Exact GELU, y = x·Φ(x), and its derivative y' = Φ(x) + x·φ(x), for float32 tensors at table speed.
 *
 * On [−8, 8) both functions are piecewise cubic Hermite interpolants on a grid of spacing 1/128,
 * built once from float64-exact values and derivatives (y'' = φ(x)·(2 − x²)). The interpolation error
 * is below h⁴/384·max|f⁗| ≈ 1e-11 — far under float32 rounding — and it is relative near zero
 * because 0 is a grid node and the cell offset is computed exactly (x·128 − ⌊x·128⌋). Outside the
 * grid the float64 formulas are evaluated directly. No exp or erf per element: a floor, four loads
 * and three multiply-adds.
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
 * Per-cell cubic coefficients [a, b, c, d] (p(u) = a + u(b + u(c + u·d)), u ∈ [0, 1)) of the Hermite
 * interpolant of f with derivative df on cells [x_i, x_i + h).
 */
function hermiteTable(f: (x: number) => number, df: (x: number) => number): Float64Array {
  const h = 1 / STEPS_PER_UNIT;
  const table = new Float64Array(4 * CELLS);
  for (let i = 0; i < CELLS; i++) {
    const x0 = (i - RANGE * STEPS_PER_UNIT) * h;
    const x1 = x0 + h;
    const f0 = f(x0), f1 = f(x1), d0 = df(x0) * h, d1 = df(x1) * h;
    table[4 * i] = f0;
    table[4 * i + 1] = d0;
    table[4 * i + 2] = 3 * (f1 - f0) - 2 * d0 - d1;
    table[4 * i + 3] = 2 * (f0 - f1) + d0 + d1;
  }
  return table;
}

let valueTable: Float64Array | undefined;
let slopeTable: Float64Array | undefined;

function tables(): [Float64Array, Float64Array] {
  valueTable ??= hermiteTable(geluExact64, geluDerivative64);
  slopeTable ??= hermiteTable(geluDerivative64, geluSecondDerivative64);
  return [valueTable, slopeTable];
}

/**
 * Cubic of cell k at offset u for x with t = x·128 ∈ [−1024, 1024): k = ⌊t⌋ by truncating the
 * non-negative t + 1024 (cheaper than Math.floor), and u = t − k is exact.
 */
function interpolate(T: Float64Array, t: number): number {
  const k = ((t + OFFSET) | 0) - OFFSET;
  const u = t - k;
  const j = (k + OFFSET) << 2;
  return T[j] + u * (T[j + 1] + u * (T[j + 2] + u * T[j + 3]));
}

/** y[i] = GELU(x[i]). */
export function geluForwardTable(x: Float32Array, y: Float32Array): void {
  const [T] = tables();
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v >= -RANGE && v < RANGE ? interpolate(T, v * STEPS_PER_UNIT) : geluExact64(v);
  }
}

/** gx[i] += g[i]·GELU'(x[i]), or gx[i] = g[i]·GELU'(x[i]) when not `accumulate` (gx may be g itself). */
export function geluBackwardTable(x: Float32Array, g: Float32Array, gx: Float32Array, accumulate = true): void {
  const [, D] = tables();
  if (accumulate) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      gx[i] += g[i] * (v >= -RANGE && v < RANGE ? interpolate(D, v * STEPS_PER_UNIT) : geluDerivative64(v));
    }
  } else {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      gx[i] = g[i] * (v >= -RANGE && v < RANGE ? interpolate(D, v * STEPS_PER_UNIT) : geluDerivative64(v));
    }
  }
}
