/** Solving a symmetric positive definite system by Cholesky through the active backend. */
import { backend } from '../backend/index.ts';
import { Tensor } from '../tensor/tensor.ts';
import { inDtype, matrixShape, workDtype, type PrecisionOptions } from './matrix.ts';

/**
 * X with A·X = B for symmetric positive definite A [n, n] (upper triangle read); B is [n] or
 * [n, nrhs]. Returns null when the Cholesky factorisation finds A not positive definite, so callers
 * can fall back (add a ridge, use `pinv`).
 */
export function solveSpd(a: Tensor, b: Tensor, opts: PrecisionOptions = {}): Tensor | null {
  const [n, n2] = matrixShape(a, 'solveSpd');
  if (n !== n2) throw new Error(`solveSpd: A must be square, got ${a}`);
  const vector = b.ndim === 1;
  if (!vector && b.ndim !== 2) throw new Error(`solveSpd: B must be a vector or a matrix, got ${b}`);
  if (b.shape[0] !== n) throw new Error(`solveSpd: B has ${b.shape[0]} rows but A is ${n} × ${n}`);
  const nrhs = vector ? 1 : b.shape[1];
  const dtype = workDtype(a, opts);
  const x = backend().posv(inDtype(a, dtype).data, n, inDtype(b, dtype).data, nrhs);
  return x ? new Tensor(x, b.shape) : null;
}
