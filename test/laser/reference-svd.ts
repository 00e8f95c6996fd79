/**
 * An independent float64 SVD for tests: one-sided Jacobi (Hestenes) rotations on the columns until
 * they are mutually orthogonal. Slow (O(n³) per sweep) but simple and unrelated to LAPACK.
 */

export interface ReferenceSvd {
  /** m × k, columns = left singular vectors (k = min(m, n)), row-major. */
  u: Float64Array;
  /** k singular values, descending. */
  s: Float64Array;
  /** k × n, rows = right singular vectors, row-major. */
  vt: Float64Array;
}

/** SVD of the m × n row-major matrix `a` (any shape). */
export function jacobiSvd(a: ArrayLike<number>, m: number, n: number): ReferenceSvd {
  if (m < n) {
    // A = U S Vᵀ ⇔ Aᵀ = V S Uᵀ
    const at = new Float64Array(n * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) at[j * m + i] = a[i * n + j];
    const t = jacobiSvd(at, n, m);
    const k = m;
    // t.u is n × k (= V), t.vt is k × m (= Uᵀ)
    const u = new Float64Array(m * k);
    for (let i = 0; i < m; i++) for (let c = 0; c < k; c++) u[i * k + c] = t.vt[c * m + i];
    const vt = new Float64Array(k * n);
    for (let c = 0; c < k; c++) for (let j = 0; j < n; j++) vt[c * n + j] = t.u[j * k + c];
    return { u, s: t.s, vt };
  }
  // m ≥ n: orthogonalise the n columns of W = A (m × n), accumulating V (n × n).
  const w = Float64Array.from(a as ArrayLike<number>);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0, beta = 0, gamma = 0;
        for (let i = 0; i < m; i++) {
          const x = w[i * n + p], y = w[i * n + q];
          alpha += x * x; beta += y * y; gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        off = Math.max(off, Math.abs(gamma) / Math.sqrt(alpha * beta));
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let i = 0; i < m; i++) {
          const x = w[i * n + p], y = w[i * n + q];
          w[i * n + p] = c * x - s * y; w[i * n + q] = s * x + c * y;
        }
        for (let i = 0; i < n; i++) {
          const x = v[i * n + p], y = v[i * n + q];
          v[i * n + p] = c * x - s * y; v[i * n + q] = s * x + c * y;
        }
      }
    }
    if (off < 1e-15) break;
  }
  const norms = Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += w[i * n + j] ** 2;
    return Math.sqrt(s);
  });
  const order = norms.map((_, j) => j).sort((x, y) => norms[y] - norms[x]);
  const u = new Float64Array(m * n), s = new Float64Array(n), vt = new Float64Array(n * n);
  order.forEach((j, c) => {
    s[c] = norms[j];
    for (let i = 0; i < m; i++) u[i * n + c] = norms[j] > 0 ? w[i * n + j] / norms[j] : 0;
    for (let i = 0; i < n; i++) vt[c * n + i] = v[i * n + j];
  });
  return { u, s, vt };
}

/** Σ_{c in components} s_c u_c v_cᵀ as an m × n row-major matrix. */
export function sumOfComponents(svd: ReferenceSvd, m: number, n: number, components: Iterable<number>): Float64Array {
  const k = svd.s.length;
  const out = new Float64Array(m * n);
  for (const c of components) {
    for (let i = 0; i < m; i++) {
      const ui = svd.u[i * k + c] * svd.s[c];
      if (ui === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += ui * svd.vt[c * n + j];
    }
  }
  return out;
}

/** Best rank-r approximation from a reference SVD. */
export function referenceTruncation(a: ArrayLike<number>, m: number, n: number, r: number): Float64Array {
  return sumOfComponents(jacobiSvd(a, m, n), m, n, Array.from({ length: r }, (_, i) => i));
}
