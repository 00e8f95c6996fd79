/** Moore–Penrose pseudo-inverse through the thin SVD. */
import { Tensor } from '../tensor/tensor.ts';
import { matmul } from '../tensor/matmul.ts';
import { matrixShape, workDtype, type PrecisionOptions } from './matrix.ts';
import { svd } from './svd.ts';

export interface PinvOptions extends PrecisionOptions {
  /**
   * Singular values ≤ rcond·σ_max are treated as zero. Default max(m, n)·ε of the computing dtype
   * (NumPy's default for `pinv`).
   */
  rcond?: number;
}

const EPSILON = { float32: 2 ** -23, float64: 2 ** -52 } as const;

/** A⁺ = V·diag(1/σ)·Uᵀ [n, m] for A [m, n], dropping σ ≤ rcond·σ_max. */
export function pinv(a: Tensor, opts: PinvOptions = {}): Tensor {
  const [m, n] = matrixShape(a, 'pinv');
  const dtype = workDtype(a, opts);
  const rcond = opts.rcond ?? Math.max(m, n) * EPSILON[dtype];
  const { U, S, Vt } = svd(a, { float64: opts.float64 });
  const k = S.size;
  const cutoff = k > 0 ? rcond * S.data[0] : 0;
  // rows of Vᵀ scaled by 1/σ (0 for dropped values), then A⁺ = (Σ⁺Vᵀ)ᵀ·Uᵀ
  const scaled = Vt.clone();
  for (let i = 0; i < k; i++) {
    const sigma = S.data[i];
    const f = sigma > cutoff ? 1 / sigma : 0;
    const row = scaled.data.subarray(i * n, (i + 1) * n);
    for (let j = 0; j < n; j++) row[j] *= f;
  }
  return matmul(scaled, U, { transA: true, transB: true });
}
