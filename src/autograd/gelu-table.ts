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

/** y[i] = GELU(x[i]). */
export function geluForwardTable(x: Float32Array, y: Float32Array): void {
  const [T] = tables();
  const offset = RANGE * STEPS_PER_UNIT;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v >= -RANGE && v < RANGE) {
      const t = v * STEPS_PER_UNIT;
      const k = Math.floor(t);
      const u = t - k;
      const j = 4 * (k + offset);
      y[i] = T[j] + u * (T[j + 1] + u * (T[j + 2] + u * T[j + 3]));
    } else {
      y[i] = geluExact64(v);
    }
  }
}

/** gx[i] += g[i]·GELU'(x[i]). */
export function geluBackwardTable(x: Float32Array, g: Float32Array, gx: Float32Array): void {
  const [, D] = tables();
  const offset = RANGE * STEPS_PER_UNIT;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    let slope: number;
    if (v >= -RANGE && v < RANGE) {
      const t = v * STEPS_PER_UNIT;
      const k = Math.floor(t);
      const u = t - k;
      const j = 4 * (k + offset);
      slope = D[j] + u * (D[j + 1] + u * (D[j + 2] + u * D[j + 3]));
    } else {
      slope = geluDerivative64(v);
    }
    gx[i] += g[i] * slope;
  }
}
