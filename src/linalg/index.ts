/** Tensor-level linear algebra used by the analyses: decompositions, solvers, low-rank approximations. */
export { svd, truncateSvd, type Svd, type SvdOptions, type SingularValues } from './svd.ts';
export { eigh, type Eigh, type EighOptions } from './eigh.ts';
export { lstsq } from './lstsq.ts';
export { solveSpd } from './solve-spd.ts';
export { pinv, type PinvOptions } from './pinv.ts';
export { randomizedSvd, type RandomizedSvdOptions } from './randomized-svd.ts';
export { lowRankApprox, lowRankFactors, type LowRankOptions } from './low-rank.ts';
export type { PrecisionOptions } from './matrix.ts';
