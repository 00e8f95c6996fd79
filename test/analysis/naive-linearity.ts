/**
 * An independent, deliberately naive float64 linearity score for tests: plain loops, explicit
 * centring and normalisation, the pseudo-inverse from a one-sided Jacobi SVD (no LAPACK, no normal
 * equations), and the explicit residual ‖Xn A − Tn‖².
 */

export type Matrix = number[][];

export function fromFlat(data: ArrayLike<number>, n: number, d: number): Matrix {
  return Array.from({ length: n }, (_, r) => Array.from({ length: d }, (_, j) => data[r * d + j]));
}

/** Centre each column, then divide by the Frobenius norm (the paper's normalisation). */
export function centreNormalise(m: Matrix): Matrix {
  const n = m.length;
  const d = m[0].length;
  const mean = new Array(d).fill(0);
  for (const row of m) row.forEach((v, j) => (mean[j] += v / n));
  const c = m.map((row) => row.map((v, j) => v - mean[j]));
  let norm2 = 0;
  for (const row of c) for (const v of row) norm2 += v * v;
  const norm = Math.sqrt(norm2);
  return c.map((row) => row.map((v) => v / norm));
}

/** One-sided Jacobi SVD of an n × d matrix: returns columns of U·Σ (as W, n × d) and V (d × d). */
function jacobiSvd(a: Matrix): { w: Matrix; v: Matrix } {
  const n = a.length;
  const d = a[0].length;
  const w = a.map((row) => row.slice());
  const v: Matrix = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let r = 0; r < n; r++) {
          alpha += w[r][p] * w[r][p];
          beta += w[r][q] * w[r][q];
          gamma += w[r][p] * w[r][q];
        }
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let r = 0; r < n; r++) {
          const x = w[r][p];
          const y = w[r][q];
          w[r][p] = c * x - s * y;
          w[r][q] = s * x + c * y;
        }
        for (let r = 0; r < d; r++) {
          const x = v[r][p];
          const y = v[r][q];
          v[r][p] = c * x - s * y;
          v[r][q] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  return { w, v };
}

/**
 * 1 − ‖Xn A − Tn‖² with A = Xn⁺ Tn; target T = Y, or Y − X for the variant without residual.
 * Also returns each token's residual.
 */
export function naiveLinearity(x: Matrix, y: Matrix, withoutResidual = false, cutoff = 1e-9): { score: number; perToken: number[]; map: Matrix } {
  const n = x.length;
  const d = x[0].length;
  const xn = centreNormalise(x);
  const tn = centreNormalise(withoutResidual ? y.map((row, r) => row.map((v, j) => v - x[r][j])) : y);
  const { w, v } = jacobiSvd(xn);
  const sigma = Array.from({ length: d }, (_, k) => Math.sqrt(w.reduce((s, row) => s + row[k] * row[k], 0)));
  const smax = Math.max(...sigma);
  // A = V Σ⁺ Uᵀ T, with U_k = W_k / σ_k, so Σ⁺ Uᵀ = W_kᵀ / σ_k².
  const inner: Matrix = Array.from({ length: d }, (_, k) => {
    const keep = sigma[k] > cutoff * smax;
    return Array.from({ length: d }, (_, j) => {
      if (!keep) return 0;
      let s = 0;
      for (let r = 0; r < n; r++) s += w[r][k] * tn[r][j];
      return s / (sigma[k] * sigma[k]);
    });
  });
  const map: Matrix = Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += v[i][k] * inner[k][j];
      return s;
    }),
  );
  const perToken = xn.map((row, r) => {
    let res = 0;
    for (let j = 0; j < d; j++) {
      let p = 0;
      for (let k = 0; k < d; k++) p += row[k] * map[k][j];
      res += (p - tn[r][j]) ** 2;
    }
    return res;
  });
  const residual = perToken.reduce((a, b) => a + b, 0);
  return { score: 1 - residual, perToken, map };
}
