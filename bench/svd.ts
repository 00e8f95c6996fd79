/**
 * SVD timings through linscope's backend (thin SVD via the backend's gesdd, in float32 and float64;
 * LASER's randomized truncated SVD via src/linalg/truncated-svd.ts, float64 as LASER runs it) on
 * GPT-2-small-sized matrices, with all BLAS threads and with one. Each case is the best of 5 runs after a warm-up
 * (1 for the 2048² case and with --quick).
 *
 *   node --import tsx bench/svd.ts [--quick]
 */
import { pathToFileURL } from 'node:url';
import { backend } from '../src/backend/index.ts';
import { truncatedSvd } from '../src/linalg/truncated-svd.ts';
import { printTable } from '../src/report/table.ts';
import { Rng } from '../src/tensor/random.ts';
import type { DType } from '../src/tensor/tensor.ts';

export interface SvdBenchRow {
  case: string;
  dtype: DType;
  /** BLAS threads. */
  threads: number;
  /** Best wall time in milliseconds. */
  ms: number;
  /** Smallest process CPU time of a run in milliseconds (all threads; robust to other processes). */
  cpuMs: number;
  runs: number;
  /** A stated time limit for this case, when there is one. */
  limitMs?: number;
}

interface SvdCase {
  name: string;
  m: number;
  n: number;
  run: (a: Float32Array | Float64Array, m: number, n: number) => unknown;
  /** Dtypes measured (default both). */
  dtypes?: readonly DType[];
  limitMs?: number;
  /** Skipped with --quick. */
  slow?: boolean;
}

const gesdd = (vectors: boolean) => (a: Float32Array | Float64Array, m: number, n: number) => backend().gesdd(a, m, n, vectors);

const CASES: SvdCase[] = [
  { name: 'svd 768×768 (U, S, Vᵀ)', m: 768, n: 768, run: gesdd(true) },
  { name: 'svd 768×768 values only', m: 768, n: 768, run: gesdd(false) },
  { name: 'svd 768×3072 values only', m: 768, n: 3072, run: gesdd(false), limitMs: 300 },
  { name: 'svd 2048×2048 values only', m: 2048, n: 2048, run: gesdd(false), slow: true },
  {
    name: 'randomized svd 768×3072, rank 64', m: 768, n: 3072, dtypes: ['float64'],
    run: (a, m, n) => truncatedSvd(a as Float64Array, m, n, 64, { method: 'randomized', seed: 0 }),
  },
];

/** Best wall time and best process CPU time (ms) over `runs` calls. */
function bestOf(runs: number, fn: () => unknown): { ms: number; cpuMs: number } {
  let ms = Infinity;
  let cpuMs = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    fn();
    const cpu = process.cpuUsage(c0);
    ms = Math.min(ms, performance.now() - t0);
    cpuMs = Math.min(cpuMs, (cpu.user + cpu.system) / 1000);
  }
  return { ms, cpuMs };
}

/**
 * Every case in float32 and float64, with the backend's threads and, when that is more than one,
 * also with one thread: its CPU time is the undisturbed single-thread wall time even on a busy
 * machine, where multi-threaded LAPACK burns CPU spin-waiting for descheduled partner threads.
 */
export function benchSvd(quick = false): SvdBenchRow[] {
  const be = backend();
  const threads = be.threads();
  const rows: SvdBenchRow[] = [];
  for (const t of threads > 1 ? [threads, 1] : [threads]) {
    be.setThreads(t);
    try {
      for (const c of CASES) {
        for (const dtype of c.dtypes ?? (['float32', 'float64'] as const)) {
          const runs = quick || c.slow ? 1 : 5;
          const a = new Rng(1).randn([c.m, c.n], 0.02, dtype).data as Float32Array | Float64Array;
          c.run(a, c.m, c.n); // warm-up (JIT, LAPACK workspace queries, thread pool)
          rows.push({ case: c.name, dtype, threads: t, ...bestOf(runs, () => c.run(a, c.m, c.n)), runs, limitMs: c.limitMs });
        }
      }
    } finally {
      be.setThreads(threads);
    }
  }
  return rows;
}

/**
 * Against the case's limit. The main thread is busy for the whole call, so undisturbed wall time is
 * at most the CPU time summed over threads: CPU time under the limit shows the limit holds even when
 * other processes inflated the measured wall time.
 */
function verdict(r: SvdBenchRow): string {
  if (r.limitMs === undefined) return '';
  if (r.ms < r.limitMs) return `< ${r.limitMs} ms ✓`;
  if (r.cpuMs < r.limitMs) return `< ${r.limitMs} ms by CPU time ✓ (wall inflated by other load)`;
  return `over ${r.limitMs} ms ✗`;
}

export function printSvdRows(rows: SvdBenchRow[]): void {
  printTable(
    rows.map((r) => ({ ...r, verdict: verdict(r) })),
    { columns: ['case', 'dtype', 'threads', { key: 'ms', header: 'wall ms', precision: 1 }, { key: 'cpuMs', header: 'CPU ms', precision: 1 }, 'verdict'] },
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(`backend: ${backend().name}, ${backend().threads()} threads`);
  printSvdRows(benchSvd(process.argv.includes('--quick')));
}
