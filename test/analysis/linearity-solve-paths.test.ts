/**
 * The three ways a pair is solved give the paper's score (and linscope's ridge score) as independent
 * float64 references compute them: certified Cholesky factors (N > d, well conditioned), the token
 * side (N ≤ d, from the stored rows), and the eigendecomposition they fall back to (rank-deficient
 * or ill-conditioned X). References: the naive Jacobi-SVD pseudo-inverse (naive-linearity.ts) and a
 * ridge solve by Gauss–Jordan elimination with the explicit residual, both written here with plain loops.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinearityAccumulator } from '../../src/analysis/linearity-accumulator.ts';
import { LinearityPairAccumulator } from '../../src/analysis/linearity-pair.ts';
import { DEFAULT_RIDGE, factorNormalMatrix, solvePairLinearity } from '../../src/analysis/linearity-solve.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { correlatedPair } from './fixtures.ts';
import { centreNormalise, fromFlat, naiveLinearity, type Matrix } from './naive-linearity.ts';

const variants = ['withResidual', 'withoutResidual'] as const;
const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (|Δ| = ${Math.abs(actual - expected)})`);

/** 1 − ‖Xn A − Tn‖² with A = (XnᵀXn + λI)⁻¹XnᵀTn, λ = ridge·tr(XnᵀXn)/d, by Gauss–Jordan elimination. */
function naiveRidge(x: Matrix, y: Matrix, withoutResidual: boolean, ridge = DEFAULT_RIDGE): number {
  const d = x[0].length;
  const xn = centreNormalise(x);
  const tn = centreNormalise(withoutResidual ? y.map((row, r) => row.map((v, j) => v - x[r][j])) : y);
  const m: Matrix = Array.from({ length: d }, (_, i) => Array.from({ length: 2 * d }, (_, j) => {
    let s = 0;
    for (const [r, row] of xn.entries()) s += row[i] * (j < d ? row[j] : tn[r][j - d]);
    return s;
  }));
  let trace = 0;
  for (let i = 0; i < d; i++) trace += m[i][i];
  for (let i = 0; i < d; i++) m[i][i] += (ridge * trace) / d;
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const pivot = m[c][c];
    for (let j = 0; j < 2 * d; j++) m[c][j] /= pivot;
    for (let r = 0; r < d; r++) {
      if (r === c || m[r][c] === 0) continue;
      const f = m[r][c];
      for (let j = 0; j < 2 * d; j++) m[r][j] -= f * m[c][j];
    }
  }
  let residual = 0;
  for (const [r, row] of xn.entries()) {
    for (let j = 0; j < d; j++) {
      let p = 0;
      for (let k = 0; k < d; k++) p += row[k] * m[k][d + j];
      residual += (p - tn[r][j]) ** 2;
    }
  }
  return 1 - residual;
}

function statisticsOf(x: Tensor, y: Tensor) {
  const acc = new LinearityAccumulator(x.dim(-1));
  acc.add(x, y);
  return acc.statistics();
}

test('N > d, full rank: certified Cholesky factors give the reference exact and ridge scores', () => {
  const rng = new Rng(11);
  for (const [name, p] of [
    ['correlated', correlatedPair(rng, 160, 14, { noise: 0.2, nonlinear: true })],
    ['large offsets', correlatedPair(rng, 120, 10, { noise: 0.05, offset: 1e3 })],
    ['N = d + 1', correlatedPair(rng, 13, 12, { noise: 0.3 })],
  ] as const) {
    const s = statisticsOf(p.x, p.y);
    const factor = factorNormalMatrix(s);
    assert.equal(factor && 'kind' in factor ? factor.kind : 'eigen', 'cholesky', `${name}: Cholesky path taken`);
    const r = solvePairLinearity(s, {}, factor);
    const eigen = solvePairLinearity(s, { method: 'eigen' });
    const [n, d] = p.x.shape;
    for (const v of variants) {
      const xs = fromFlat(p.x.data, n, d);
      const ys = fromFlat(p.y.data, n, d);
      close(r[v].exact, naiveLinearity(xs, ys, v === 'withoutResidual').score, 1e-9, `${name} ${v} exact`);
      close(r[v].robust!, naiveRidge(xs, ys, v === 'withoutResidual'), 1e-9, `${name} ${v} ridge`);
      close(r[v].exact, eigen[v].exact, 1e-11, `${name} ${v} exact = eigen path`);
      close(r[v].robust!, eigen[v].robust!, 1e-11, `${name} ${v} ridge = eigen path`);
      assert.equal(r[v].rank, d);
    }
    const noRidge = solvePairLinearity(s, { robust: false });
    for (const v of variants) close(noRidge[v].exact, r[v].exact, 1e-12, `${name} ${v} without the ridge factor`);
  }
});

test('N ≤ 0.85·d: the token side (stored rows, row selections, several batches) gives the reference scores', () => {
  const rng = new Rng(12);
  for (const [n, d] of [[9, 20], [13, 16], [30, 64]]) {
    const p = correlatedPair(rng, n + 4, d, { noise: 0.5, nonlinear: true });
    // repeated inputs with different outputs, as repeated tokens' embeddings: Xc·Xcᵀ gets exact zeros
    const xd = p.x.data as Float64Array;
    for (const [to, from] of [[3, 1], [6, 1], [n, 2]]) xd.copyWithin(to * d, from * d, from * d + d);
    // four rows are padding, dropped by the selections; two batches
    const cut = Math.floor((n + 4) / 2);
    const batches = [
      { x: p.x.slice0(0, cut), y: p.y.slice0(0, cut), rows: Array.from({ length: cut - 2 }, (_, i) => i + 1) },
      { x: p.x.slice0(cut, n + 4), y: p.y.slice0(cut, n + 4), rows: Array.from({ length: n + 4 - cut - 2 }, (_, i) => i) },
    ];
    const pair = new LinearityPairAccumulator({ dim: d, block: 0 });
    for (const b of batches) pair.add(b);
    const tokenSide = pair.result({}, { rows: () => batches, anisotropy: true });
    const eigen = pair.result({ method: 'eigen' });
    assert.equal(tokenSide.solvedBy, 'tokens');
    assert.equal(eigen.solvedBy, 'eigen');
    const kept = batches.flatMap((b) => b.rows.map((r) => [r, b] as const));
    const xs = kept.map(([r, b]) => Array.from(b.x.data.subarray(r * d, r * d + d)));
    const ys = kept.map(([r, b]) => Array.from(b.y.data.subarray(r * d, r * d + d)));
    assert.equal(xs.length, n);
    for (const v of variants) {
      const got = tokenSide.block.layer[v];
      close(got.exact, naiveLinearity(xs, ys, v === 'withoutResidual').score, 1e-9, `${n}×${d} ${v} exact`);
      close(got.robust!, naiveRidge(xs, ys, v === 'withoutResidual'), 1e-9, `${n}×${d} ${v} ridge`);
      close(got.exact, eigen.block.layer[v].exact, 1e-10, `${n}×${d} ${v} exact = eigen path`);
      close(got.robust!, eigen.block.layer[v].robust!, 1e-10, `${n}×${d} ${v} ridge = eigen path`);
      assert.equal(got.rank, eigen.block.layer[v].rank, `${n}×${d} ${v} rank`);
      assert.ok(got.rank <= n - 1);
    }
    close(tokenSide.anisotropyX, eigen.anisotropyX, 1e-12, `${n}×${d} anisotropy`);
  }
});

test('rank-deficient X (N > d): Cholesky is refused and the eigendecomposition gives the reference', () => {
  const rng = new Rng(13);
  const p = correlatedPair(rng, 80, 18, { rank: 5, noise: 0.3 });
  const s = statisticsOf(p.x, p.y);
  const factor = factorNormalMatrix(s);
  assert.ok(factor && 'w' in factor, 'eigen fallback');
  const r = solvePairLinearity(s);
  const xs = fromFlat(p.x.data, 80, 18);
  const ys = fromFlat(p.y.data, 80, 18);
  for (const v of variants) {
    close(r[v].exact, naiveLinearity(xs, ys, v === 'withoutResidual').score, 1e-9, `${v} exact`);
    assert.equal(r[v].rank, 5);
  }
});

test('ill-conditioned X with an eigenvalue near the cutoff: not certified, so the eigen path decides', () => {
  const n = 200;
  const d = 12;
  // column 3 ≈ column 2: λ_min/λ_max ≈ 2.6e-13 at 1e-6, 6× the cutoff max(N, d)·ε ≈ 4.4e-14 (the
  // reference keeps it) but not certifiably far from it, though Cholesky succeeds; ≈ 1.1e-12 at 2e-6: certified
  for (const [scale, path] of [[1e-6, 'eigen'], [2e-6, 'cholesky']] as const) {
    const p = correlatedPair(new Rng(14), n, d, { noise: 0.2 });
    const x = p.x.data as Float64Array;
    for (let r = 0; r < n; r++) x[r * d + 3] = x[r * d + 2] + scale * x[r * d + 3];
    const s = statisticsOf(p.x, p.y);
    const factor = factorNormalMatrix(s)!;
    assert.equal('kind' in factor ? factor.kind : 'eigen', path, `scale ${scale}`);
    assert.equal('kind' in factorNormalMatrix(s, { robust: false })! ? 'cholesky' : 'eigen', path, `scale ${scale} without the ridge`);
    const auto = solvePairLinearity(s);
    const eigen = solvePairLinearity(s, { method: 'eigen' });
    if (path === 'eigen') assert.deepEqual(auto, eigen, 'the same numbers as the eigen path, bit for bit');
    const xs = fromFlat(p.x.data, n, d);
    const ys = fromFlat(p.y.data, n, d);
    for (const v of variants) {
      assert.equal(auto[v].rank, d, 'the near-cutoff direction is kept');
      // κ(XᵀX) ≈ 1e12: every normal-equation solve (eigen or Cholesky) is within ~ε·κ of the SVD
      // reference on the tiny direction's share (measured 1.2e-5 to 2e-5 for both paths here)
      const want = naiveLinearity(xs, ys, v === 'withoutResidual', 1e-12).score;
      close(auto[v].exact, want, 5e-5, `scale ${scale} ${v} exact (${path})`);
      close(eigen[v].exact, want, 5e-5, `scale ${scale} ${v} exact (eigen)`);
    }
  }
});

test('many small eigenvalues, below the ridge Λ (anisotropic states): certified through C⁻¹ (‖·‖_F, not the trace)', () => {
  const n = 400;
  const d = 40;
  const rng = new Rng(15);
  const p = correlatedPair(rng, n, d, { noise: 0.2 });
  // half the features 1e-5 as large: 20 eigenvalues ≈ 4e-11·λ_max, under Λ ≈ 2.5e-10·tr (so (C + ΛI)⁻¹
  // cannot show them) and above cutoff·margin = 16·400·ε ≈ 1.4e-12; tr C⁻¹ would be 20× looser than ‖C⁻¹‖_F
  const x = p.x.data as Float64Array;
  for (let r = 0; r < n; r++) for (let j = d / 2; j < d; j++) x[r * d + j] *= 1e-5;
  const s = statisticsOf(p.x, p.y);
  const factor = factorNormalMatrix(s)!;
  assert.ok('kind' in factor && factor.kind === 'cholesky', 'certified');
  const auto = solvePairLinearity(s, {}, factor);
  const eigen = solvePairLinearity(s, { method: 'eigen' });
  for (const v of variants) {
    // κ(XᵀX) ≈ 1e10: both normal-equation solves agree to ~ε·κ
    close(auto[v].exact, eigen[v].exact, 1e-5, `${v} exact`);
    close(auto[v].robust!, eigen[v].robust!, 1e-5, `${v} ridge`);
    assert.equal(auto[v].rank, d);
  }
});
