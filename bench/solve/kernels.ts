/**
 * Two kernel choices of the linearity statistics and solve, timed interleaved (medians over --reps):
 * - the Gram update of one 1024-row chunk at d (the statistics, moments.ts): the block-upper-triangle
 *   panel GEMMs linscope used vs one `cblas_dsyrk` (what it uses since this measurement);
 * - the N × N eigendecomposition of the token-side solve with vectors: `dsyevd` (divide and
 *   conquer, what linscope calls) vs `dsyevr` (MRRR).
 *
 *   node --import tsx bench/solve/kernels.ts --dim 4096 --tokens 2048 --threads 1,2 --reps 3
 */
import koffi from 'koffi';
import { parseArgs } from 'node:util';
import { backend } from '../../src/backend/index.ts';
import { gramPanelWidth, symmetrizeUpper } from '../../src/analysis/moments.ts';
import { Rng } from '../../src/tensor/random.ts';

const { values } = parseArgs({ options: { dim: { type: 'string', default: '4096' }, tokens: { type: 'string', default: '2048' }, threads: { type: 'string', default: '1,2' }, reps: { type: 'string', default: '3' } } });
const d = Number(values.dim);
const n = Number(values.tokens);
const blas = koffi.load('libopenblas.so.0');
const lapacke = koffi.load('liblapacke.so.3');
const dsyrk = blas.func('void cblas_dsyrk(int, int, int, int, int, double, const void *, int, double, void *, int)');
const dsyevd = lapacke.func('int LAPACKE_dsyevd(int, char, char, int, void *, int, void *)');
const dsyevr = lapacke.func('int LAPACKE_dsyevr(int, char, char, char, int, void *, int, double, double, int, int, double, _Out_ int *, void *, void *, int, void *)');
const ch = (c: string) => c.charCodeAt(0);

const rng = new Rng(1);
const chunk = Float64Array.from({ length: 1024 * d }, () => rng.normal());
const rows = Float64Array.from({ length: n * d }, () => rng.normal());
const gram = new Float64Array(n * n);
backend().syrkUpper(rows, n, d, false, gram);
symmetrizeUpper(gram, n);

function panels(): void {
  const g = new Float64Array(d * d);
  const width = gramPanelWidth(d);
  for (let s = 0; s < d; s += width) {
    const m = Math.min(width, d - s);
    backend().gemm({ transA: true, transB: false, m, n: d - s, k: 1024, alpha: 1, a: chunk.subarray(s), lda: d, b: chunk.subarray(s), ldb: d, beta: 1, c: g.subarray(s * d + s), ldc: d });
  }
}
function syrk(): void {
  const g = new Float64Array(d * d);
  dsyrk(101, 121, 112, d, 1024, 1, chunk, d, 1, g, d);
}
function syevd(): void {
  const w = new Float64Array(n);
  dsyevd(101, ch('V'), ch('U'), n, gram.slice(), n, w);
}
function syevr(): void {
  const w = new Float64Array(n);
  const z = new Float64Array(n * n);
  dsyevr(101, ch('V'), ch('A'), ch('U'), n, gram.slice(), n, 0, 0, 0, 0, 0, [0], w, z, n, new Int32Array(2 * n));
}
const time = (f: () => void) => {
  const t = performance.now();
  f();
  return (performance.now() - t) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log('| kernel | threads | A s | B s | B/A |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const threads of values.threads!.split(',').map(Number)) {
  backend().setThreads(threads);
  for (const [name, a, b] of [[`Gram of 1024 rows, d ${d}: panel GEMMs (A) vs dsyrk (B)`, panels, syrk], [`eigh N ${n} with vectors: dsyevd (A) vs dsyevr (B)`, syevd, syevr]] as const) {
    const ta: number[] = [];
    const tb: number[] = [];
    for (let r = 0; r < Number(values.reps); r++) {
      if (r % 2 === 0) { ta.push(time(a)); tb.push(time(b)); } else { tb.push(time(b)); ta.push(time(a)); }
    }
    console.log(`| ${name} | ${threads} | ${median(ta).toFixed(3)} | ${median(tb).toFixed(3)} | ${(median(tb) / median(ta)).toFixed(2)} |`);
  }
}
