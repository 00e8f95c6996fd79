/**
 * The linearity pair solve, before vs after the single-eigendecomposition rewrite, interleaved:
 * random centred statistics (C_xx from N = 1.25·d rows with a decaying column scale, C_xd from a
 * partly linear target) at d = 1024, 2048, 4096, 1 and 2 BLAS threads; per d and thread count the
 * runs alternate baseline/new, and the table gives medians and the largest |Δ score| between them.
 *
 *   node --import tsx bench/solve.ts                    # d = 1024, 2048, 4096; threads 1, 2
 *   node --import tsx bench/solve.ts --dims 1024,2048 --threads 2 --rounds 3
 *
 * `baseline` = bench/solve/baseline.ts (syevd + a GEMM per target + Cholesky ridge);
 * `new` = solvePairLinearity (one syevd + one GEMM for both targets and both solvers; since the
 * Cholesky path it is `solvePairLinearity`'s own choice, which for these N = 1.25·d statistics is
 * the certified Cholesky factors). The paths of today's solve: bench/solve-paths.ts.
 */
import { parseArgs } from 'node:util';
import { backend } from '../src/backend/index.ts';
import { solvePairLinearity, type PairLinearity } from '../src/analysis/linearity-solve.ts';
import type { CentredPairStatistics } from '../src/analysis/linearity-statistics.ts';
import { Rng } from '../src/tensor/random.ts';
import { solvePairBaseline } from './solve/baseline.ts';

const { values } = parseArgs({
  options: {
    dims: { type: 'string', default: '1024,2048,4096' },
    threads: { type: 'string', default: '1,2' },
    rounds: { type: 'string' },
  },
});
const dims = values.dims!.split(',').map(Number);
const threadCounts = values.threads!.split(',').map(Number);

/** Random pair statistics with a realistic, decaying spectrum (float64). */
function randomStatistics(d: number, seed: number): CentredPairStatistics {
  const rng = new Rng(seed);
  const n = Math.round(1.25 * d);
  const x = new Float64Array(n * d);
  const scale = Float64Array.from({ length: d }, (_, j) => 1 / (1 + j / 16));
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) x[r * d + j] = rng.normal() * scale[j];
  const delta = new Float64Array(n * d);
  for (let i = 0; i < delta.length; i++) delta[i] = 0.5 * x[i] * (1 + 0.3 * Math.tanh(x[(i + 1) % x.length])) + 0.1 * rng.normal();
  // centre the columns so XᵀX, XᵀD are the centred products
  for (const m of [x, delta]) {
    for (let j = 0; j < d; j++) {
      let mu = 0;
      for (let r = 0; r < n; r++) mu += m[r * d + j];
      mu /= n;
      for (let r = 0; r < n; r++) m[r * d + j] -= mu;
    }
  }
  const be = backend();
  const cxx = new Float64Array(d * d);
  const cxd = new Float64Array(d * d);
  be.gemm({ transA: true, transB: false, m: d, n: d, k: n, alpha: 1, a: x, lda: d, b: x, ldb: d, beta: 0, c: cxx, ldc: d });
  be.gemm({ transA: true, transB: false, m: d, n: d, k: n, alpha: 1, a: x, lda: d, b: delta, ldb: d, beta: 0, c: cxd, ldc: d });
  let xx = 0;
  let dd = 0;
  let yy = 0;
  for (let i = 0; i < n * d; i++) {
    xx += x[i] * x[i];
    dd += delta[i] * delta[i];
    yy += (x[i] + delta[i]) ** 2;
  }
  const zero = new Float64Array(d);
  return { tokens: n, dim: d, cxx, cxd, xx, dd, yy, meanX: zero, meanDelta: zero, meanY: zero };
}

function maxDiff(a: PairLinearity, b: PairLinearity): number {
  let worst = 0;
  for (const v of ['withResidual', 'withoutResidual'] as const) {
    worst = Math.max(worst, Math.abs(a[v].exact - b[v].exact), Math.abs(a[v].robust! - b[v].robust!));
  }
  return worst;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const rows: (string | number)[][] = [];
for (const d of dims) {
  const stats = randomStatistics(d, d);
  for (const threads of threadCounts) {
    backend().setThreads(threads);
    const rounds = Number(values.rounds ?? (d >= 4096 ? 1 : 3));
    const before: number[] = [];
    const after: number[] = [];
    let diff = 0;
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      const a = solvePairBaseline(stats);
      before.push((performance.now() - t) / 1000);
      t = performance.now();
      const b = solvePairLinearity(stats);
      after.push((performance.now() - t) / 1000);
      diff = Math.max(diff, maxDiff(a, b));
      if (r === 0) console.error(`d=${d} threads=${threads}: score ${b.withResidual.exact.toFixed(6)} / ${b.withoutResidual.exact.toFixed(6)}, robust ${b.withResidual.robust!.toFixed(6)}`);
    }
    const mb = median(before);
    const ma = median(after);
    rows.push([d, threads, rounds, mb.toFixed(2), ma.toFixed(2), (mb / ma).toFixed(2), diff.toExponential(1)]);
    console.error(rows.at(-1)!.join('  '));
  }
}
// a Markdown table, ready for bench/RESULTS-linearity.md
console.log('| d | threads | rounds | baseline s | new s | speed-up | max abs Δ score |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
