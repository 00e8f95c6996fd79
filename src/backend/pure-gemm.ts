/**
 * GEMM in plain TypeScript: operands are first brought to "A row-major, B row-major" form, then an
 * i-k-j loop with a register-held A element streams rows of B and C (cache friendly, JIT friendly).
 */
import type { TypedArray } from '../tensor/tensor.ts';
import type { GemmArgs } from './backend.ts';

/** Copy op(X) (r × c after the op) into a dense row-major array. */
function materialize(x: TypedArray, ld: number, trans: boolean, r: number, c: number): TypedArray {
  const out = x instanceof Float64Array ? new Float64Array(r * c) : new Float32Array(r * c);
  if (trans) {
    // x holds c × r with leading dimension ld; out[i][j] = x[j][i]
    for (let j = 0; j < c; j++) {
      const base = j * ld;
      for (let i = 0; i < r; i++) out[i * c + j] = x[base + i];
    }
  } else {
    for (let i = 0; i < r; i++) out.set(x.subarray(i * ld, i * ld + c), i * c);
  }
  return out;
}

export function pureGemm(g: GemmArgs): void {
  const { m, n, k, alpha, beta, c, ldc } = g;
  const a = g.transA || g.lda !== k ? materialize(g.a, g.lda, g.transA, m, k) : g.a;
  const b = g.transB || g.ldb !== n ? materialize(g.b, g.ldb, g.transB, k, n) : g.b;
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    const aRow = i * k;
    for (let p = 0; p < k; p++) {
      const av = a[aRow + p];
      if (av === 0) continue;
      const bRow = p * n;
      for (let j = 0; j < n; j++) acc[j] += av * b[bRow + j];
    }
    const cRow = i * ldc;
    if (beta === 0) for (let j = 0; j < n; j++) c[cRow + j] = alpha * acc[j];
    else for (let j = 0; j < n; j++) c[cRow + j] = alpha * acc[j] + beta * c[cRow + j];
  }
}
