/** Argument checks shared by the autograd ops, with messages that name the op and the shapes. */
import type { Var } from './var.ts';

export function shapeText(v: Var): string {
  return `[${v.value.shape.join(', ')}]`;
}

export function assertSameDtype(op: string, ...vars: readonly (Var | undefined)[]): void {
  const first = vars.find((v) => v !== undefined);
  for (const v of vars) {
    if (v && first && v.value.dtype !== first.value.dtype) {
      throw new Error(`${op}: dtype mismatch (${first.value.dtype} vs ${v.value.dtype})`);
    }
  }
}

export function assertSameShape(op: string, a: Var, b: Var): void {
  const sa = a.value.shape, sb = b.value.shape;
  if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i])) {
    throw new Error(`${op}: shapes differ: ${shapeText(a)} vs ${shapeText(b)}`);
  }
  assertSameDtype(op, a, b);
}

/** Length of the last axis, with a clear error for scalars. */
export function lastDim(op: string, v: Var): number {
  if (v.value.ndim === 0) throw new Error(`${op}: expected at least one axis, got a scalar`);
  return v.value.shape[v.value.ndim - 1];
}

/** Checks that `vec` is a vector matching the last axis of `x` (a bias/gain broadcast over rows). */
export function assertRowVector(op: string, x: Var, vec: Var): void {
  const n = lastDim(op, x);
  if (vec.value.size !== n || vec.value.shape.filter((d) => d !== 1).length > 1) {
    throw new Error(`${op}: ${shapeText(vec)} is not a vector of length ${n} (the last axis of ${shapeText(x)})`);
  }
  assertSameDtype(op, x, vec);
}
