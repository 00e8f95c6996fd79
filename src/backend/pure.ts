/** The portable backend: everything in plain TypeScript. Slow, exact enough for tests, no native code. */
import type { TypedArray } from '../tensor/tensor.ts';
import type { Backend, EighResult, GemmArgs, SvdResult } from './backend.ts';
import { pureGemm } from './pure-gemm.ts';
import * as lapack from './pure-lapack.ts';

export class PureBackend implements Backend {
  readonly name = 'pure-ts' as const;
  gemm(g: GemmArgs): void {
    pureGemm(g);
  }
  gesdd<T extends TypedArray>(a: T, m: number, n: number, vectors: boolean): SvdResult<T> {
    return lapack.svd(a, m, n, vectors);
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
  orthonormalize<T extends TypedArray>(a: T, m: number, n: number): T {
    return lapack.orthonormalize(a, m, n);
  }
  threads(): number {
    return 1;
  }
  setThreads(): void {}
}
