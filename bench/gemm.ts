/**
 * GEMM throughput through linscope's backend from JavaScript (float32, row-major), timed the same
 * way as bench/peak/gemm-c.c times OpenBLAS from C: one warm-up call, then repeated calls until the
 * time budget is spent (at least 3), best and median reported.
 *
 *   node --import tsx bench/gemm.ts            # table
 *   node --import tsx bench/gemm.ts --json     # JSON (bench/run.ts uses this for the coretype check)
 *   options: --quick (shorter budget), --seconds S (time per shape), --threads N (BLAS threads)
 */
import { pathToFileURL } from 'node:url';
import { backend } from '../src/backend/index.ts';
import { loadNative } from '../src/backend/native-library.ts';
import { printTable } from '../src/report/table.ts';
import { Rng } from '../src/tensor/random.ts';
import type { GemmTiming } from './peak/native-tools.ts';

export interface GemmShape {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** Element type (float32 when absent): float64 times dgemm. */
  dtype?: 'float32' | 'float64';
}

/** The benchmarked products: GPT-2-small projections (tokens × 768 × 768, × 3072) and a square one. */
export const GEMM_SHAPES: readonly GemmShape[] = [
  { m: 512, n: 768, k: 768, transA: false, transB: false },
  { m: 512, n: 768, k: 768, transA: false, transB: true },
  { m: 512, n: 768, k: 3072, transA: false, transB: false },
  { m: 512, n: 768, k: 3072, transA: false, transB: true },
  { m: 2048, n: 2048, k: 2048, transA: false, transB: false },
  { m: 2048, n: 2048, k: 2048, transA: false, transB: true },
];

export function shapeLabel(s: GemmShape): string {
  return `${s.m}×${s.n}×${s.k} ${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`;
}

function randomFloats(n: number, rng: Rng, dtype: GemmShape['dtype'] = 'float32'): Float32Array | Float64Array {
  const x = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform() - 0.5;
  return x;
}

/**
 * Times C = op(A)·op(B) through `backend().gemm` like gemm-c.c does from C, with `threads` BLAS
 * threads (default: the backend's current setting, restored afterwards).
 */
export function timeBackendGemm(s: GemmShape, seconds: number, threads?: number): GemmTiming {
  const be = backend();
  const before = be.threads();
  if (threads) be.setThreads(threads);
  try {
    return timeGemm(s, seconds);
  } finally {
    be.setThreads(before);
  }
}

function timeGemm(s: GemmShape, seconds: number): GemmTiming {
  const rng = new Rng(12345);
  const a = randomFloats(s.m * s.k, rng, s.dtype);
  const b = randomFloats(s.k * s.n, rng, s.dtype);
  const c = s.dtype === 'float64' ? new Float64Array(s.m * s.n) : new Float32Array(s.m * s.n);
  const be = backend();
  const args = {
    transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: 1,
    a, lda: s.transA ? s.m : s.k, b, ldb: s.transB ? s.k : s.n, beta: 0, c, ldc: s.n,
  };
  be.gemm(args);
  const times: number[] = [];
  let cpuBest = Infinity;
  const start = performance.now();
  while (times.length < 3 || performance.now() - start < seconds * 1000) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    be.gemm(args);
    const cpu = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpuBest = Math.min(cpuBest, (cpu.user + cpu.system) / 1000);
  }
  times.sort((x, y) => x - y);
  const flops = 2 * s.m * s.n * s.k;
  const best = times[0];
  const median = times[times.length >> 1];
  return {
    core: loadNative()?.corename() ?? be.name,
    threads: be.threads(),
    runs: times.length,
    bestMs: best,
    medianMs: median,
    bestGflops: flops / best / 1e6,
    medianGflops: flops / median / 1e6,
    cpuBestMs: cpuBest,
    cpuGflops: flops / cpuBest / 1e6,
  };
}

/** Every shape of GEMM_SHAPES through the backend. */
export function benchBackendGemm(seconds: number, threads?: number): { shape: GemmShape; timing: GemmTiming }[] {
  return GEMM_SHAPES.map((shape) => ({ shape, timing: timeBackendGemm(shape, seconds, threads) }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const t = process.argv.indexOf('--threads');
  const threads = t > 0 ? Number(process.argv[t + 1]) : undefined;
  const seconds = process.argv.indexOf('--seconds');
  const rows = benchBackendGemm(seconds > 0 ? Number(process.argv[seconds + 1]) : quick ? 0.3 : 1, threads);
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify(rows) + '\n');
  } else {
    printTable(
      rows.map(({ shape, timing }) => ({ shape: shapeLabel(shape), ...timing })),
      { columns: ['shape', 'core', 'threads', 'runs', { key: 'bestGflops', header: 'GFLOP/s (best)', precision: 1 }, { key: 'medianGflops', header: 'GFLOP/s (median)', precision: 1 }, { key: 'bestMs', header: 'ms (best)', precision: 2 }] },
    );
  }
}
