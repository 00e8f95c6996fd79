/**
 * LAPACK-equivalent routines in plain TypeScript for the pure-ts backend (computed in float64,
 * returned in the input's dtype). Placeholder: to be implemented.
 */
import type { TypedArray } from '../tensor/tensor.ts';
import type { EighResult, SvdResult } from './backend.ts';

const todo = (what: string): never => {
  throw new Error(`pure-ts backend: ${what} is not implemented yet`);
};
export function svd<T extends TypedArray>(_a: T, _m: number, _n: number, _vectors: boolean): SvdResult<T> {
  return todo('svd');
}
export function eigh<T extends TypedArray>(_a: T, _n: number, _vectors: boolean): EighResult<T> {
  return todo('eigh');
}
export function leastSquares<T extends TypedArray>(_a: T, _m: number, _n: number, _b: T, _nrhs: number): T {
  return todo('leastSquares');
}
export function choleskySolve<T extends TypedArray>(_a: T, _n: number, _b: T, _nrhs: number): T | null {
  return todo('choleskySolve');
}
export function orthonormalize<T extends TypedArray>(_a: T, _m: number, _n: number): T {
  return todo('orthonormalize');
}
