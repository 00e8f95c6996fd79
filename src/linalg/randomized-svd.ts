/**
 * Randomized truncated SVD (Halko, Martinsson & Tropp 2011, Algorithms 4.4 + 5.1): sketch the range
 * of A with a seeded Gaussian test matrix, sharpen it with power iterations (re-orthonormalising
 * after every product, which keeps small singular directions from drowning in rounding), then take
 * the exact SVD of the small matrix QᵀA.
 */
import { backend } from '../backend/index.ts';
import { matmul } from '../tensor/matmul.ts';
import { Rng } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';
import { checkRank, inDtype, matrixShape, workDtype, type PrecisionOptions } from './matrix.ts';
import { svd, truncateSvd, type Svd } from './svd.ts';

export interface RandomizedSvdOptions extends PrecisionOptions {
  /** Extra sketch columns beyond the rank (default 10). */
  oversample?: number;
  /** Power iterations q: the sketch sees (AAᵀ)^q·A (default 2). */
  powerIters?: number;
  /** Seed of the Gaussian test matrix (default 0). */
  seed?: number;
}

/** Orthonormal basis of the columns of the m × l matrix `y` (Householder QR through the backend). */
function orthonormalize(y: Tensor): Tensor {
  const [m, l] = y.shape;
  return new Tensor(backend().orthonormalize(y.data, m, l), [m, l]);
}

/**
 * The leading `rank` singular triplets of A [m, n], approximately: U [m, r], S [r], Vt [r, n].
 * Deterministic for a given seed. The error is close to σ_{r+1} when the spectrum decays.
 */
export function randomizedSvd(a: Tensor, rank: number, opts: RandomizedSvdOptions = {}): Svd {
  const [m, n] = matrixShape(a, 'randomizedSvd');
  const k = Math.min(m, n);
  checkRank(rank, k, 'randomizedSvd');
  const oversample = opts.oversample ?? 10;
  const powerIters = opts.powerIters ?? 2;
  if (!Number.isInteger(oversample) || oversample < 0) throw new Error(`randomizedSvd: oversample must be a non-negative integer, got ${oversample}`);
  if (!Number.isInteger(powerIters) || powerIters < 0) throw new Error(`randomizedSvd: powerIters must be a non-negative integer, got ${powerIters}`);
  const dtype = workDtype(a, opts);
  const x = inDtype(a, dtype);
  const l = Math.min(rank + oversample, k);
  if (rank === 0) return { U: Tensor.zeros([m, 0], dtype), S: Tensor.zeros([0], dtype), Vt: Tensor.zeros([0, n], dtype) };

  const omega = new Rng(opts.seed ?? 0).randn([n, l], 1, dtype);
  let q = orthonormalize(matmul(x, omega)); // range of A·Ω, m × l
  for (let i = 0; i < powerIters; i++) {
    const z = orthonormalize(matmul(x, q, { transA: true })); // Aᵀ·Q, n × l
    q = orthonormalize(matmul(x, z)); // A·Z, m × l
  }
  const small = matmul(q, x, { transA: true }); // B = Qᵀ·A, l × n
  const f = svd(small);
  return truncateSvd({ U: matmul(q, f.U), S: f.S, Vt: f.Vt }, rank);
}
