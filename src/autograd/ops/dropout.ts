/** Inverted dropout: keep each element with probability 1 − p and scale kept ones by 1/(1 − p). */
import type { Rng } from '../../tensor/random.ts';
import { Tensor, allocate } from '../../tensor/tensor.ts';
import { elementwiseGradTarget, record } from '../graph.ts';
import type { Var } from '../var.ts';

/**
 * Dropout with rate `p`, drawing the mask from `rng` (seeded, so runs replay exactly). When not
 * `training` (or p = 0) it is the identity and returns `x` itself.
 */
export function dropout(x: Var, p: number, rng: Rng, training = true): Var {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: rate ${p} is not in [0, 1]`);
  if (!training || p === 0) return x;
  const xs = x.value.data;
  const mask = allocate(x.value.dtype, xs.length);
  const keep = p === 1 ? 0 : 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < p ? 0 : keep;
  const out = new Tensor(allocate(x.value.dtype, xs.length), x.value.shape);
  const y = out.data;
  for (let i = 0; i < y.length; i++) y[i] = xs[i] * mask[i];
  return record('dropout', out, [x], (g, owned) => {
    const { data: gx, accumulate } = elementwiseGradTarget(x, g, owned);
    const gd = g.data;
    if (accumulate) for (let i = 0; i < gd.length; i++) gx[i] += gd[i] * mask[i];
    else for (let i = 0; i < gd.length; i++) gx[i] = gd[i] * mask[i];
  });
}
