/**
 * The base of 2-D weights held in another form than a dense array (`LowRankWeight`: two factors;
 * `HalfWeight`: the stored 16-bit bits), whose values are those of the dense matrix `dense()`
 * returns. It gives them every public member of `Tensor` once: `data` materialises `dense()` on
 * demand (a fresh array — writing into it does not change the weight; `setWeight` does), cached
 * through a WeakRef so a loop reading `w.data[i]` materialises once per synchronous job and the dense
 * copy is not kept alive by the weight; `clone`, `to`, `reshape`, `slice0` and `row` return dense
 * tensors (a subclass may override them with cheaper ones).
 */
import { Tensor, sizeOf, type DType, type TypedArray } from './tensor.ts';

export abstract class LazyWeight {
  abstract readonly shape: readonly number[];
  private cache?: WeakRef<TypedArray>;

  /** The weight as a new dense tensor. */
  abstract dense(): Tensor;

  abstract get dtype(): DType;

  abstract get(...index: number[]): number;

  abstract toString(): string;

  get data(): TypedArray {
    let d = this.cache?.deref();
    if (!d) {
      d = this.dense().data;
      this.cache = new WeakRef(d);
    }
    return d;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get ndim(): number {
    return 2;
  }

  dim(i: number): number {
    const a = i < 0 ? 2 + i : i;
    if (a !== 0 && a !== 1) throw new Error(`${this.constructor.name}.dim: axis ${i} out of range for shape [${this.shape.join(', ')}]`);
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

  toArray(): number[] {
    return Array.from(this.data);
  }
}

/*
 * `w instanceof Tensor` holds too, so code that branches on it (safetensors writing, comparisons)
 * treats such a weight as the dense tensor it stands for. Every public member of Tensor is defined
 * here or in the subclass on the dense values, so nothing of Tensor's own implementation is reached.
 */
Object.setPrototypeOf(LazyWeight.prototype, Tensor.prototype);
