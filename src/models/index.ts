/** Public surface of the decoder runtime. */
export { normalizeConfig, SUPPORTED_MODEL_TYPES, type DecoderConfig, type ModelType, type FamilyName, type RopeConfig, type RopeScaling } from './config.ts';
export { DecoderModel, createModel, loadModel, type ForwardOptions, type ForwardResult, type LoadOptions } from './decoder.ts';
export { generate, type GenerateOptions, type GenerateResult } from './generate.ts';
export { sampleToken, argmax, type SamplingOptions } from './sampling.ts';
export { matrixRef, readMatrix, writeMatrix, readBias, writeBias } from './matrices.ts';
export { memorySource } from './memory-source.ts';
export { randomWeightSource, type RandomWeightsOptions } from './random-weights.ts';
export { positionsFromMask, alibiPositionsFromMask, optPositionsFromMask, emptyCache, type ForwardInputs } from './context.ts';
export { MATRIX_TYPES, type MatrixType, type MatrixRef, type MatrixTable, type KVCache, type BlockOutput, type ForwardContext, type WeightSource } from './types.ts';
export { eagerOps } from './eager-ops.ts';
export { tapeOps } from './tape-ops.ts';
export type { Ops, AttentionSpec, BlockResult, Layout } from './ops.ts';
export type { Architecture, Family, Weights, WeightSpec } from './family.ts';
