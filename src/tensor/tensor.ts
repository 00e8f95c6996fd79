/**
 * A dense, contiguous, row-major tensor: a typed array plus a shape.
 *
 * Views are kept deliberately simple: `reshape` and `slice0`/`row` (ranges along the first axis)
 * share memory with their source; anything that needs a transpose passes a flag to `matmul`
 * instead of building a strided view. That keeps every kernel a tight loop over a flat array.
 */
export type DType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array;

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Arrays at least this long are looked for among recycled storage first (smaller ones are cheap to make). */
const RECYCLE_MIN = 4096;
let recycled: ((dtype: DType, n: number) => TypedArray | undefined) | null = null;

/**
 * Where `allocate` looks first for idle storage of exactly n elements: autograd's buffer pool
 * (src/autograd/grad-pool.ts) registers itself, so a training step reuses the memory of the last
 * step's dead activations and gradients instead of faulting in fresh pages (and leaving the old ones
 * to the garbage collector).
 */
export function setRecycledStorage(take: ((dtype: DType, n: number) => TypedArray | undefined) | null): void {
  recycled = take;
}

/** A zero-filled array of n elements (recycled storage when some is idle, zeroed here). */
export function allocate(dtype: DType, n: number): TypedArray {
  if (recycled !== null && n >= RECYCLE_MIN) {
    const r = recycled(dtype, n);
    if (r !== undefined) return r.fill(0);
  }
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/**
 * An array of n elements whose contents are unspecified, for outputs that a kernel overwrites
 * entirely (a GEMM with β = 0, a norm, an elementwise sum). Large ones skip the zero-fill that
 * `new Float32Array` does: recycled storage as it is, or memory from `Buffer.allocUnsafeSlow`
 * (the C heap, without calloc's clearing). On the linearity job that clearing was 1.2 % of the
 * CPU time, and OpenBLAS clears a β = 0 output itself.
 */
export function allocateUninitialized(dtype: DType, n: number): TypedArray {
  if (n < RECYCLE_MIN) return allocate(dtype, n);
  const r = recycled?.(dtype, n);
  if (r !== undefined) return r;
  const bytes = Buffer.allocUnsafeSlow(n * (dtype === 'float64' ? 8 : 4));
  return dtype === 'float64' ? new Float64Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.buffer, bytes.byteOffset, n);
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

export class Tensor {
  readonly data: TypedArray;
  readonly shape: readonly number[];

  constructor(data: TypedArray, shape: readonly number[]) {
    const n = sizeOf(shape);
    if (n !== data.length) {
      throw new Error(`Tensor: shape [${shape.join(', ')}] holds ${n} elements but data has ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  static zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return new Tensor(allocate(dtype, sizeOf(shape)), shape);
  }

  static full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    t.data.fill(value);
    return t;
  }

  static from(values: ArrayLike<number>, shape?: readonly number[], dtype: DType = 'float32'): Tensor {
    const data = dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
    return new Tensor(data, shape ?? [data.length]);
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Size of axis `i`; negative axes count from the end. */
  dim(i: number): number {
    const a = i < 0 ? this.shape.length + i : i;
    if (a < 0 || a >= this.shape.length) throw new Error(`Tensor.dim: axis ${i} out of range for shape [${this.shape.join(', ')}]`);
    return this.shape[a];
  }

  /** A view with a new shape (one axis may be -1). */
  reshape(...shape: number[]): Tensor {
    const known = shape.filter((d) => d !== -1);
    const free = shape.length - known.length;
    if (free > 1) throw new Error('Tensor.reshape: at most one axis may be -1');
    if (free === 1) {
      const rest = sizeOf(known);
      shape = shape.map((d) => (d === -1 ? this.size / rest : d));
    }
    return new Tensor(this.data, shape);
  }

  /** A view of rows [start, end) along the first axis. */
  slice0(start: number, end: number): Tensor {
    if (start < 0 || end > this.shape[0] || start > end) {
      throw new Error(`Tensor.slice0: [${start}, ${end}) out of range for first axis ${this.shape[0]}`);
    }
    const inner = this.size / this.shape[0];
    return new Tensor(this.data.subarray(start * inner, end * inner), [end - start, ...this.shape.slice(1)]);
  }

  /** A view of entry `i` along the first axis (drops that axis). */
  row(i: number): Tensor {
    return this.slice0(i, i + 1).reshape(...this.shape.slice(1));
  }

  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Copy converted to `dtype` (a plain copy when the dtype already matches). */
  to(dtype: DType): Tensor {
    if (dtype === this.dtype) return this.clone();
    const out = allocate(dtype, this.size);
    out.set(this.data);
    return new Tensor(out, this.shape);
  }

  /** Element at a full index. Meant for tests and small lookups, not for loops. */
  get(...index: number[]): number {
    let flat = 0;
    for (let i = 0; i < this.shape.length; i++) flat = flat * this.shape[i] + index[i];
    return this.data[flat];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}
