/**
 * Gradient checking against central finite differences. The function's output is projected on a
 * fixed random direction w (L = Σ w ⊙ f(x)), so one backward pass gives every input's analytic
 * gradient, and each input element is perturbed by ±h to get the numerical one:
 *   ∂L/∂x_j ≈ (L(x + h e_j) − L(x − h e_j)) / 2h.
 * Use float64 inputs; the error is reported relative to the largest gradient entry of each input.
 */
import { Rng } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';
import { backward, noGrad } from './graph.ts';
import { Var } from './var.ts';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  step?: number;
  /** Seed of the projection direction (default 0). */
  seed?: number;
  /** Indices of the inputs to differentiate (default: all). */
  wrt?: readonly number[];
}

export interface InputGradError {
  input: number;
  /** max_j |analytic_j − numeric_j| / max(max_j |numeric_j|, max_j |analytic_j|). */
  relError: number;
  maxAbsError: number;
  /** Largest |numeric_j| (the scale the error is relative to). */
  scale: number;
}

export interface GradcheckResult {
  /** Worst relative error over the checked inputs. */
  maxRelError: number;
  inputs: InputGradError[];
}

function project(w: Float64Array, out: Tensor): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i] * out.data[i];
  return s;
}

/** Compare `fn`'s backward with central differences at `inputs` (copied; not modified). */
export function gradcheck(fn: (...xs: Var[]) => Var, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const h = opts.step ?? 1e-6;
  const wrt = opts.wrt ?? inputs.map((_, i) => i);
  const vars = inputs.map((t, i) => new Var(t.clone(), { requiresGrad: wrt.includes(i), name: `input${i}` }));

  const out = fn(...vars);
  const rng = new Rng(opts.seed ?? 0);
  const w = new Float64Array(out.value.size);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal();
  backward(out, new Tensor(out.value.dtype === 'float64' ? Float64Array.from(w) : Float32Array.from(w), out.value.shape));

  const results: InputGradError[] = [];
  for (const i of wrt) {
    const v = vars[i];
    const x = v.value.data;
    const analytic = v.grad?.data ?? new Float64Array(x.length);
    let maxAbsError = 0, scale = 0, analyticScale = 0;
    for (let j = 0; j < x.length; j++) {
      const saved = x[j];
      x[j] = saved + h;
      const plus = noGrad(() => project(w, fn(...vars).value));
      x[j] = saved - h;
      const minus = noGrad(() => project(w, fn(...vars).value));
      x[j] = saved;
      const numeric = (plus - minus) / (2 * h);
      maxAbsError = Math.max(maxAbsError, Math.abs(numeric - analytic[j]));
      scale = Math.max(scale, Math.abs(numeric));
      analyticScale = Math.max(analyticScale, Math.abs(analytic[j]));
    }
    const denom = Math.max(scale, analyticScale);
    results.push({ input: i, relError: denom === 0 ? 0 : maxAbsError / denom, maxAbsError, scale });
  }
  return { maxRelError: Math.max(0, ...results.map((r) => r.relError)), inputs: results };
}
