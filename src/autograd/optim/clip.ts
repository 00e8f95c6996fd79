/** Gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ (L2 norm over all gradients together). */
import type { Var } from '../var.ts';

/**
 * Scales every gradient by maxNorm / (‖g‖ + 1e-6) when that is below 1, where ‖g‖ is the L2 norm of
 * all gradients concatenated. Returns ‖g‖ before clipping (NaN/Infinity pass through unclipped).
 */
export function clipGradNorm(params: Iterable<Var>, maxNorm: number): number {
  const withGrad = [...new Set(params)].filter((p) => p.grad !== null);
  let ss = 0;
  for (const p of withGrad) {
    const g = p.grad!.data;
    for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  }
  const total = Math.sqrt(ss);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const p of withGrad) {
      const g = p.grad!.data;
      for (let i = 0; i < g.length; i++) g[i] *= coef;
    }
  }
  return total;
}
