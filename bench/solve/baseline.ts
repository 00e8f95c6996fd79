/**
 * The pair solve as it was before the single-eigendecomposition rewrite, kept for the A/B
 * benchmark (bench/solve.ts) and as its equality check: syevd of M_xx, one GEMM VᵀC per target for
 * the exact scores (`exactScore`), and a Cholesky solve with both right-hand sides plus a GEMM
 * M_xx·A for the ridge scores (`ridgeFits`). Not used by linscope itself.
 */
import {
  defaultRcond, DEFAULT_RIDGE, exactScore, normalMatrixEigen, ridgeFits,
  type NormalEigen, type PairLinearity, type SolveOptions, type VariantScores,
} from '../../src/analysis/linearity-solve.ts';
import { targetStatistics, type CentredPairStatistics, type LinearityVariant } from '../../src/analysis/linearity-statistics.ts';

const degenerate = (): VariantScores => ({ exact: Number.NaN, robust: Number.NaN, rank: 0 });

export function solvePairBaseline(s: CentredPairStatistics, options: SolveOptions = {}, eig?: NormalEigen): PairLinearity {
  const rcond = options.rcond ?? defaultRcond(s.tokens, s.dim);
  const ridge = options.ridge ?? DEFAULT_RIDGE;
  const robust = options.robust ?? true;
  const result: PairLinearity = { tokens: s.tokens, dim: s.dim, withResidual: degenerate(), withoutResidual: degenerate() };
  if (!(s.xx > 0) || s.tokens < 2) return result;
  const e = eig ?? normalMatrixEigen(s.cxx, s.xx, s.dim);
  const variants = (['withResidual', 'withoutResidual'] as LinearityVariant[])
    .map((variant) => ({ variant, ...targetStatistics(s, variant) }))
    .filter(({ tt }) => tt > 0);
  const ridged = robust && variants.length ? ridgeFits(s.cxx, variants, s.xx, s.dim, ridge) : [];
  variants.forEach(({ variant, cxt, tt }, k) => {
    const exact = exactScore(e, cxt, s.xx, tt, rcond);
    result[variant] = { exact: exact.score, robust: robust ? ridged[k].score : undefined, rank: exact.rank };
  });
  return result;
}
