/**
 * A whole optimiser's state as named tensors, for checkpoints: `<param>.<buffer>` (torch's buffer
 * names: exp_avg, exp_avg_sq, momentum_buffer) in the parameter's shape and dtype, plus each
 * parameter's step count. Saved and restored exactly, so a resumed run continues bit for bit.
 */
import { Tensor } from '../../tensor/tensor.ts';
import type { Var } from '../var.ts';
import type { Optimizer } from './optimizer.ts';

export interface SavedOptimizerState {
  /** `<param>.<buffer>` → tensor. */
  tensors: Record<string, Tensor>;
  /** `<param>` → its step count (parameters that have not stepped yet are absent). */
  steps: Record<string, number>;
}

/** The state of `opt` for the named parameters (copies of the buffers). */
export function saveOptimizerState(opt: Optimizer, params: Iterable<readonly [string, Var]>): SavedOptimizerState {
  const tensors: Record<string, Tensor> = {};
  const steps: Record<string, number> = {};
  for (const [name, p] of params) {
    const s = opt.paramState(p);
    if (!s) continue;
    for (const [buffer, data] of Object.entries(s.buffers)) tensors[`${name}.${buffer}`] = new Tensor(data.slice(), p.value.shape);
    steps[name] = s.step;
  }
  return { tensors, steps };
}

/**
 * Restores a state written by {@link saveOptimizerState} into `opt`, built over the same parameters;
 * `param(name)` finds a parameter by name. `where` names the source in error messages.
 */
export function restoreOptimizerState(opt: Optimizer, param: (name: string) => Var, saved: SavedOptimizerState, where: string): void {
  for (const [name, step] of Object.entries(saved.steps)) {
    const buffers: Record<string, ArrayLike<number>> = {};
    for (const buffer of opt.bufferNames) {
      const t = saved.tensors[`${name}.${buffer}`];
      if (!(t instanceof Tensor)) throw new Error(`${where}: optimizer state lacks "${name}.${buffer}"`);
      buffers[buffer] = t.data;
    }
    opt.loadParamState(param(name), { step, buffers });
  }
}
