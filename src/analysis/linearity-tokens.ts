/**
 * The linearity scores of a pair on the token side, for N ≤ d (e.g. 2048 tokens at d = 4096): the
 * least-squares fit of the targets on Xc only needs Xc's column space, which lives in the N-dim
 * token space. With the N × N Gram G = Xc·Xcᵀ = U Γ Uᵀ (one `syrk` and one N × N `syevd` instead of
 * the d × d one), the nonzero eigenvalues of XcᵀXc are the Γ_i and its eigenvectors are
 * v_i = Xcᵀu_i/√Γ_i, so the per-direction energies of the eigen path (`linearity-solve.ts`) are
 *
 *     e_i = ‖v_iᵀ XcᵀTc‖² = Γ_i · ‖u_iᵀ Tc‖²     (Tc = Dc or Yc,  Γ_i = ‖u_iᵀXc‖²),
 *
 * and the d − N other directions of XcᵀXc carry none (XcᵀTc lies in Xc's row space). The exact
 * score Σ_kept e_i/λ_i = ‖U_keptᵀ Tn‖² is the energy of Tn in Xc's column space — the minimum-norm
 * least squares of the authors' code (torch.linalg.lstsq / pinv of Xn) — with the same cutoff rule
 * (λ_i ≤ rcond·λ_max dropped, rcond = max(N, d)·ε); the ridge score is the same sum as there.
 * Inputs are the stored rows of X and Y (float64 after centring), as the reference reads them.
 */
import { backend } from '../backend/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { symmetrizeUpper } from './moments.ts';
import { columnMeans, copyShiftedRows, selectedCount, type RowSelection } from './rows.ts';

/**
 * The token side is used for N ≤ TOKEN_SIDE_MAX·d. Its cost is one N × N `syevd` plus ≈ 2.5·N²·d
 * multiply-adds (syrk and two GEMMs), against a d × d `syevd` plus d³ on the statistics (which are
 * singular for N ≤ d, so Cholesky cannot serve them); with `syevd` ≈ 5 GEMMs of its size (measured:
 * 14.3 s vs 2.8 s at d = 4096, bench/RESULTS-linearity.md) the two meet near N = 0.9·d.
 */
export const TOKEN_SIDE_MAX = 0.85;

/** Rows of one batch of a pair. */
export interface PairRows {
  x: Tensor;
  y: Tensor;
  rows?: RowSelection;
}

/** Xc and Yc (N × d, float64, columns centred) of a pair, gathered from its batches. */
export interface CentredRows {
  tokens: number;
  dim: number;
  xc: Float64Array;
  yc: Float64Array;
}

function centreColumns(a: Float64Array, n: number, d: number): void {
  const mean = columnMeans(a, n, d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) a[r * d + j] -= mean[j];
}

/** Gathers the selected rows of every batch of a pair into centred float64 Xc and Yc. */
export function centredRows(batches: Iterable<PairRows>, tokens: number, dim: number): CentredRows {
  const xc = new Float64Array(tokens * dim);
  const yc = new Float64Array(tokens * dim);
  let at = 0;
  for (const b of batches) {
    const n = selectedCount(b.x, b.rows);
    if (at + n > tokens) throw new Error(`linearity: the pair's batches hold more than its ${tokens} tokens`);
    copyShiftedRows(b.x.data, dim, b.rows, 0, n, null, xc.subarray(at * dim));
    copyShiftedRows(b.y.data, dim, b.rows, 0, n, null, yc.subarray(at * dim));
    at += n;
  }
  if (at !== tokens) throw new Error(`linearity: the pair's batches hold ${at} tokens, its statistics ${tokens}`);
  centreColumns(xc, tokens, dim);
  centreColumns(yc, tokens, dim);
  return { tokens, dim, xc, yc };
}

/** The token-side spectrum: eigenvalues λ_i of XnᵀXn (ascending, N of them) and both targets' energies. */
export interface TokenSpectrum {
  /** Eigenvalues of XcᵀXc / ‖Xc‖² on Xc's row space (ascending, length N). */
  w: Float64Array;
  /** e_i = ‖v_iᵀ XcᵀDc‖² for D = Y − X. */
  delta: Float64Array;
  /** e_i = ‖v_iᵀ XcᵀYc‖². */
  target: Float64Array;
  xx: number;
  dd: number;
  yy: number;
}

function sumSquares(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

/** One N × N eigendecomposition and two N × N × d GEMMs give both targets' energies. */
export function tokenSpectrum(c: CentredRows): TokenSpectrum {
  const { tokens: n, dim: d, xc, yc } = c;
  const be = backend();
  const xx = sumSquares(xc);
  const yy = sumSquares(yc);
  const gram = new Float64Array(n * n);
  be.syrkUpper(xc, n, d, false, gram);
  const { v: u } = be.syevd(symmetrizeUpper(gram, n), n, true);
  // UᵀXc and UᵀYc; UᵀDc = UᵀYc − UᵀXc (Dc = Yc − Xc: D is centred by its own mean, Y − X's)
  const px = new Float64Array(n * d);
  const py = new Float64Array(n * d);
  be.gemm({ transA: true, transB: false, m: n, n: d, k: n, alpha: 1, a: u!, lda: n, b: xc, ldb: d, beta: 0, c: px, ldc: d });
  be.gemm({ transA: true, transB: false, m: n, n: d, k: n, alpha: 1, a: u!, lda: n, b: yc, ldb: d, beta: 0, c: py, ldc: d });
  // Γ_i is taken as ‖u_iᵀXc‖² (one-sided), not syevd's eigenvalue: for the directions that are zero
  // in exact arithmetic (the centring direction, repeated rows such as repeated token embeddings)
  // it is ~ε² instead of ±ε·‖G‖, which the ridge score would divide by λ ≈ 1e-8/d and
  // turn into errors of ~1e-9 (measured on the llama fixture's embeddings); the d × d path's
  // energies, projections of XcᵀTc, have the same ε² floor.
  const gamma2 = new Float64Array(n);
  const ed = new Float64Array(n);
  const ey = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let g = 0;
    let sd = 0;
    let sy = 0;
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const t = py[o + j] - px[o + j];
      g += px[o + j] * px[o + j];
      sd += t * t;
      sy += py[o + j] * py[o + j];
    }
    gamma2[i] = g;
    ed[i] = sd;
    ey[i] = sy;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => gamma2[a] - gamma2[b]);
  const w = new Float64Array(n);
  const delta = new Float64Array(n);
  const target = new Float64Array(n);
  order.forEach((i, k) => {
    w[k] = gamma2[i] / xx;
    delta[k] = gamma2[i] * ed[i];
    target[k] = gamma2[i] * ey[i];
  });
  let dd = 0;
  for (let i = 0; i < xc.length; i++) {
    const t = yc[i] - xc[i];
    dd += t * t;
  }
  return { w, delta, target, xx, dd, yy };
}
