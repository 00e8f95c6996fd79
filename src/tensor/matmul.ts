/** Matrix products through the active backend's GEMM. */
import { backend } from '../backend/index.ts';
import { gemmOrSlabs, isPlainTransposedProduct } from './few-row-gemm.ts';
import { fewRowHalfProduct, forEachDecodedSlab, isHalf, oneRowHalfProduct, type HalfWeight } from './half-weight.ts';
import { isLowRank, type LowRankWeight } from './low-rank.ts';
import { ACT, allFloat32, kernelThreads, nativeKernels } from './native-kernels.ts';
import { Tensor, allocate, allocateUninitialized } from './tensor.ts';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** Accumulate into this tensor (C ← α·AB + β·C). */
  out?: Tensor;
  alpha?: number;
  beta?: number;
}

/**
 * op(A)·op(B). A may be [..., m, k] (leading axes are flattened into rows when B is 2-D, so a
 * [B, T, K] × [K, N] product is one GEMM); when both have the same leading batch axes the product is
 * batched. B 2-D: [k, n] (or [n, k] with transB).
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  if (isLowRank(b)) return matmulLowRank(a, b, opts);
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  if (a.dtype !== b.dtype) throw new Error(`matmul: dtype mismatch ${a.dtype} vs ${b.dtype}`);
  if (b.ndim === 2 && !(transA && a.ndim > 2)) {
    const k = transA ? a.dim(-2) : a.dim(-1);
    const m = a.size / k;
    const [bk, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
    if (bk !== k) throw new Error(`matmul: inner dimensions differ: ${a} × ${b}${transB ? 'ᵀ' : ''}`);
    const outShape = transA ? [a.dim(-1), n] : [...a.shape.slice(0, -1), n];
    const beta = opts.beta ?? 0;
    // β = 0 overwrites every element of a fresh output (OpenBLAS clears it first, the TS GEMM never reads it)
    const out = opts.out ?? new Tensor(beta === 0 ? allocateUninitialized(a.dtype, m * n) : allocate(a.dtype, m * n), outShape);
    if (isHalf(b)) {
      matmulHalf(a, b, out, { transA, transB, m, n, k, alpha: opts.alpha ?? 1, beta });
      return out;
    }
    const be = backend();
    const args = {
      transA, transB, m, n, k, alpha: opts.alpha ?? 1,
      a: a.data, lda: transA ? m : k,
      b: b.data, ldb: b.shape[1],
      beta, c: out.data, ldc: n,
    };
    gemmOrSlabs(be, args);
    return out;
  }
  // batched: [..., m, k] × [..., k, n]
  const batchShape = a.shape.slice(0, -2);
  const batch = batchShape.reduce((x, y) => x * y, 1);
  if (b.size / (b.dim(-1) * b.dim(-2)) !== batch) throw new Error(`matmul: batch shapes differ: ${a} × ${b}`);
  const [ar, ac] = [a.dim(-2), a.dim(-1)];
  const [br, bc] = [b.dim(-2), b.dim(-1)];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [bk, n] = transB ? [bc, br] : [br, bc];
  if (bk !== k) throw new Error(`matmul: inner dimensions differ: ${a} × ${b}`);
  const out = opts.out ?? new Tensor(allocate(a.dtype, batch * m * n), [...batchShape, m, n]);
  const be = backend();
  for (let i = 0; i < batch; i++) {
    be.gemm({
      transA, transB, m, n, k, alpha: opts.alpha ?? 1,
      a: a.data.subarray(i * ar * ac, (i + 1) * ar * ac), lda: ac,
      b: b.data.subarray(i * br * bc, (i + 1) * br * bc), ldb: bc,
      beta: opts.beta ?? 0, c: out.data.subarray(i * m * n, (i + 1) * m * n), ldc: n,
    });
  }
  return out;
}

/**
 * op(A)·op(W) with W kept as BF16/F16 (src/tensor/half-weight.ts): W is decoded a slab of output
 * columns at a time into a reused float32 scratch, each slab one float32 GEMM into its columns of C
 * (ldc = n), so each output element is the float32 dot product it is with the decoded weight.
 */
function matmulHalf(a: Tensor, b: HalfWeight, out: Tensor,
  g: { transA: boolean; transB: boolean; m: number; n: number; k: number; alpha: number; beta: number }): void {
  const be = backend();
  if (a.data instanceof Float32Array && out.data instanceof Float32Array) {
    if (g.m === 1 && isPlainTransposedProduct(g)) {
      oneRowHalfProduct(b, a.data, out.data);
      return;
    }
    if (fewRowHalfProduct(be, b, a.data, out.data, g)) return;
  }
  forEachDecodedSlab(b, g.transB, g.m, (slab, ldb, col0, cols) => {
    const args = {
      transA: g.transA, transB: g.transB, m: g.m, n: cols, k: g.k, alpha: g.alpha,
      a: a.data, lda: g.transA ? g.m : g.k,
      b: slab, ldb,
      beta: g.beta, c: out.data.subarray(col0), ldc: g.n,
    };
    gemmOrSlabs(be, args);
  });
}

/**
 * op(A)·B with B = L·R held as factors (src/tensor/low-rank.ts): two thin GEMMs,
 * op(A)·L·R, or op(A)·Rᵀ·Lᵀ for transB. `out`, α and β apply to the second product.
 */
function matmulLowRank(a: Tensor, b: LowRankWeight, opts: MatmulOptions): Tensor {
  const transB = opts.transB ?? false;
  const thin = matmul(a, transB ? b.right : b.left, { transA: opts.transA, transB });
  return matmul(thin, transB ? b.left : b.right, { transB, out: opts.out, alpha: opts.alpha, beta: opts.beta });
}

/**
 * A fully connected layer in the PyTorch convention: y = x·Wᵀ + b with W of shape [out, in].
 * x is [..., in]; y is [..., out].
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const y = matmul(x, weight, { transB: true });
  if (bias) addRowVectorInPlace(y, bias);
  return y;
}

/** y[..., j] += v[j] for every row. */
export function addRowVectorInPlace(y: Tensor, v: Tensor): void {
  const n = v.size;
  const yd = y.data;
  const vd = v.data;
  if (y.dim(-1) !== n) throw new Error(`addRowVector: last axis ${y.dim(-1)} vs vector ${n}`);
  const native = nativeKernels();
  if (native && allFloat32(yd, vd)) return native.biasActivate(yd as Float32Array, vd as Float32Array, yd.length / n, n, ACT.none, kernelThreads());
  for (let off = 0; off < yd.length; off += n) {
    for (let j = 0; j < n; j++) yd[off + j] += vd[j];
  }
}
