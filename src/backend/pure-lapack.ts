/**
 * LAPACK-equivalent routines in plain TypeScript for the pure-ts backend. Everything is computed in
 * float64 and returned in the input's dtype. All matrices are row-major.
 *
 * - SVD: Householder bidiagonalisation, then the implicit-shift Golub–Kahan QR iteration on the
 *   bidiagonal (Golub & Van Loan, Algorithms 5.4.2 and 8.6.2), with zero-diagonal chasing.
 * - Symmetric eigen: Householder tridiagonalisation, then implicit Wilkinson-shift QR (GVL 8.3.1, 8.3.3).
 * - Least squares: Householder QR, Qᵀb, back substitution (like ?gels).
 * - Cholesky solve (like ?posv, upper triangle read; the factor and triangular solves of pure-cholesky.ts), null when A is not positive definite.
 * - Orthonormalize: Householder QR, then the thin Q formed explicitly (like ?geqrf + ?orgqr).
 * - LQ factor packed like ?gelqf, and its Q applied to a matrix from the right (like ?ormlq).
 *
 * Reflectors follow LAPACK's ?larfg convention (H = I − τ·v·vᵀ, v₀ = 1, β = −sign(α)·‖x‖), so Q
 * factors agree with the native backend up to rounding, not just up to column signs.
 *
 * Orthogonal factors that receive plane rotations are kept transposed (one vector per row) so every
 * rotation is a pass over two contiguous rows.
 */
import type { TypedArray } from '../tensor/tensor.ts';
import type { EighResult, SvdResult } from './backend.ts';
import { potrf, trsm } from './pure-cholesky.ts';

const EPS = 2 ** -52;

/** A float64 copy of `x`. */
function toF64(x: TypedArray): Float64Array {
  return Float64Array.from(x);
}

/** `x` in the dtype of `like` (no copy when that is already float64). */
function asDtype<T extends TypedArray>(like: T, x: Float64Array): T {
  return (like instanceof Float64Array ? x : Float32Array.from(x)) as T;
}

/**
 * Multiplies x in place by the power of two f that brings max |xᵢ| near 1, and returns f. Exact (no
 * rounding), and it keeps the rounding residue of very small or very large matrices out of the
 * subnormal/overflow range where reflectors break down (LAPACK's ?lascl step).
 */
function normalizeScale(x: Float64Array): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]));
  if (max === 0 || !Number.isFinite(max)) return 1;
  const f = 2 ** -Math.round(Math.log2(max));
  if (f === 1) return 1;
  for (let i = 0; i < x.length; i++) x[i] *= f;
  return f;
}

/** x ← x·f. */
function scaleBy(x: Float64Array, f: number): Float64Array {
  if (f !== 1) for (let i = 0; i < x.length; i++) x[i] *= f;
  return x;
}

// ---------------------------------------------------------------------------------------------------
// Householder reflectors

/**
 * Turns x = (x₀, x₁, …) — `len` entries of `a` from `off` with `stride` — into β·e₁ by H = I − τ·v·vᵀ.
 * Afterwards a[off] = β and the following entries hold v₁… (v₀ = 1 is implicit). Returns τ.
 */
function makeReflector(a: Float64Array, off: number, stride: number, len: number): number {
  if (len <= 1) return 0;
  const alpha = a[off];
  let scale = 0;
  for (let i = 1, p = off + stride; i < len; i++, p += stride) scale = Math.max(scale, Math.abs(a[p]));
  if (scale === 0) return 0;
  let ss = 0;
  for (let i = 1, p = off + stride; i < len; i++, p += stride) {
    const t = a[p] / scale;
    ss += t * t;
  }
  const xnorm = scale * Math.sqrt(ss);
  const beta = -(alpha >= 0 ? 1 : -1) * Math.hypot(alpha, xnorm);
  const tau = (beta - alpha) / beta;
  const f = 1 / (alpha - beta);
  for (let i = 1, p = off + stride; i < len; i++, p += stride) a[p] *= f;
  a[off] = beta;
  return tau;
}

/** Copies the reflector vector (v₀ = 1 then the stored tail) into `v[0..len)`. */
function readReflector(a: Float64Array, off: number, stride: number, len: number, v: Float64Array): void {
  v[0] = 1;
  for (let i = 1, p = off + stride; i < len; i++, p += stride) v[i] = a[p];
}

/**
 * M[r0.., c0..c1) ← H·M for H = I − τ·v·vᵀ acting on rows r0 … r0+len−1 (row-major, leading dim ld):
 * w = Mᵀv, then M −= τ·v·wᵀ, both passes taking four rows at a time.
 */
function applyLeft(
  mat: Float64Array, ld: number, r0: number, len: number, c0: number, c1: number,
  v: Float64Array, tau: number, w: Float64Array,
): void {
  if (tau === 0 || c1 <= c0) return;
  w.fill(0, c0, c1);
  let i = 0;
  for (; i + 3 < len; i += 4) {
    const a = (r0 + i) * ld, b = a + ld, c = b + ld, d = c + ld;
    const va = v[i], vb = v[i + 1], vc = v[i + 2], vd = v[i + 3];
    for (let j = c0; j < c1; j++) w[j] += va * mat[a + j] + vb * mat[b + j] + vc * mat[c + j] + vd * mat[d + j];
  }
  for (; i < len; i++) {
    const vi = v[i];
    const row = (r0 + i) * ld;
    for (let j = c0; j < c1; j++) w[j] += vi * mat[row + j];
  }
  for (let j = c0; j < c1; j++) w[j] *= tau;
  for (i = 0; i < len; i++) {
    const f = v[i];
    if (f === 0) continue;
    const row = (r0 + i) * ld;
    for (let j = c0; j < c1; j++) mat[row + j] -= f * w[j];
  }
}

/**
 * M[r0..r1, c0..] ← M·H for H = I − τ·v·vᵀ acting on columns c0 … c0+len−1: each row gets
 * −τ·(row·v)·vᵀ. Four rows at a time, so the dot products run as four independent sums.
 */
function applyRight(
  mat: Float64Array, ld: number, r0: number, r1: number, c0: number, len: number,
  v: Float64Array, tau: number,
): void {
  if (tau === 0) return;
  let i = r0;
  for (; i + 3 < r1; i += 4) {
    const a = i * ld + c0, b = a + ld, c = b + ld, d = c + ld;
    let sa = 0, sb = 0, sc = 0, sd = 0;
    for (let j = 0; j < len; j++) {
      const vj = v[j];
      sa += mat[a + j] * vj;
      sb += mat[b + j] * vj;
      sc += mat[c + j] * vj;
      sd += mat[d + j] * vj;
    }
    sa *= tau;
    sb *= tau;
    sc *= tau;
    sd *= tau;
    for (let j = 0; j < len; j++) {
      const vj = v[j];
      mat[a + j] -= sa * vj;
      mat[b + j] -= sb * vj;
      mat[c + j] -= sc * vj;
      mat[d + j] -= sd * vj;
    }
  }
  for (; i < r1; i++) {
    const row = i * ld + c0;
    let dot = 0;
    for (let j = 0; j < len; j++) dot += mat[row + j] * v[j];
    const f = tau * dot;
    for (let j = 0; j < len; j++) mat[row + j] -= f * v[j];
  }
}

/** Rows i and j of `mat` ← (c·rᵢ + s·rⱼ, c·rⱼ − s·rᵢ). */
function rotateRows(mat: Float64Array, ld: number, i: number, j: number, c: number, s: number): void {
  const oi = i * ld;
  const oj = j * ld;
  for (let t = 0; t < ld; t++) {
    const x = mat[oi + t];
    const y = mat[oj + t];
    mat[oi + t] = c * x + s * y;
    mat[oj + t] = c * y - s * x;
  }
}

/**
 * Applies the rotations k = lo … hi−1 in order, rotation k acting on rows k, k+1 like `rotateRows`
 * with (c[k], s[k]). Eight columns at a time, the running row held in registers (LAPACK ?lasr's
 * scheme), so each element is read and written once per sweep.
 */
function rotateRowSequence(mat: Float64Array, ld: number, lo: number, hi: number, c: Float64Array, s: Float64Array): void {
  let t0 = 0;
  for (; t0 + 8 <= ld; t0 += 8) {
    let p = lo * ld + t0;
    let x0 = mat[p], x1 = mat[p + 1], x2 = mat[p + 2], x3 = mat[p + 3];
    let x4 = mat[p + 4], x5 = mat[p + 5], x6 = mat[p + 6], x7 = mat[p + 7];
    for (let k = lo; k < hi; k++) {
      const ck = c[k];
      const sk = s[k];
      const q = p + ld;
      let y = mat[q];
      mat[p] = ck * x0 + sk * y;
      x0 = ck * y - sk * x0;
      y = mat[q + 1];
      mat[p + 1] = ck * x1 + sk * y;
      x1 = ck * y - sk * x1;
      y = mat[q + 2];
      mat[p + 2] = ck * x2 + sk * y;
      x2 = ck * y - sk * x2;
      y = mat[q + 3];
      mat[p + 3] = ck * x3 + sk * y;
      x3 = ck * y - sk * x3;
      y = mat[q + 4];
      mat[p + 4] = ck * x4 + sk * y;
      x4 = ck * y - sk * x4;
      y = mat[q + 5];
      mat[p + 5] = ck * x5 + sk * y;
      x5 = ck * y - sk * x5;
      y = mat[q + 6];
      mat[p + 6] = ck * x6 + sk * y;
      x6 = ck * y - sk * x6;
      y = mat[q + 7];
      mat[p + 7] = ck * x7 + sk * y;
      x7 = ck * y - sk * x7;
      p = q;
    }
    mat[p] = x0;
    mat[p + 1] = x1;
    mat[p + 2] = x2;
    mat[p + 3] = x3;
    mat[p + 4] = x4;
    mat[p + 5] = x5;
    mat[p + 6] = x6;
    mat[p + 7] = x7;
  }
  for (; t0 < ld; t0++) {
    let p = lo * ld + t0;
    let x = mat[p];
    for (let k = lo; k < hi; k++) {
      const q = p + ld;
      const y = mat[q];
      mat[p] = c[k] * x + s[k] * y;
      x = c[k] * y - s[k] * x;
      p = q;
    }
    mat[p] = x;
  }
}

/** Where a QR sweep records its rotations for a deferred `rotateRowSequence`. */
interface RotationLog {
  c: Float64Array;
  s: Float64Array;
}

function rotationLog(n: number): RotationLog {
  return { c: new Float64Array(n), s: new Float64Array(n) };
}

/**
 * Householder QR in place on the m × n matrix `a` (m ≥ n): R in the upper triangle, reflector tails
 * below the diagonal; returns the τ's. When `b` (m × nrhs) is given, Qᵀ is applied to it as well.
 */
function householderQr(a: Float64Array, m: number, n: number, b?: Float64Array, nrhs = 0): Float64Array {
  const tau = new Float64Array(n);
  const v = new Float64Array(m);
  const w = new Float64Array(Math.max(n, nrhs));
  for (let k = 0; k < n; k++) {
    const len = m - k;
    tau[k] = makeReflector(a, k * n + k, n, len);
    if (tau[k] === 0) continue;
    readReflector(a, k * n + k, n, len, v);
    applyLeft(a, n, k, len, k + 1, n, v, tau[k], w);
    if (b) applyLeft(b, nrhs, k, len, 0, nrhs, v, tau[k], w);
  }
  return tau;
}

/**
 * Householder LQ in place on the m × n matrix `a` (m ≤ n): L in the lower triangle, the tail of
 * reflector i right of the diagonal in row i (A·H₀·…·H_{m−1} = L); returns the τ's.
 */
function householderLq(a: Float64Array, m: number, n: number): Float64Array {
  const tau = new Float64Array(m);
  const v = new Float64Array(n);
  for (let k = 0; k < m; k++) {
    const len = n - k;
    tau[k] = makeReflector(a, k * n + k, 1, len);
    if (tau[k] === 0) continue;
    readReflector(a, k * n + k, 1, len, v);
    applyRight(a, n, k + 1, m, k, len, v, tau[k]);
  }
  return tau;
}

/** The thin Q (m × n) = H₀·H₁·…·H_{n−1}·[I; 0] from reflectors stored below the diagonal of `a`. */
function formQ(a: Float64Array, m: number, n: number, tau: Float64Array): Float64Array {
  const q = new Float64Array(m * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const v = new Float64Array(m);
  const w = new Float64Array(n);
  for (let k = n - 1; k >= 0; k--) {
    if (tau[k] === 0) continue;
    readReflector(a, k * n + k, n, m - k, v);
    applyLeft(q, n, k, m - k, k, n, v, tau[k], w);
  }
  return q;
}

/** Transpose of the r × c row-major matrix `x`. */
function transpose(x: Float64Array, r: number, c: number): Float64Array {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = x[i * c + j];
  return t;
}

// ---------------------------------------------------------------------------------------------------
// SVD

/**
 * Upper-bidiagonal SVD by implicit-shift QR: on return d holds the (signed, unsorted) singular
 * values and e is zero. Left rotations are applied to the rows of `ut` (n × ldu), right rotations to
 * the rows of `vt` (n × ldv); either may be null for values only.
 */
function bidiagonalQr(
  d: Float64Array, e: Float64Array, n: number,
  ut: Float64Array | null, ldu: number, vt: Float64Array | null, ldv: number,
): void {
  // work on B / ‖B‖ so that the squares in the shift can neither overflow nor lose everything to underflow
  const anorm = unitScale(d, e, n);
  if (anorm === 0) return;
  const small = EPS;
  const negligibleE = (i: number) =>
    Math.abs(e[i]) <= EPS * (Math.abs(d[i]) + Math.abs(d[i + 1])) || Math.abs(e[i]) <= small;
  const maxSweeps = 60 * n;
  const left = ut ? rotationLog(n) : null;
  const right = vt ? rotationLog(n) : null;
  let sweeps = 0;
  let hi = n - 1;
  while (hi > 0) {
    if (negligibleE(hi - 1)) {
      e[hi - 1] = 0;
      hi--;
      continue;
    }
    let lo = hi - 1;
    while (lo > 0 && !negligibleE(lo - 1)) lo--;
    if (lo > 0) e[lo - 1] = 0;

    let zero = -1;
    for (let k = lo; k <= hi; k++) {
      if (Math.abs(d[k]) <= small) {
        zero = k;
        break;
      }
    }
    if (zero >= 0) {
      d[zero] = 0;
      if (zero < hi) chaseRow(d, e, zero, hi, ut, ldu);
      else chaseColumn(d, e, lo, hi, vt, ldv);
      continue;
    }
    if (++sweeps > maxSweeps) throw new Error(`pure-ts svd: the bidiagonal QR did not converge after ${maxSweeps} sweeps`);
    golubKahanStep(d, e, lo, hi, left, right);
    if (ut) rotateRowSequence(ut, ldu, lo, hi, left!.c, left!.s);
    if (vt) rotateRowSequence(vt, ldv, lo, hi, right!.c, right!.s);
  }
  for (let i = 0; i < n; i++) d[i] *= anorm;
}

/** Divides d and e by max_i |d_i| + |e_i| (returned; 0 for a zero matrix, which is left alone). */
function unitScale(d: Float64Array, e: Float64Array, n: number): number {
  let anorm = 0;
  for (let i = 0; i < n; i++) anorm = Math.max(anorm, Math.abs(d[i]) + (i < n - 1 ? Math.abs(e[i]) : 0));
  if (anorm === 0 || !Number.isFinite(anorm)) return anorm === 0 ? 0 : 1;
  for (let i = 0; i < n; i++) d[i] /= anorm;
  for (let i = 0; i < n - 1; i++) e[i] /= anorm;
  return anorm;
}

/**
 * One implicit QR sweep with a Wilkinson shift on the unreduced block lo..hi (GVL Algorithm 8.6.1).
 * Rotation k of each side is recorded in the logs (when given) for a deferred application.
 */
function golubKahanStep(
  d: Float64Array, e: Float64Array, lo: number, hi: number, left: RotationLog | null, right: RotationLog | null,
): void {
  // shift: eigenvalue of the trailing 2 × 2 of BᵀB closer to its last diagonal entry
  const fPrev = hi - 1 > lo ? e[hi - 2] : 0;
  const t11 = d[hi - 1] * d[hi - 1] + fPrev * fPrev;
  const t12 = d[hi - 1] * e[hi - 1];
  const t22 = d[hi] * d[hi] + e[hi - 1] * e[hi - 1];
  const delta = (t11 - t22) / 2;
  const mu = t12 === 0 ? t22 : t22 - (t12 * t12) / (delta + (delta >= 0 ? 1 : -1) * Math.hypot(delta, t12));

  let y = d[lo] * d[lo] - mu;
  let z = d[lo] * e[lo];
  for (let k = lo; k < hi; k++) {
    // right rotation on columns k, k+1: zero z against y
    let r = Math.hypot(y, z);
    let c = r === 0 ? 1 : y / r;
    let s = r === 0 ? 0 : z / r;
    if (k > lo) e[k - 1] = r;
    const dk = d[k];
    d[k] = c * dk + s * e[k];
    e[k] = c * e[k] - s * dk;
    let bulge = s * d[k + 1];
    d[k + 1] *= c;
    if (right) {
      right.c[k] = c;
      right.s[k] = s;
    }

    // left rotation on rows k, k+1: zero the bulge below the diagonal
    y = d[k];
    r = Math.hypot(y, bulge);
    c = r === 0 ? 1 : y / r;
    s = r === 0 ? 0 : bulge / r;
    d[k] = r;
    const ek = e[k];
    e[k] = c * ek + s * d[k + 1];
    d[k + 1] = c * d[k + 1] - s * ek;
    if (k + 1 < hi) {
      bulge = s * e[k + 1];
      e[k + 1] *= c;
    }
    if (left) {
      left.c[k] = c;
      left.s[k] = s;
    }
    y = e[k];
    z = bulge;
  }
}

/** d[k] = 0 with k < hi: rotate row k against rows k+1..hi (from the left) until e[k]'s fill leaves the block. */
function chaseRow(d: Float64Array, e: Float64Array, k: number, hi: number, ut: Float64Array | null, ldu: number): void {
  let f = e[k];
  e[k] = 0;
  for (let j = k + 1; j <= hi && f !== 0; j++) {
    const r = Math.hypot(d[j], f);
    const c = d[j] / r;
    const s = f / r;
    d[j] = r;
    if (j < hi) {
      f = -s * e[j];
      e[j] *= c;
    }
    if (ut) rotateRows(ut, ldu, j, k, c, s);
  }
}

/** d[hi] = 0: rotate column hi against columns hi−1..lo (from the right) until e[hi−1]'s fill leaves the block. */
function chaseColumn(d: Float64Array, e: Float64Array, lo: number, hi: number, vt: Float64Array | null, ldv: number): void {
  let f = e[hi - 1];
  e[hi - 1] = 0;
  for (let j = hi - 1; j >= lo && f !== 0; j--) {
    const r = Math.hypot(d[j], f);
    const c = d[j] / r;
    const s = f / r;
    d[j] = r;
    if (j > lo) {
      f = -s * e[j - 1];
      e[j - 1] *= c;
    }
    if (vt) rotateRows(vt, ldv, j, hi, c, s);
  }
}

/**
 * SVD of the m × n (m ≥ n) float64 matrix `a` (overwritten). Returns singular values descending,
 * and when asked Uᵀ (n × m) and Vᵀ (n × n).
 */
function svdTall(a: Float64Array, m: number, n: number, vectors: boolean): { s: Float64Array; ut?: Float64Array; vt?: Float64Array } {
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const tauQ = new Float64Array(n);
  const tauP = new Float64Array(n);
  const v = new Float64Array(m);
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const lenCol = m - k;
    tauQ[k] = makeReflector(a, k * n + k, n, lenCol);
    d[k] = a[k * n + k];
    if (tauQ[k] !== 0) {
      readReflector(a, k * n + k, n, lenCol, v);
      applyLeft(a, n, k, lenCol, k + 1, n, v, tauQ[k], w);
    }
    if (k < n - 1) {
      const lenRow = n - k - 1;
      tauP[k] = makeReflector(a, k * n + k + 1, 1, lenRow);
      e[k] = a[k * n + k + 1];
      if (tauP[k] !== 0) {
        readReflector(a, k * n + k + 1, 1, lenRow, v);
        applyRight(a, n, k + 1, m, k + 1, lenRow, v, tauP[k]);
      }
    }
  }

  let ut: Float64Array | null = null;
  let vt: Float64Array | null = null;
  if (vectors) {
    // Uᵀ = H_{n−1}…H₀ restricted to n rows: accumulate backwards from [I 0] by right products
    ut = new Float64Array(n * m);
    for (let i = 0; i < n; i++) ut[i * m + i] = 1;
    for (let k = n - 1; k >= 0; k--) {
      if (tauQ[k] === 0) continue;
      readReflector(a, k * n + k, n, m - k, v);
      applyRight(ut, m, k, n, k, m - k, v, tauQ[k]);
    }
    // Vᵀ = G_{n−2}…G₀, G_k acting on indices k+1..n−1
    vt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) vt[i * n + i] = 1;
    for (let k = n - 2; k >= 0; k--) {
      if (tauP[k] === 0) continue;
      readReflector(a, k * n + k + 1, 1, n - k - 1, v);
      applyRight(vt, n, k + 1, n, k + 1, n - k - 1, v, tauP[k]);
    }
  }

  bidiagonalQr(d, e, n, ut, m, vt, n);

  // make the values non-negative (flip the matching right vector), then sort descending
  for (let i = 0; i < n; i++) {
    if (d[i] < 0) {
      d[i] = -d[i];
      if (vt) for (let j = 0; j < n; j++) vt[i * n + j] = -vt[i * n + j];
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y] - d[x] || x - y);
  const s = Float64Array.from(order, (i) => d[i]);
  if (!vectors) return { s };
  return { s, ut: permuteRows(ut!, m, order), vt: permuteRows(vt!, n, order) };
}

function permuteRows(x: Float64Array, ld: number, order: number[]): Float64Array {
  const out = new Float64Array(order.length * ld);
  order.forEach((src, dst) => out.set(x.subarray(src * ld, (src + 1) * ld), dst * ld));
  return out;
}

/**
 * Thin SVD of the m × n row-major matrix `a`: s descending (length k = min(m, n)); with `vectors`,
 * U (m × k) and Vᵀ (k × n). `a` is not modified.
 */
export function svd<T extends TypedArray>(a: T, m: number, n: number, vectors: boolean): SvdResult<T> {
  if (a.length < m * n) throw new Error(`pure-ts svd: array of ${a.length} elements is too small for ${m} × ${n}`);
  const x = toF64(a.subarray(0, m * n));
  const f = normalizeScale(x);
  if (m >= n) {
    const r = svdTall(x, m, n, vectors);
    const s = asDtype(a, scaleBy(r.s, 1 / f));
    if (!vectors) return { s };
    return { s, u: asDtype(a, transpose(r.ut!, n, m)), vt: asDtype(a, r.vt!) };
  }
  // A = U S Vᵀ ⇔ Aᵀ = V S Uᵀ: decompose Aᵀ (n × m, tall)
  const r = svdTall(transpose(x, m, n), n, m, vectors);
  scaleBy(r.s, 1 / f);
  if (!vectors) return { s: asDtype(a, r.s) };
  // r.ut = (V_A)ᵀ… of Aᵀ: its Uᵀ (m × n) is V_Aᵀ; its Vᵀ (m × m) is U_Aᵀ
  return { s: asDtype(a, r.s), u: asDtype(a, transpose(r.vt!, m, m)), vt: asDtype(a, r.ut!) };
}

// ---------------------------------------------------------------------------------------------------
// Symmetric eigendecomposition

/**
 * Implicit symmetric QR with Wilkinson shifts on the tridiagonal (diag, off); on return diag holds
 * the eigenvalues (unsorted). Rotations are applied to the rows of `qt` (n × n) when given.
 */
function tridiagonalQr(diag: Float64Array, off: Float64Array, n: number, qt: Float64Array | null): void {
  const anorm = unitScale(diag, off, n);
  if (anorm === 0) return;
  const small = EPS;
  const negligible = (i: number) =>
    Math.abs(off[i]) <= EPS * (Math.abs(diag[i]) + Math.abs(diag[i + 1])) || Math.abs(off[i]) <= small;
  const maxSweeps = 60 * n;
  const log = qt ? rotationLog(n) : null;
  let sweeps = 0;
  let hi = n - 1;
  while (hi > 0) {
    if (negligible(hi - 1)) {
      off[hi - 1] = 0;
      hi--;
      continue;
    }
    let lo = hi - 1;
    while (lo > 0 && !negligible(lo - 1)) lo--;
    if (lo > 0) off[lo - 1] = 0;
    if (++sweeps > maxSweeps) throw new Error(`pure-ts eigh: the tridiagonal QR did not converge after ${maxSweeps} sweeps`);

    const delta = (diag[hi - 1] - diag[hi]) / 2;
    const b = off[hi - 1];
    const mu = diag[hi] - (b * b) / (delta + (delta >= 0 ? 1 : -1) * Math.hypot(delta, b));
    let x = diag[lo] - mu;
    let z = off[lo];
    for (let k = lo; k < hi; k++) {
      const r = Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : z / r;
      if (k > lo) off[k - 1] = r;
      const ak = diag[k];
      const ak1 = diag[k + 1];
      const bk = off[k];
      diag[k] = c * c * ak + 2 * c * s * bk + s * s * ak1;
      diag[k + 1] = s * s * ak - 2 * c * s * bk + c * c * ak1;
      off[k] = c * s * (ak1 - ak) + (c * c - s * s) * bk;
      if (k + 1 < hi) {
        z = s * off[k + 1];
        off[k + 1] *= c;
      }
      x = off[k];
      if (log) {
        log.c[k] = c;
        log.s[k] = s;
      }
    }
    if (qt) rotateRowSequence(qt, n, lo, hi, log!.c, log!.s);
  }
  for (let i = 0; i < n; i++) diag[i] *= anorm;
}

/**
 * Eigendecomposition of the symmetric n × n matrix `a` (upper triangle read): eigenvalues ascending,
 * and with `vectors` the eigenvectors as the columns of an n × n row-major matrix. `a` is not modified.
 */
export function eigh<T extends TypedArray>(a: T, n: number, vectors: boolean): EighResult<T> {
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const x = a[i * n + j];
      s[i * n + j] = x;
      s[j * n + i] = x;
    }
  }
  const f = normalizeScale(s);
  const diag = new Float64Array(n);
  const off = new Float64Array(Math.max(n - 1, 0));
  const tau = new Float64Array(Math.max(n - 2, 0));
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  // Householder tridiagonalisation: Qᵀ·A·Q = T, H_k acting on indices k+1..n−1
  for (let k = 0; k < n - 2; k++) {
    diag[k] = s[k * n + k];
    const len = n - k - 1;
    const t = makeReflector(s, (k + 1) * n + k, n, len);
    tau[k] = t;
    off[k] = s[(k + 1) * n + k];
    if (t === 0) continue;
    readReflector(s, (k + 1) * n + k, n, len, v);
    // p = τ·S·v, w = p − (τ/2)(pᵀv)·v, S ← S − v·wᵀ − w·vᵀ on the trailing block
    const base = k + 1;
    let pv = 0;
    for (let i = 0; i < len; i++) {
      const row = (base + i) * n + base;
      let dot = 0;
      for (let j = 0; j < len; j++) dot += s[row + j] * v[j];
      p[i] = t * dot;
      pv += p[i] * v[i];
    }
    const kk = (t / 2) * pv;
    for (let i = 0; i < len; i++) p[i] -= kk * v[i];
    for (let i = 0; i < len; i++) {
      const row = (base + i) * n + base;
      const vi = v[i];
      const wi = p[i];
      for (let j = 0; j < len; j++) s[row + j] -= vi * p[j] + wi * v[j];
    }
  }
  if (n >= 2) {
    diag[n - 2] = s[(n - 2) * n + n - 2];
    off[n - 2] = s[(n - 1) * n + n - 2];
  }
  if (n >= 1) diag[n - 1] = s[(n - 1) * n + n - 1];

  let qt: Float64Array | null = null;
  if (vectors) {
    // Qᵀ = H_{n−3}…H₀: backwards, right products on rows k+1..n−1
    qt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) qt[i * n + i] = 1;
    for (let k = n - 3; k >= 0; k--) {
      if (tau[k] === 0) continue;
      readReflector(s, (k + 1) * n + k, n, n - k - 1, v);
      applyRight(qt, n, k + 1, n, k + 1, n - k - 1, v, tau[k]);
    }
  }

  tridiagonalQr(diag, off, n, qt);

  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => diag[x] - diag[y] || x - y);
  const w = Float64Array.from(order, (i) => diag[i] / f);
  if (!vectors) return { w: asDtype(a, w) };
  const vecs = new Float64Array(n * n);
  order.forEach((src, col) => {
    for (let i = 0; i < n; i++) vecs[i * n + col] = qt![src * n + i];
  });
  return { w: asDtype(a, w), v: asDtype(a, vecs) };
}

// ---------------------------------------------------------------------------------------------------
// Least squares, Cholesky, orthonormal basis

/**
 * X minimising ‖A·X − B‖_F for A m × n (m ≥ n, full rank) and B m × nrhs, by Householder QR.
 * Returns X (n × nrhs). Inputs are not modified.
 */
export function leastSquares<T extends TypedArray>(a: T, m: number, n: number, b: T, nrhs: number): T {
  if (m < n) throw new Error(`gels: needs at least as many rows as columns (got ${m} × ${n})`);
  const r = toF64(a.subarray(0, m * n));
  const qtb = toF64(b.subarray(0, m * nrhs));
  const fa = normalizeScale(r);
  const fb = normalizeScale(qtb);
  householderQr(r, m, n, qtb, nrhs);
  // back substitution R·X = (QᵀB)[0..n)
  const x = qtb.slice(0, n * nrhs);
  for (let i = n - 1; i >= 0; i--) {
    const rii = r[i * n + i];
    if (rii === 0) throw new Error(`gels: the matrix is rank deficient (diagonal element ${i + 1} of R is zero)`);
    const xi = i * nrhs;
    for (let j = i + 1; j < n; j++) {
      const rij = r[i * n + j];
      if (rij === 0) continue;
      const xj = j * nrhs;
      for (let c = 0; c < nrhs; c++) x[xi + c] -= rij * x[xj + c];
    }
    for (let c = 0; c < nrhs; c++) x[xi + c] /= rii;
  }
  return asDtype(a, scaleBy(x, fa / fb));
}

/**
 * Solves A·X = B for symmetric positive definite A (n × n, upper triangle read) by Cholesky
 * (pure-cholesky.ts: A = L·Lᵀ with L = Uᵀ, then L·Y = B and Lᵀ·X = Y); B is n × nrhs. Returns X,
 * or null when A is not positive definite. Inputs are not modified.
 */
export function choleskySolve<T extends TypedArray>(a: T, n: number, b: T, nrhs: number): T | null {
  // potrf reads the lower triangle: mirror the upper one into it
  const lower = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) lower[i * n + j] = a[j * n + i];
  const l = potrf(lower, n);
  if (!l) return null;
  const x = toF64(b.subarray(0, n * nrhs));
  trsm(l, n, x, nrhs, false);
  trsm(l, n, x, nrhs, true);
  return asDtype(a, x);
}

/** Orthonormal basis Q (m × n, m ≥ n) of the columns of the m × n matrix `a` by Householder QR. */
export function orthonormalize<T extends TypedArray>(a: T, m: number, n: number): T {
  if (m < n) throw new Error(`orthonormalize: needs at least as many rows as columns (got ${m} × ${n})`);
  const r = toF64(a.subarray(0, m * n));
  normalizeScale(r);
  const tau = householderQr(r, m, n);
  return asDtype(a, formQ(r, m, n, tau));
}

/** Householder LQ of the m × n matrix `a` (m ≤ n), packed like ?gelqf (see Backend.gelqf). */
export function lqFactor(a: Float64Array, m: number, n: number): { lq: Float64Array; tau: Float64Array } {
  if (m > n) throw new Error(`gelqf: needs at most as many rows as columns (got ${m} × ${n})`);
  const lq = toF64(a.subarray(0, m * n));
  const f = normalizeScale(lq);
  const tau = householderLq(lq, m, n);
  if (f !== 1) for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) lq[i * n + j] /= f;
  return { lq, tau };
}

/** C ← C·Q in place, Q = H_{m−1}·…·H₀ from `lqFactor` of an m × n matrix, C rows × n. */
export function applyLqQ(lq: Float64Array, tau: Float64Array, m: number, n: number, c: Float64Array, rows: number): void {
  if (c.length < rows * n) throw new Error(`ormlq: C has ${c.length} values, needs ${rows} × ${n}`);
  const v = new Float64Array(n);
  for (let k = m - 1; k >= 0; k--) {
    if (tau[k] === 0) continue;
    readReflector(lq, k * n + k, 1, n - k, v);
    applyRight(c, n, 0, rows, k, n - k, v, tau[k]);
  }
}
