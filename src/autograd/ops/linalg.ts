/**
 * Matrix products. Forward goes through src/tensor/matmul; backward is more GEMMs with transpose
 * flags on the same buffers (never a materialised transpose), accumulating straight into the
 * gradients with β = 1 (or β = 0 into a fresh buffer).
 *
 * For C = op(A)·op(B):  dA = dC·op(B)ᵀ  (stored Aᵀ: op(B)·dCᵀ),  dB = op(A)ᵀ·dC  (stored Bᵀ: dCᵀ·op(A)).
 */
import { backend } from '../../backend/index.ts';
import { matmul as matmulForward } from '../../tensor/matmul.ts';
import { Tensor, allocate } from '../../tensor/tensor.ts';
import { assertSameDtype, lastDim, shapeText } from '../check.ts';
import { accumulateColumnSums } from '../kernels.ts';
import { takeGradBuffer } from '../grad-pool.ts';
import { gradBuffer, gradTarget, record } from '../graph.ts';
import type { Var } from '../var.ts';

export interface MatmulFlags {
  transA?: boolean;
  transB?: boolean;
}

/** How one (possibly batched) product lays out its operands: batch i uses offsets i·stride. */
interface GemmLayout {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** Leading dimensions of the stored A and B (their column counts). */
  lda: number;
  ldb: number;
  strideA: number;
  strideB: number;
}

function layoutOf(a: Var, b: Var, transA: boolean, transB: boolean): GemmLayout {
  const A = a.value, B = b.value;
  if (B.ndim === 2 && !(transA && A.ndim > 2)) {
    // one GEMM: A's leading axes flatten into rows (tensor/matmul's rule)
    const k = transA ? A.dim(-2) : A.dim(-1);
    const m = A.size / k;
    const n = transB ? B.shape[0] : B.shape[1];
    return { batch: 1, m, n, k, transA, transB, lda: transA ? m : k, ldb: B.shape[1], strideA: 0, strideB: 0 };
  }
  const [ar, ac] = [A.dim(-2), A.dim(-1)];
  const [br, bc] = [B.dim(-2), B.dim(-1)];
  return {
    batch: A.size / (ar * ac), m: transA ? ac : ar, n: transB ? br : bc, k: transA ? ar : ac,
    transA, transB, lda: ac, ldb: bc, strideA: ar * ac, strideB: br * bc,
  };
}

/**
 * op(A)·op(B) with the shapes of src/tensor/matmul: A [..., m, k] × B [k, n] flattens A's leading
 * axes into rows; equal leading batch axes give a batched product.
 */
export function matmul(a: Var, b: Var, flags: MatmulFlags = {}): Var {
  assertSameDtype('matmul', a, b);
  const transA = flags.transA ?? false;
  const transB = flags.transB ?? false;
  const value = matmulForward(a.value, b.value, { transA, transB });
  const L = layoutOf(a, b, transA, transB);
  return record('matmul', value, [a, b], (g) => {
    const be = backend();
    const dC = g.data;
    const strideC = L.m * L.n;
    if (a.requiresGrad) {
      const { grad, beta } = gradTarget(a);
      for (let i = 0; i < L.batch; i++) {
        const dCi = dC.subarray(i * strideC);
        const Bi = b.value.data.subarray(i * L.strideB);
        const dAi = grad.data.subarray(i * L.strideA);
        if (!L.transA) {
          be.gemm({ transA: false, transB: !L.transB, m: L.m, n: L.k, k: L.n, alpha: 1, a: dCi, lda: L.n, b: Bi, ldb: L.ldb, beta, c: dAi, ldc: L.lda });
        } else {
          be.gemm({ transA: L.transB, transB: true, m: L.k, n: L.m, k: L.n, alpha: 1, a: Bi, lda: L.ldb, b: dCi, ldb: L.n, beta, c: dAi, ldc: L.lda });
        }
      }
    }
    if (b.requiresGrad) {
      const { grad, beta } = gradTarget(b);
      for (let i = 0; i < L.batch; i++) {
        const dCi = dC.subarray(i * strideC);
        const Ai = a.value.data.subarray(i * L.strideA);
        const dBi = grad.data.subarray(i * L.strideB);
        if (!L.transB) {
          be.gemm({ transA: !L.transA, transB: false, m: L.k, n: L.n, k: L.m, alpha: 1, a: Ai, lda: L.lda, b: dCi, ldb: L.n, beta, c: dBi, ldc: L.ldb });
        } else {
          be.gemm({ transA: true, transB: L.transA, m: L.n, n: L.k, k: L.m, alpha: 1, a: dCi, lda: L.n, b: Ai, ldb: L.lda, beta, c: dBi, ldc: L.ldb });
        }
      }
    }
  });
}

/**
 * A fully connected layer, PyTorch convention: y = x·Wᵀ + b with W [out, in], b [out], x [..., in].
 * Backward: dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy.
 */
export function linear(x: Var, weight: Var, bias?: Var): Var {
  assertSameDtype('linear', x, weight, bias);
  const inDim = lastDim('linear', x);
  if (weight.value.ndim !== 2 || weight.value.shape[1] !== inDim) {
    throw new Error(`linear: weight ${shapeText(weight)} does not take inputs ${shapeText(x)} (expected [out, ${inDim}])`);
  }
  const outDim = weight.value.shape[0];
  if (bias && bias.value.size !== outDim) {
    throw new Error(`linear: bias ${shapeText(bias)} does not match ${outDim} outputs of weight ${shapeText(weight)}`);
  }
  const rows = x.value.size / inDim;
  // the bias is copied into every output row first, then the GEMM adds x·Wᵀ onto it (β = 1); either
  // way every element is written, so idle pooled storage (a recycled activation) needs no zeroing
  const storage = takeGradBuffer(x.value.dtype, rows * outDim) ?? allocate(x.value.dtype, rows * outDim);
  const value = new Tensor(storage, [...x.value.shape.slice(0, -1), outDim]);
  if (bias) for (let r = 0; r < rows; r++) value.data.set(bias.value.data, r * outDim);
  matmulForward(x.value, weight.value, { transB: true, out: value, beta: bias ? 1 : 0 });
  return record('linear', value, [x, weight, bias], (g) => {
    const be = backend();
    const dY = g.data;
    if (x.requiresGrad) {
      const { grad, beta } = gradTarget(x);
      be.gemm({ transA: false, transB: false, m: rows, n: inDim, k: outDim, alpha: 1, a: dY, lda: outDim, b: weight.value.data, ldb: inDim, beta, c: grad.data, ldc: inDim });
    }
    if (weight.requiresGrad) {
      const { grad, beta } = gradTarget(weight);
      be.gemm({ transA: true, transB: false, m: outDim, n: inDim, k: rows, alpha: 1, a: dY, lda: outDim, b: x.value.data, ldb: inDim, beta, c: grad.data, ldc: inDim });
    }
    if (bias?.requiresGrad) accumulateColumnSums(gradBuffer(bias).data, dY, outDim, 1);
  });
}
