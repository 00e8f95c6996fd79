/**
 * The core benchmarks in one table set, also written as JSON to bench/results/core.json:
 *
 * 1. the machine's measured fp32 FMA peak (bench/peak/fma-peak.c, compiled with -march=native);
 * 2. GEMM GFLOP/s through linscope's backend from JS vs OpenBLAS's cblas_sgemm called from C
 *    (bench/peak/gemm-c.c) on the same shapes, with the JS/C ratio and the share of the peak;
 * 3. whether OPENBLAS_CORETYPE=Haswell (a common override) changes GEMM speed here;
 * 4. SVD timings (exact, values-only, randomized), float32 and float64;
 * 5. one training step (bench/train-step.ts), when that benchmark exists.
 *
 *   node --import tsx bench/run.ts [--quick]
 *
 * A missing C compiler or OpenBLAS is reported and the remaining sections still run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backend } from '../src/backend/index.ts';
import { loadNative } from '../src/backend/native-library.ts';
import { printTable } from '../src/report/table.ts';
import { GEMM_SHAPES, shapeLabel, timeBackendGemm, type GemmShape } from './gemm.ts';
import { buildFmaPeak, buildGemmC, measureCGemm, measureFmaPeak, type GemmTiming, type PeakRow } from './peak/native-tools.ts';
import { benchSvd, printSvdRows, type SvdBenchRow } from './svd.ts';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const gemmSeconds = quick ? 0.3 : 1.5;
/** C and JS take turns this many times per shape (each round gets gemmSeconds / GEMM_ROUNDS). */
const GEMM_ROUNDS = quick ? 1 : 3;
/** JS must reach this share of OpenBLAS-from-C on every shape. */
const REQUIRED_RATIO = 0.75;

function section(title: string): void {
  console.log(`\n## ${title}\n`);
}

function machine() {
  const native = loadNative();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    backend: backend().name,
    threads: backend().threads(),
    openblasCore: native?.corename(),
    openblasConfig: native?.config(),
    loadAverageAtStart: loadavg()[0],
  };
}

function peakSection(): { rows: PeakRow[]; singleThread: number; allThreads: number } | { skipped: string } {
  section('fp32 FMA peak (bench/peak/fma-peak.c, gcc -O3 -march=native, one pthread per core)');
  const built = buildFmaPeak();
  if (!built.ok) {
    console.log(`skipped: ${built.reason}`);
    return { skipped: built.reason };
  }
  const rows = measureFmaPeak(built.binary, cpus().length);
  printTable(rows.map((r) => ({ ...r })), { columns: ['isa', { key: 'width', header: 'lanes' }, 'threads', { key: 'gflops', header: 'GFLOP/s', precision: 1 }] });
  const max = (t: number) => Math.max(0, ...rows.filter((r) => r.threads === t).map((r) => r.gflops));
  const allThreads = Math.max(max(cpus().length), max(1));
  return { rows, singleThread: max(1), allThreads };
}

interface GemmRow {
  shape: string;
  /** BLAS threads on both sides. */
  threads: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  js: GemmTiming;
  c?: GemmTiming;
  /** Best JS GFLOP/s over best C GFLOP/s. */
  ratio?: number;
  /** The same from the CPU time of the fastest run (robust to other processes; per-thread speed). */
  cpuRatio?: number;
  /** Best JS GFLOP/s as a share of the measured peak for that many threads. */
  peakShare?: number;
}

type Peak = ReturnType<typeof peakSection>;

/** ✓ when JS reaches the required share of C by wall time; ✓ (CPU) when only the load-robust CPU-time ratio does. */
function gemmVerdict(r: GemmRow): string {
  if (r.ratio === undefined || r.cpuRatio === undefined) return '';
  if (r.ratio >= REQUIRED_RATIO) return '✓';
  if (r.cpuRatio >= REQUIRED_RATIO) return '✓ (CPU)';
  return `✗ < ${REQUIRED_RATIO * 100}%`;
}

function gemmSection(peak: Peak, cBinary: string | undefined, cReason: string | undefined): GemmRow[] {
  section(`SGEMM: linscope backend from JS vs OpenBLAS cblas_sgemm from C (best run; ${GEMM_ROUNDS} alternating round(s) of ≥ 3 runs, ${gemmSeconds} s per side)`);
  if (!cBinary) console.log(`C comparison skipped: ${cReason}\n`);
  console.log('GFLOP/s from wall time (best and median run); "/CPU-s": GFLOP per CPU-second of the fastest run by');
  console.log('process CPU time, robust to other processes on the machine (a per-thread speed; with several threads it');
  console.log("also counts OpenBLAS's spin-waiting). % of peak: best JS run against the measured FMA peak for that many threads.\n");
  const cores = cpus().length;
  const threadCounts = cores > 1 ? [1, cores] : [1];
  const peakFor = (threads: number) => ('allThreads' in peak ? (threads === 1 ? peak.singleThread : peak.allThreads) : undefined);
  const rows: GemmRow[] = threadCounts.flatMap((threads) => GEMM_SHAPES.map((s): GemmRow => {
    // alternate C and JS in rounds so that background load hits both alike; keep each side's best round
    let c: GemmTiming | undefined;
    let js: GemmTiming | undefined;
    for (let round = 0; round < GEMM_ROUNDS; round++) {
      const cRound = cBinary ? measureCGemm(cBinary, s.m, s.n, s.k, s.transA, s.transB, gemmSeconds / GEMM_ROUNDS, { threads }) : undefined;
      if (cRound && (!c || cRound.bestGflops > c.bestGflops)) c = cRound;
      const jsRound = timeBackendGemm(s, gemmSeconds / GEMM_ROUNDS, threads);
      if (!js || jsRound.bestGflops > js.bestGflops) js = jsRound;
    }
    js = js!;
    const p = peakFor(threads);
    return {
      shape: shapeLabel(s), threads, m: s.m, n: s.n, k: s.k, transA: s.transA, transB: s.transB, js, c,
      ratio: c ? js.bestGflops / c.bestGflops : undefined,
      cpuRatio: c ? js.cpuGflops / c.cpuGflops : undefined,
      peakShare: p ? js.bestGflops / p : undefined,
    };
  }));
  const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(0)}%` : '');
  printTable(
    rows.map((r) => ({
      shape: r.shape, threads: r.threads, js: r.js.bestGflops, jsMedian: r.js.medianGflops, c: r.c?.bestGflops, cMedian: r.c?.medianGflops,
      ratio: r.ratio, peak: r.peakShare, jsCpu: r.js.cpuGflops, cCpu: r.c?.cpuGflops, cpuRatio: r.cpuRatio,
      verdict: gemmVerdict(r),
    })),
    {
      columns: [
        'shape',
        'threads',
        { key: 'js', header: 'JS GFLOP/s', precision: 1 },
        { key: 'jsMedian', header: '(median)', precision: 1 },
        { key: 'c', header: 'C GFLOP/s', precision: 1 },
        { key: 'cMedian', header: '(median)', precision: 1 },
        { key: 'ratio', header: 'JS/C', format: pct },
        { key: 'peak', header: '% of peak', format: pct },
        { key: 'jsCpu', header: 'JS /CPU-s', precision: 1 },
        { key: 'cCpu', header: 'C /CPU-s', precision: 1 },
        { key: 'cpuRatio', header: 'JS/C', format: pct },
        { key: 'verdict', header: '≥ 75%' },
      ],
    },
  );
  return rows;
}

interface CoretypeRow {
  shape: string;
  threads: number;
  cDefault?: number;
  cHaswell?: number;
  jsDefault: number;
  jsHaswell?: number;
  /** GFLOP per CPU-second of the fastest run (load-robust). */
  cDefaultCpu?: number;
  cHaswellCpu?: number;
  jsDefaultCpu: number;
  jsHaswellCpu?: number;
  cores: string;
}

/**
 * GEMM with OPENBLAS_CORETYPE=Haswell vs OpenBLAS's own choice, from C and from JS (a child process
 * with LINSCOPE_OPENBLAS_CORETYPE=Haswell, since the kernels are chosen when the library loads).
 */
function coretypeSection(cBinary: string | undefined, gemm: GemmRow[]): CoretypeRow[] {
  section('Does OPENBLAS_CORETYPE=Haswell change GEMM speed here? (best GFLOP/s; default = kernels OpenBLAS picks)');
  const threadCounts = [...new Set(gemm.map((r) => r.threads))];
  const rows = threadCounts.flatMap((threads) => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(here, 'gemm.ts'), '--json', '--threads', String(threads), '--seconds', String(gemmSeconds)],
      { encoding: 'utf8', env: { ...process.env, LINSCOPE_OPENBLAS_CORETYPE: 'Haswell' } },
    );
    let jsHaswell: { shape: GemmShape; timing: GemmTiming }[] = [];
    if (child.status === 0) jsHaswell = JSON.parse(child.stdout.trim().split('\n').pop()!);
    else console.log(`JS run with LINSCOPE_OPENBLAS_CORETYPE=Haswell failed: ${child.stderr}`);
    return GEMM_SHAPES.map((s, i): CoretypeRow => {
      const base = gemm.find((r) => r.threads === threads && r.shape === shapeLabel(s))!;
      const cH = cBinary ? measureCGemm(cBinary, s.m, s.n, s.k, s.transA, s.transB, gemmSeconds, { coretype: 'Haswell', threads }) : undefined;
      return {
        shape: shapeLabel(s),
        threads,
        cDefault: base.c?.bestGflops,
        cHaswell: cH?.bestGflops,
        jsDefault: base.js.bestGflops,
        jsHaswell: jsHaswell[i]?.timing.bestGflops,
        cDefaultCpu: base.c?.cpuGflops,
        cHaswellCpu: cH?.cpuGflops,
        jsDefaultCpu: base.js.cpuGflops,
        jsHaswellCpu: jsHaswell[i]?.timing.cpuGflops,
        cores: `${base.js.core} / ${jsHaswell[i]?.timing.core ?? cH?.core ?? '?'}`,
      };
    });
  });
  printTable(rows.map((r) => ({ ...r })), {
    columns: [
      'shape',
      'threads',
      { key: 'cDefault', header: 'C default', precision: 1 },
      { key: 'cHaswell', header: 'C Haswell', precision: 1 },
      { key: 'jsDefault', header: 'JS default', precision: 1 },
      { key: 'jsHaswell', header: 'JS Haswell', precision: 1 },
      { key: 'cDefaultCpu', header: 'C default /CPU-s', precision: 1 },
      { key: 'cHaswellCpu', header: 'C Haswell /CPU-s', precision: 1 },
      { key: 'jsDefaultCpu', header: 'JS default /CPU-s', precision: 1 },
      { key: 'jsHaswellCpu', header: 'JS Haswell /CPU-s', precision: 1 },
      { key: 'cores', header: 'kernels (default / forced)' },
    ],
  });
  return rows;
}

async function trainStepSection(): Promise<{ ms: number; label?: string } | { skipped: string }> {
  section('Training step (bench/train-step.ts)');
  const file = join(here, 'train-step.ts');
  if (!existsSync(file)) {
    console.log('skipped: bench/train-step.ts does not exist yet');
    return { skipped: 'bench/train-step.ts not present' };
  }
  const path = './train-step.ts';
  const mod = (await import(path)) as { benchTrainStep?: () => Promise<{ ms: number; label?: string }> };
  if (typeof mod.benchTrainStep !== 'function') return { skipped: 'bench/train-step.ts does not export benchTrainStep' };
  const r = await mod.benchTrainStep();
  printTable([{ benchmark: r.label ?? 'training step', ms: r.ms }], { columns: ['benchmark', { key: 'ms', precision: 2 }] });
  return r;
}

async function main(): Promise<void> {
  const info = machine();
  console.log(`linscope core benchmarks${quick ? ' (--quick)' : ''}`);
  console.log(`${info.cpu}, ${info.cores} cores, Node ${info.node}; backend ${info.backend} (${info.threads} threads${info.openblasCore ? `, OpenBLAS kernels ${info.openblasCore}` : ''})`);
  if (info.loadAverageAtStart > 0.5 * info.cores) console.log(`warning: load average ${info.loadAverageAtStart.toFixed(2)} — other processes are running, timings will be noisy`);

  const peak = peakSection();
  const native = backend().name === 'openblas';
  if (!native) {
    section('GEMM, SVD and training step');
    console.log('skipped: the active backend is pure-ts (LINSCOPE_BACKEND=pure, or OpenBLAS could not be loaded); these benchmarks measure the native path');
  }
  const gemmC = buildGemmC();
  const cBinary = gemmC.ok ? gemmC.binary : undefined;
  const gemm = native ? gemmSection(peak, cBinary, gemmC.ok ? undefined : gemmC.reason) : [];
  const coretype = native ? coretypeSection(cBinary, gemm) : [];

  let svd: SvdBenchRow[] = [];
  if (native) {
    section('SVD through the backend (best of runs after a warm-up)');
    svd = benchSvd(quick);
    printSvdRows(svd);
  }

  const trainStep = native ? await trainStepSection() : { skipped: 'pure-ts backend' };

  const results = { date: new Date().toISOString(), quick, machine: { ...info, loadAverageAtEnd: loadavg()[0] }, peak, gemm, coretype, svd, trainStep };
  const out = join(here, 'results', 'core.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nwritten: ${out}`);
}

await main();
