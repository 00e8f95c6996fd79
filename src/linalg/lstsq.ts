/** Linear least squares, min_X ‖A·X − B‖_F, by Householder QR through the active backend. */
import { backend } from '../backend/index.ts';
import { Tensor } from '../tensor/tensor.ts';
import { inDtype, matrixShape, workDtype, type PrecisionOptions } from './matrix.ts';

/**
 * X minimising ‖A·X − B‖_F for A [m, n] with m ≥ n and full column rank; B is [m] or [m, nrhs] and X
 * is [n] or [n, nrhs] accordingly. For rank-deficient or wide A use `pinv(A)` instead.
 */
export function lstsq(a: Tensor, b: Tensor, opts: PrecisionOptions = {}): Tensor {
  const [m, n] = matrixShape(a, 'lstsq');
  if (m < n) {
    throw new Error(`lstsq: A has fewer rows than columns (${m} × ${n}); the problem is underdetermined — use matmul(pinv(A), B) for the minimum-norm solution`);
  }
  const vector = b.ndim === 1;
  if (!vector && b.ndim !== 2) throw new Error(`lstsq: B must be a vector or a matrix, got ${b}`);
  if (b.shape[0] !== m) throw new Error(`lstsq: B has ${b.shape[0]} rows but A has ${m}`);
  const nrhs = vector ? 1 : b.shape[1];
  const dtype = workDtype(a, opts);
  const x = backend().gels(inDtype(a, dtype).data, m, n, inDtype(b, dtype).data, nrhs);
  return new Tensor(x, vector ? [n] : [n, nrhs]);
}
