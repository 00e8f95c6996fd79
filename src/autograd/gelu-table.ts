/**
 * Exact GELU, y = x·Φ(x), and its derivative y' = Φ(x) + x·φ(x), for float32 tensors at table speed.
 *
 * On [−8, 8) GELU is a piecewise cubic Hermite interpolant p on a grid of spacing h = 1/128, built
 * once from float64-exact values and derivatives. The value error is below h⁴/384·max|f⁗| ≈ 1e-11
 * (max|f⁗| = |f⁗(0)| = 4φ(0) ≈ 1.6) — far under float32 rounding — and it is relative near zero
 * because 0 is a grid node and the cell offset is computed exactly (x·128 − ⌊x·128⌋). The slope is
 * the interpolant's own derivative p′, exact at the nodes and within √3/216·h³·max|f⁗| ≈ 6e-9 of
 * GELU' between them (below the float32 rounding of a slope near 1, ≈ 6e-8). Outside the grid the
 * float64 formulas are evaluated directly. No exp or erf per element: a truncation, four loads and
 * three multiply-adds for the value, two more for the slope.
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

/**
 * Per-cell cubic coefficients [a, b, c, d] of the Hermite interpolant of GELU on the cells
 * [x_i, x_i + h): p(u) = a + u(b + u(c + u·d)), u ∈ [0, 1), and p′ = (b + u(2c + 3u·d))/h.
 */
function hermiteTable(): Float64Array {
  const h = 1 / STEPS_PER_UNIT;
  const table = new Float64Array(4 * CELLS);
  for (let i = 0; i < CELLS; i++) {
    const x0 = (i - OFFSET) * h;
    const x1 = x0 + h;
    const f0 = geluExact64(x0), f1 = geluExact64(x1), d0 = geluDerivative64(x0) * h, d1 = geluDerivative64(x1) * h;
    table[4 * i] = f0;
    table[4 * i + 1] = d0;
    table[4 * i + 2] = 3 * (f1 - f0) - 2 * d0 - d1;
    table[4 * i + 3] = 2 * (f0 - f1) + d0 + d1;
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
 * Math.floor), u = t − k (exact), and the cell's coefficients start at 4(k + 1024). Values off the
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
      const j = (k + OFFSET) << 2;
      y[i] = T[j] + u * (T[j + 1] + u * (T[j + 2] + u * T[j + 3]));
    } else {
      y[i] = geluExact64(v);
    }
  }
}

/**
 * y[i] = GELU(x[i]) and slope[i] = GELU'(x[i]) in one pass over one cell lookup, so that backward
 * is a plain product g·slope.
 */
export function geluForwardWithSlope(x: Float32Array, y: Float32Array, slope: Float32Array): void {
  const T = table();
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const t = v * STEPS_PER_UNIT;
    if (t >= -OFFSET && t < OFFSET) {
      const k = ((t + OFFSET) | 0) - OFFSET;
      const u = t - k;
      const j = (k + OFFSET) << 2;
      const b = T[j + 1], c = T[j + 2], d = T[j + 3];
      y[i] = T[j] + u * (b + u * (c + u * d));
      slope[i] = (b + u * (2 * c + 3 * u * d)) * STEPS_PER_UNIT;
    } else {
      y[i] = geluExact64(v);
      slope[i] = geluDerivative64(v);
    }
  }
}

/** GELU'(v) as p′ of the table (or the float64 formula off the grid). */
function slopeAt(T: Float64Array, v: number): number {
  const t = v * STEPS_PER_UNIT;
  if (!(t >= -OFFSET && t < OFFSET)) return geluDerivative64(v);
  const k = ((t + OFFSET) | 0) - OFFSET;
  const u = t - k;
  const j = (k + OFFSET) << 2;
  return (T[j + 1] + u * (2 * T[j + 2] + 3 * u * T[j + 3])) * STEPS_PER_UNIT;
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
