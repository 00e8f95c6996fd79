/**
 * linscope's analysis mathematics on hidden states ([N, d] token rows, fed batch by batch):
 * the "Your Transformer is Secretly Linear" linearity score (streaming, exact and robust solvers,
 * with/without residual, per block and per block part, per-token residuals), anisotropy, TwoNN
 * intrinsic dimension and the logit lens.
 */
export { LinearityAccumulator } from './linearity-accumulator.ts';
export {
  LinearityProfileAccumulator,
  type BlockLinearity, type BlockPart, type ForwardStates, type LinearityProfile, type LinearityProfileOptions,
} from './linearity-profile.ts';
export { residualStates, type HiddenStateOutput, type LastBlockMode } from './hidden-states.ts';
export {
  solvePairLinearity, defaultRcond, DEFAULT_RIDGE,
  type PairLinearity, type SolveOptions, type VariantScores,
} from './linearity-solve.ts';
export { centredPairStatistics, type CentredPairStatistics, type LinearityVariant } from './linearity-statistics.ts';
export { linearityDirect, type DirectOptions, type DirectResult } from './linearity-direct.ts';
export { LinearFit, fitLinearMap, worstTokens, type FitOptions, type LinearSolver, type TokenResiduals, type WorstToken } from './linear-fit.ts';
export { StreamMoments, CrossMoments } from './moments.ts';
export { anisotropy, anisotropyFromMoments, meanCosineSimilarity, meanCosineFromMoments } from './anisotropy.ts';
export { intrinsicDimension, twoNNFromDistances, type TwoNNOptions, type TwoNNResult } from './intrinsic-dimension.ts';
export { twoNearestNeighbours } from './nearest-neighbours.ts';
export { LogitLensAccumulator, nextTokenTargets, type LayerLens, type LensBatch, type LogitLensOptions } from './logit-lens.ts';
export type { RowSelection } from './rows.ts';
