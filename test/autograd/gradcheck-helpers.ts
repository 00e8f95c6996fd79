/** Shared helpers for the autograd gradient-check tests (float64 inputs, pure or native backend). */
import assert from 'node:assert/strict';
import { gradcheck, type GradcheckOptions } from '../../src/autograd/gradcheck.ts';
import type { Var } from '../../src/autograd/var.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

export const TOLERANCE = 1e-6;

/** N(0, std²) float64 tensor. */
export function randn(rng: Rng, shape: number[], std = 1): Tensor {
  return rng.randn(shape, std, 'float64');
}

/** Asserts the op's gradient matches central differences to TOLERANCE (relative) for every input. */
export function assertGradients(fn: (...xs: Var[]) => Var, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const result = gradcheck(fn, inputs, opts);
  for (const r of result.inputs) {
    assert.ok(
      r.relError < TOLERANCE,
      `input ${r.input}: relative gradient error ${r.relError.toExponential(2)} (max abs ${r.maxAbsError.toExponential(2)}, scale ${r.scale.toExponential(2)})`,
    );
    assert.ok(r.scale > 0, `input ${r.input}: gradient is identically zero, the check proves nothing`);
  }
}
