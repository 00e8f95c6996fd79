/**
 * A 2-D weight held as two factors: W = L·R with L [m, r] and R [r, n], in the *stored* orientation
 * of the tensor it stands for ([out, in] for a PyTorch Linear, [in, out] for a GPT-2 Conv1D).
 *
 * It saves memory and multiply-adds when r·(m + n) < m·n: a product with W is two thin GEMMs,
 *
 *     x·W  = (x·L)·R          (GPT-2 Conv1D, y = x·W)
 *     x·Wᵀ = (x·Rᵀ)·Lᵀ        (Linear, y = x·Wᵀ)
 *
 * i.e. 2·r·(m + n) instead of 2·m·n flops per row of x. `matmul` (src/tensor/matmul.ts) dispatches
 * on it, so architectures run it through `linear`/`project` unchanged.
 *
 * It is a `LazyWeight` (lazy-weight.ts), so it can be handed wherever a weight is expected: its
 * values are those of L·R, and `get` reads one of them from the factors.
 */
import { backend } from '../backend/index.ts';
import { LazyWeight } from './lazy-weight.ts';
import { Tensor, type DType } from './tensor.ts';

export class LowRankWeight extends LazyWeight {
  readonly left: Tensor;
  readonly right: Tensor;
  readonly shape: readonly number[];

  constructor(left: Tensor, right: Tensor) {
    super();
    if (left.ndim !== 2 || right.ndim !== 2 || left.shape[1] !== right.shape[0]) {
      throw new Error(`LowRankWeight: factors must be [m, r] and [r, n], got ${left} and ${right}`);
    }
    if (left.dtype !== right.dtype) throw new Error(`LowRankWeight: factor dtypes differ (${left.dtype} vs ${right.dtype})`);
    this.left = left;
    this.right = right;
    this.shape = Object.freeze([left.shape[0], right.shape[1]]);
  }

  /** Kept rank r. */
  get rank(): number {
    return this.left.shape[1];
  }

  /** Elements held: r·(m + n). */
  get storedSize(): number {
    return this.left.size + this.right.size;
  }

  /** Same factors converted to `dtype` (this when it already matches). */
  withDtype(dtype: DType): LowRankWeight {
    return dtype === this.dtype ? this : new LowRankWeight(this.left.to(dtype), this.right.to(dtype));
  }

  /** W = L·R as a new dense tensor. */
  dense(): Tensor {
    const [m, r] = this.left.shape;
    const n = this.right.shape[1];
    const out = Tensor.zeros([m, n], this.dtype);
    backend().gemm({ transA: false, transB: false, m, n, k: r, alpha: 1, a: this.left.data, lda: r, b: this.right.data, ldb: n, beta: 0, c: out.data, ldc: n });
    return out;
  }

  // ---- the Tensor interface beyond LazyWeight's (values are those of L·R) ----

  get dtype(): DType {
    return this.left.dtype;
  }

  get(...index: number[]): number {
    const [i, j] = index;
    const r = this.rank, n = this.shape[1];
    let s = 0;
    for (let k = 0; k < r; k++) s += this.left.data[i * r + k] * this.right.data[k * n + j];
    return s;
  }

  toString(): string {
    return `LowRankWeight(${this.dtype}, [${this.shape.join(', ')}], rank ${this.rank})`;
  }
}

/** Whether a weight is held in factored form. */
export function isLowRank(w: unknown): w is LowRankWeight {
  return w instanceof LowRankWeight;
}

/** Elements a weight really holds: r·(m + n) when factored, its size when dense. */
export function storedElements(w: Tensor | LowRankWeight): number {
  return isLowRank(w) ? w.storedSize : w.size;
}
