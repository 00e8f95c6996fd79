/**
 * Gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ (L2 norm over all gradients together).
 * Float32 gradients go to the C twins of the two loops (native/kernels.c lk_sumsq_f32, lk_scale_f32)
 * when the native kernels are loaded: the same float64 sum in the same order, so the same norm.
 */
import { allFloat32, kernelThreads, nativeKernels } from '../../tensor/native-kernels.ts';
import type { Var } from '../var.ts';

/**
 * Scales every gradient by maxNorm / (‖g‖ + 1e-6) when that is below 1, where ‖g‖ is the L2 norm of
 * all gradients concatenated. Returns ‖g‖ before clipping (NaN/Infinity pass through unclipped).
 */
export function clipGradNorm(params: Iterable<Var>, maxNorm: number): number {
  const withGrad = [...new Set(params)].filter((p) => p.grad !== null);
  const native = nativeKernels();
  let ss = 0;
  for (const p of withGrad) {
    const g = p.grad!.data;
    if (native && allFloat32(g)) ss = native.sumSquares(g as Float32Array, g.length, ss);
    else for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  }
  const total = Math.sqrt(ss);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const p of withGrad) {
      const g = p.grad!.data;
      if (native && allFloat32(g)) native.scaleInPlace(g as Float32Array, g.length, coef, kernelThreads());
      else for (let i = 0; i < g.length; i++) g[i] *= coef;
    }
  }
  return total;
}
