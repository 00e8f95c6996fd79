/**
 * A fitted linear map between two layers and its per-token residuals — the tokens the linear map
 * fails on (the paper's "feature triggering" discussion).
 *
 * The map acts in the score's normalised coordinates: x_n = (x − μx)/‖Xc‖_F, t_n = (t − μt)/‖Tc‖_F
 * with t = y ("with residual") or t = y − x ("without residual"). Each token's residual is
 * r_t = ‖x_n A − t_n‖², so over the rows the map was fitted on Σ r_t = 1 − score and Σ ‖t_n‖² = 1;
 * r_t / ‖t_n‖² is the token's relative error. Use it in a second pass over the same forwards:
 * accumulate, `fit`, then `perToken(X, Y)` batch by batch.
 */
import { backend } from '../backend/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import {
  defaultRcond, DEFAULT_RIDGE, exactMap, exactScore, normalMatrixEigen, ridgeFit, type NormalEigen,
} from './linearity-solve.ts';
import { targetStatistics, type CentredPairStatistics, type LinearityVariant } from './linearity-statistics.ts';
import { DEFAULT_CHUNK_ROWS } from './moments.ts';
import { checkRows, copyShiftedRows, featureDim, rowCount, selectedCount, type RowSelection } from './rows.ts';

export type LinearSolver = 'exact' | 'robust';

export interface FitOptions {
  variant?: LinearityVariant;
  solver?: LinearSolver;
  rcond?: number;
  ridge?: number;
}

/** Per-token residuals of a fitted map. */
export interface TokenResiduals {
  /** r_t = ‖x_n A − t_n‖² (sums to 1 − score over the fitted rows). */
  residual: Float64Array;
  /** ‖t_n‖² (sums to 1 over the fitted rows). */
  targetEnergy: Float64Array;
}

export class LinearFit {
  constructor(
    readonly variant: LinearityVariant,
    readonly solver: LinearSolver,
    /** The score of this map on the rows it was fitted on. */
    readonly score: number,
    readonly dim: number,
    readonly meanX: Float64Array,
    /** Mean of the target (Y, or D = Y − X). */
    readonly meanTarget: Float64Array,
    /** ‖Xc‖_F. */
    readonly normX: number,
    /** ‖Tc‖_F. */
    readonly normTarget: number,
    /** A, d × d row-major, in normalised coordinates. */
    readonly map: Float64Array,
  ) {}

  /** Residuals of each selected token of X → Y (Y the next layer's states, same rows). */
  perToken(x: Tensor, y: Tensor, rows?: RowSelection, chunkRows = DEFAULT_CHUNK_ROWS): TokenResiduals {
    checkRows('LinearFit.perToken (y)', y, this.dim, rowCount(x));
    return this.residuals(x, y, this.variant === 'withoutResidual' ? 'difference' : 'target', rows, chunkRows);
  }

  /** Residuals when Y is given as X + delta (e.g. delta = a block part's output). */
  perTokenDelta(x: Tensor, delta: Tensor, rows?: RowSelection, chunkRows = DEFAULT_CHUNK_ROWS): TokenResiduals {
    checkRows('LinearFit.perTokenDelta (delta)', delta, this.dim, rowCount(x));
    return this.residuals(x, delta, this.variant === 'withoutResidual' ? 'target' : 'sum', rows, chunkRows);
  }

  /** `second` is the target itself, Y with target Y − X ('difference'), or D with target X + D ('sum'). */
  private residuals(x: Tensor, second: Tensor, form: 'target' | 'difference' | 'sum', rows: RowSelection, chunkRows: number): TokenResiduals {
    const d = this.dim;
    checkRows('LinearFit.perToken (x)', x, d);
    if (featureDim(second) !== d) throw new Error(`LinearFit.perToken: expected ${d} features, got ${second}`);
    const n = selectedCount(x, rows);
    const residual = new Float64Array(n);
    const targetEnergy = new Float64Array(n);
    const size = Math.min(n, chunkRows) * d;
    const xb = new Float64Array(size);
    const tb = new Float64Array(size);
    const pred = new Float64Array(size);
    const ix = 1 / this.normX;
    const it = 1 / this.normTarget;
    for (let start = 0; start < n; start += chunkRows) {
      const end = Math.min(n, start + chunkRows);
      const m = end - start;
      const xr = copyShiftedRows(x.data, d, rows, start, end, null, xb);
      const tr = copyShiftedRows(second.data, d, rows, start, end, null, tb);
      for (let i = 0; i < m * d; i++) {
        const j = i % d;
        const t = form === 'target' ? tr[i] : form === 'difference' ? tr[i] - xr[i] : tr[i] + xr[i];
        tr[i] = (t - this.meanTarget[j]) * it;
        xr[i] = (xr[i] - this.meanX[j]) * ix;
      }
      backend().gemm({
        transA: false, transB: false, m, n: d, k: d, alpha: 1,
        a: xr, lda: d, b: this.map, ldb: d, beta: 0, c: pred, ldc: d,
      });
      for (let r = 0; r < m; r++) {
        let res = 0;
        let energy = 0;
        for (let j = 0; j < d; j++) {
          const t = tr[r * d + j];
          const e = pred[r * d + j] - t;
          res += e * e;
          energy += t * t;
        }
        residual[start + r] = res;
        targetEnergy[start + r] = energy;
      }
    }
    return { residual, targetEnergy };
  }
}

/** A token the linear map fits badly. */
export interface WorstToken {
  /** Index into the residual arrays (the order rows were passed in). */
  index: number;
  residual: number;
  /** residual / ‖t_n‖² (1 = no better than predicting the mean). */
  relative: number;
}

/** The k tokens with the largest residual ('absolute') or relative residual ('relative'), worst first. */
export function worstTokens(r: TokenResiduals, k: number, by: 'absolute' | 'relative' = 'absolute'): WorstToken[] {
  const all: WorstToken[] = Array.from(r.residual, (residual, index) => ({
    index,
    residual,
    relative: r.targetEnergy[index] > 0 ? residual / r.targetEnergy[index] : Number.POSITIVE_INFINITY,
  }));
  const key = by === 'absolute' ? (t: WorstToken) => t.residual : (t: WorstToken) => t.relative;
  return all.sort((a, b) => key(b) - key(a)).slice(0, k);
}

/** Fits the map of one variant with one solver from a pair's centred statistics. */
export function fitLinearMap(s: CentredPairStatistics, options: FitOptions = {}, eig?: NormalEigen): LinearFit {
  const variant = options.variant ?? 'withResidual';
  const solver = options.solver ?? 'exact';
  const { cxt, tt } = targetStatistics(s, variant);
  if (!(s.xx > 0) || !(tt > 0)) {
    throw new Error(`linearity fit: a centred input has zero norm (‖Xc‖² = ${s.xx}, ‖Tc‖² = ${tt}); nothing to fit`);
  }
  const meanTarget = variant === 'withResidual' ? s.meanY : s.meanDelta;
  let score: number;
  let map: Float64Array;
  if (solver === 'exact') {
    const rcond = options.rcond ?? defaultRcond(s.tokens, s.dim);
    const e = eig ?? normalMatrixEigen(s.cxx, s.xx, s.dim);
    score = exactScore(e, cxt, s.xx, tt, rcond).score;
    map = exactMap(e, cxt, s.xx, tt, rcond);
  } else {
    const fit = ridgeFit(s.cxx, cxt, s.xx, tt, s.dim, options.ridge ?? DEFAULT_RIDGE);
    score = fit.score;
    map = fit.map;
  }
  return new LinearFit(variant, solver, score, s.dim, s.meanX, meanTarget, Math.sqrt(s.xx), Math.sqrt(tt), map);
}
