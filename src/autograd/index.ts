/**
 * linscope's reverse-mode autograd: Vars over src/tensor Tensors, ops with backward steps on the
 * active backend (GEMMs with transpose flags), optimisers and schedules.
 *
 *   const w = param(rng.randn([out, inp], 0.02), 'fc.weight');
 *   const loss = mse(gelu(linear(x, w, b)), y);
 *   opt.zeroGrad(); backward(loss); clipGradNorm(opt.params, 1); opt.step();
 */
export { Var, param, constant, type BackwardFn, type GraphNode, type VarOptions } from './var.ts';
export { backward, noGrad, isGradEnabled, needsGrad, record, gradBuffer, gradTarget, accumulateGrad, type BackwardOptions } from './graph.ts';
export { setGradPoolLimit, clearGradPool, gradPoolBytes } from './grad-pool.ts';
export { gradcheck, type GradcheckOptions, type GradcheckResult, type InputGradError } from './gradcheck.ts';
export { erf64, erfc64 } from './erf.ts';
export { add, sub, mul, scale, sum, mean } from './ops/arith.ts';
export { matmul, linear, type MatmulFlags } from './ops/linalg.ts';
export { reshape, concatLast, sliceLast } from './ops/shape.ts';
export { embedding } from './ops/embedding.ts';
export { layerNorm, rmsNorm } from './ops/norms.ts';
export { softmax, logSoftmax } from './ops/softmax.ts';
export { crossEntropy, type CrossEntropyOptions } from './ops/cross-entropy.ts';
export { gelu, silu, relu, siluMul, type GeluApproximation } from './ops/activations.ts';
export { rope, sequentialPositions, type RopeOptions, type RopeStyle } from './ops/rope.ts';
export { attention, type AttentionOptions } from './ops/attention.ts';
export { dropout } from './ops/dropout.ts';
export { mse, cosineSimilarity, cosineDistanceMean } from './ops/losses.ts';
export { Optimizer, isNotMatrix, type ParamState } from './optim/optimizer.ts';
export { Adam, AdamW, CheckpointableAdamW, type AdamOptions } from './optim/adam.ts';
export { restoreOptimizerState, saveOptimizerState, type SavedOptimizerState } from './optim/state.ts';
export { SGD, type SgdOptions } from './optim/sgd.ts';
export { clipGradNorm } from './optim/clip.ts';
export { cosineWithWarmup, type CosineScheduleOptions } from './optim/schedule.ts';
