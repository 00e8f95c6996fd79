/**
 * Float64 reference arithmetic for checking decompositions by their defining identities
 * (reconstruction, orthogonality, eigen equations, normal equations) rather than by raw factors,
 * which are only unique up to signs and rotations within repeated values.
 */
import { Rng } from '../../src/tensor/random.ts';

export type Dtype = 'float32' | 'float64';
export type Floats = Float32Array | Float64Array;

/** m × n matrix of N(0, 1) entries from a seeded generator. */
export function randomMatrix(m: number, n: number, dtype: Dtype, seed: number): Floats {
  const rng = new Rng(seed);
  const a = dtype === 'float64' ? new Float64Array(m * n) : new Float32Array(m * n);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
}

/** C = op(A)·op(B) in float64, op(A) m × k, op(B) k × n; A, B stored row-major with leading dims. */
export function referenceProduct(
  a: ArrayLike<number>, lda: number, transA: boolean,
  b: ArrayLike<number>, ldb: number, transB: boolean,
  m: number, n: number, k: number,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const x = transA ? a[p * lda + i] : a[i * lda + p];
        const y = transB ? b[j * ldb + p] : b[p * ldb + j];
        s += x * y;
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Plain product of dense row-major matrices, float64: (m × k)·(k × n), in i-p-j order (rows of B stream). */
export function product(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  const b64 = b instanceof Float64Array ? b : Float64Array.from(b);
  for (let i = 0; i < m; i++) {
    const row = c.subarray(i * n, (i + 1) * n);
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      if (x === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) row[j] += x * b64[bp + j];
    }
  }
  return c;
}

/** Transpose of a dense r × c matrix, float64. */
export function transposed(a: ArrayLike<number>, r: number, c: number): Float64Array {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = a[i * c + j];
  return t;
}

export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`lengths differ: ${x.length} vs ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return m;
}

/** max |XᵀX − I| for the c columns of the r × c matrix X. */
export function columnOrthogonalityError(x: ArrayLike<number>, r: number, c: number): number {
  const g = product(transposed(x, r, c), x, c, r, c);
  for (let i = 0; i < c; i++) g[i * c + i] -= 1;
  return maxAbs(g);
}

/** max |XXᵀ − I| for the r rows of the r × c matrix X. */
export function rowOrthogonalityError(x: ArrayLike<number>, r: number, c: number): number {
  return columnOrthogonalityError(transposed(x, r, c), c, r);
}

/** U·diag(s)·Vᵀ for U m × k, Vᵀ k × n. */
export function svdProduct(u: ArrayLike<number>, s: ArrayLike<number>, vt: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const us = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) us[i * k + j] = u[i * k + j] * s[j];
  return product(us, vt, m, k, n);
}

export function isDescending(x: ArrayLike<number>): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] > x[i - 1]) return false;
  return true;
}

export function isAscending(x: ArrayLike<number>): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] < x[i - 1]) return false;
  return true;
}

/** A symmetric matrix (B + Bᵀ)/2 from a random B. */
export function randomSymmetric(n: number, dtype: Dtype, seed: number): Floats {
  const b = randomMatrix(n, n, dtype, seed);
  const out = dtype === 'float64' ? new Float64Array(n * n) : new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = (b[i * n + j] + b[j * n + i]) / 2;
  return out;
}

/** m × n matrix U·diag(σ)·Vᵀ with random orthonormal U, V (float64) and the given singular values. */
export function matrixWithSpectrum(m: number, n: number, sigma: ArrayLike<number>, seed: number): Float64Array {
  const k = sigma.length;
  const u = orthonormalColumns(m, k, seed);
  const v = orthonormalColumns(n, k, seed + 1);
  return svdProduct(u, sigma, transposed(v, n, k), m, k, n);
}

/** m × k random matrix with orthonormal columns (modified Gram–Schmidt twice, float64). */
export function orthonormalColumns(m: number, k: number, seed: number): Float64Array {
  const q = randomMatrix(m, k, 'float64', seed) as Float64Array;
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < k; j++) {
      for (let p = 0; p < j; p++) {
        let d = 0;
        for (let i = 0; i < m; i++) d += q[i * k + j] * q[i * k + p];
        for (let i = 0; i < m; i++) q[i * k + j] -= d * q[i * k + p];
      }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += q[i * k + j] ** 2;
      norm = Math.sqrt(norm);
      for (let i = 0; i < m; i++) q[i * k + j] /= norm;
    }
  }
  return q;
}

/** Unit roundoff-scale tolerance for a dtype: 1e-5 for float32 work, 1e-10 for float64. */
export function tolerance(dtype: Dtype): number {
  return dtype === 'float64' ? 1e-10 : 1e-5;
}
