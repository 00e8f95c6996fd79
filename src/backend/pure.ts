/** The portable backend: everything in plain TypeScript. Slow, exact enough for tests, no native code. */
import type { TypedArray } from '../tensor/tensor.ts';
import { checkComponentRange, type Backend, type EighResult, type GemmArgs, type SvdResult } from './backend.ts';
import { pureGemm } from './pure-gemm.ts';
import * as cholesky from './pure-cholesky.ts';
import * as lapack from './pure-lapack.ts';

export class PureBackend implements Backend {
  readonly name = 'pure-ts' as const;
  gemm(g: GemmArgs): void {
    pureGemm(g);
  }
  gesdd<T extends TypedArray>(a: T, m: number, n: number, vectors: boolean): SvdResult<T> {
    return lapack.svd(a, m, n, vectors);
  }
  gesddPart(a: Float64Array, n: number, first: number, count: number): { s: Float64Array; u: Float64Array; vt: Float64Array } {
    checkComponentRange(first, count, n);
    const { s, u, vt } = lapack.svd(a, n, n, true);
    const uOut = new Float64Array(n * count);
    for (let i = 0; i < n; i++) uOut.set(u!.subarray(i * n + first, i * n + first + count), i * count);
    return { s, u: uOut, vt: vt!.slice(first * n, (first + count) * n) };
  }
  syevd<T extends TypedArray>(a: T, n: number, vectors: boolean): EighResult<T> {
    return lapack.eigh(a, n, vectors);
  }
  gels<T extends TypedArray>(a: T, m: number, n: number, b: T, nrhs: number): T {
    return lapack.leastSquares(a, m, n, b, nrhs);
  }
  posv<T extends TypedArray>(a: T, n: number, b: T, nrhs: number): T | null {
    return lapack.choleskySolve(a, n, b, nrhs);
  }
  potrf(a: Float64Array, n: number): Float64Array | null {
    return cholesky.potrf(a, n);
  }
  trsm(l: Float64Array, n: number, b: Float64Array, nrhs: number, transpose: boolean): void {
    cholesky.trsm(l, n, b, nrhs, transpose);
  }
  potri(l: Float64Array, n: number): Float64Array {
    return cholesky.potri(l, n);
  }
  syrkUpper(a: Float64Array, rows: number, cols: number, transpose: boolean, c: Float64Array): void {
    cholesky.syrkUpper(a, rows, cols, transpose, c);
  }
  gelqf(a: Float64Array, m: number, n: number): { lq: Float64Array; tau: Float64Array } {
    return lapack.lqFactor(a, m, n);
  }
  ormlq(lq: Float64Array, tau: Float64Array, m: number, n: number, c: Float64Array, rows: number): void {
    lapack.applyLqQ(lq, tau, m, n, c, rows);
  }
  orthonormalize<T extends TypedArray>(a: T, m: number, n: number): T {
    return lapack.orthonormalize(a, m, n);
  }
  threads(): number {
    return 1;
  }
  setThreads(): void {}
}
