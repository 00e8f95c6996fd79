/**
 * Accuracy of the pair solve's paths as X becomes ill-conditioned: column 3 of a 200 × 12 X is set
 * to column 2 + s·(its own values), so λ_min/λ_max of XcᵀXc falls with s². For each s: the path
 * `solvePairLinearity` takes (certified Cholesky or the eigen fallback), and the distance of its
 * exact score and of the eigen path's to the SVD reference (the naive Jacobi pseudo-inverse of the
 * tests, which works on X, not XᵀX). Both are normal-equation solves, accurate to ~ε·κ(XᵀX).
 *
 *   node --import tsx bench/solve/conditioning.ts
 */
import { LinearityAccumulator } from '../../src/analysis/linearity-accumulator.ts';
import { defaultRcond, factorNormalMatrix, normalMatrixEigen, solvePairLinearity } from '../../src/analysis/linearity-solve.ts';
import { Rng } from '../../src/tensor/random.ts';
import { correlatedPair } from '../../test/analysis/fixtures.ts';
import { fromFlat, naiveLinearity } from '../../test/analysis/naive-linearity.ts';

const n = 200;
const d = 12;
console.log(`| s | λ_min/λ_max (cutoff ${defaultRcond(n, d).toExponential(1)}) | path | abs Δ chosen path − SVD | abs Δ eigen path − SVD |`);
console.log('| ---: | ---: | --- | ---: | ---: |');
for (const scale of [1e-6, 2e-6, 5e-6, 1e-5, 1e-4, 1e-3, 1e-1]) {
  const p = correlatedPair(new Rng(14), n, d, { noise: 0.2 });
  const x = p.x.data as Float64Array;
  for (let r = 0; r < n; r++) x[r * d + 3] = x[r * d + 2] + scale * x[r * d + 3];
  const acc = new LinearityAccumulator(d);
  acc.add(p.x, p.y);
  const s = acc.statistics();
  const w = normalMatrixEigen(s.cxx, s.xx, d).w;
  const factor = factorNormalMatrix(s);
  const chosen = solvePairLinearity(s, {}, factor).withResidual.exact;
  const eigen = solvePairLinearity(s, { method: 'eigen' }).withResidual.exact;
  const ref = naiveLinearity(fromFlat(p.x.data, n, d), fromFlat(p.y.data, n, d), false, 1e-12).score;
  console.log(`| ${scale} | ${(w[0] / w[d - 1]).toExponential(1)} | ${factor && 'kind' in factor ? 'Cholesky' : 'eigen'} | ${Math.abs(chosen - ref).toExponential(1)} | ${Math.abs(eigen - ref).toExponential(1)} |`);
}
