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
 * It has every public member of `Tensor`, so it can be handed wherever a weight is expected. Code
 * that reads values gets correct ones: `data` materialises L·R on demand (a fresh dense array —
 * writing into it does not change the weight; `setWeight` does). The array is cached through a
 * WeakRef, so a loop reading `w.data[i]` multiplies once per synchronous job and the dense copy is
 * not kept alive by the weight. `clone`, `to`, `reshape`, `slice0` and `row` return dense tensors.
 */
import { backend } from '../backend/index.ts';
import { Tensor, sizeOf, type DType, type TypedArray } from './tensor.ts';

export class LowRankWeight {
  readonly left: Tensor;
  readonly right: Tensor;
  readonly shape: readonly number[];
  private cache?: WeakRef<TypedArray>;

  constructor(left: Tensor, right: Tensor) {
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

  // ---- the Tensor interface (values are those of L·R) ----

  get data(): TypedArray {
    let d = this.cache?.deref();
    if (!d) {
      d = this.dense().data;
      this.cache = new WeakRef(d);
    }
    return d;
  }

  get dtype(): DType {
    return this.left.dtype;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get ndim(): number {
    return 2;
  }

  dim(i: number): number {
    const a = i < 0 ? 2 + i : i;
    if (a !== 0 && a !== 1) throw new Error(`LowRankWeight.dim: axis ${i} out of range for shape [${this.shape.join(', ')}]`);
    return this.shape[a];
  }

  reshape(...shape: number[]): Tensor {
    return this.dense().reshape(...shape);
  }

  slice0(start: number, end: number): Tensor {
    return this.dense().slice0(start, end);
  }

  row(i: number): Tensor {
    return this.dense().row(i);
  }

  clone(): Tensor {
    return this.dense();
  }

  to(dtype: DType): Tensor {
    return this.dense().to(dtype);
  }

  get(...index: number[]): number {
    const [i, j] = index;
    const r = this.rank, n = this.shape[1];
    let s = 0;
    for (let k = 0; k < r; k++) s += this.left.data[i * r + k] * this.right.data[k * n + j];
    return s;
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  toString(): string {
    return `LowRankWeight(${this.dtype}, [${this.shape.join(', ')}], rank ${this.rank})`;
  }
}

/*
 * `w instanceof Tensor` holds too, so code that branches on it (safetensors writing, comparisons)
 * treats a factored weight as the dense tensor it stands for. Every public member of Tensor is
 * defined above on values of L·R, so nothing of Tensor's own implementation is reached.
 */
Object.setPrototypeOf(LowRankWeight.prototype, Tensor.prototype);

/** Whether a weight is held in factored form. */
export function isLowRank(w: unknown): w is LowRankWeight {
  return w instanceof LowRankWeight;
}

/** Elements a weight really holds: r·(m + n) when factored, its size when dense. */
export function storedElements(w: Tensor | LowRankWeight): number {
  return isLowRank(w) ? w.storedSize : w.size;
}
