/**
 * Compiles and runs the C yardsticks of the benchmarks (fma-peak.c, gemm-c.c) at bench time. A
 * missing compiler or library is reported as a reason string, never thrown, so the benchmark can
 * say so and go on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(tmpdir(), 'linscope-bench-peak');
export const OPENBLAS_LIBRARY = '/usr/lib/x86_64-linux-gnu/libopenblas.so.0';

export type Built = { ok: true; binary: string } | { ok: false; reason: string };

/** gcc `flags` `source` (a file in bench/peak) `libraries` into a temp build dir (libraries after the source, for the linker). */
function compile(source: string, output: string, flags: string[], libraries: string[] = []): Built {
  mkdirSync(buildDir, { recursive: true });
  const binary = join(buildDir, output);
  const r = spawnSync('gcc', [...flags, join(here, source), ...libraries, '-o', binary], { encoding: 'utf8' });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, reason: missing ? 'no C compiler (gcc not found; apt-get install gcc)' : `gcc failed to start: ${r.error.message}` };
  }
  if (r.status !== 0) return { ok: false, reason: `gcc ${source} failed:\n${r.stderr.trim()}` };
  return { ok: true, binary };
}

export function buildFmaPeak(): Built {
  return compile('fma-peak.c', 'fma-peak', ['-O3', '-march=native', '-pthread']);
}

export function buildGemmC(): Built {
  if (!existsSync(OPENBLAS_LIBRARY)) return { ok: false, reason: `OpenBLAS not found at ${OPENBLAS_LIBRARY}` };
  return compile('gemm-c.c', 'gemm-c', ['-O2', '-march=native', '-pthread'], [OPENBLAS_LIBRARY]);
}

/** `key=value` pairs of one output line. */
function fields(line: string): Record<string, string> {
  return Object.fromEntries(line.trim().split(/\s+/).map((kv) => kv.split('=') as [string, string]));
}

function run(binary: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(binary, args, { encoding: 'utf8', env });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${binary} ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export interface PeakRow {
  isa: string;
  /** fp32 lanes per vector. */
  width: number;
  threads: number;
  gflops: number;
}

/** Runs the FMA peak for 1 and `threads` threads with every ISA compiled in. */
export function measureFmaPeak(binary: string, threads: number): PeakRow[] {
  return run(binary, [String(threads)], process.env)
    .split('\n')
    .filter((l) => l.startsWith('isa='))
    .map((l) => {
      const f = fields(l);
      return { isa: f.isa, width: Number(f.width), threads: Number(f.threads), gflops: Number(f.gflops) };
    });
}

export interface GemmTiming {
  /** OpenBLAS kernel set in use (e.g. Cooperlake, Haswell). */
  core: string;
  threads: number;
  runs: number;
  bestMs: number;
  medianMs: number;
  bestGflops: number;
  medianGflops: number;
  /** Smallest CPU time of a run (all threads of the process); with one thread, the time it would take undisturbed. */
  cpuBestMs: number;
  /** GFLOP per CPU-second of that run (a per-thread speed; with several threads it includes their spin-waiting). */
  cpuGflops: number;
}

/**
 * OpenBLAS SGEMM from C on one shape. `coretype` sets OPENBLAS_CORETYPE for the child; undefined
 * removes it (OpenBLAS then picks the kernels for this CPU, as linscope does by default). `threads`
 * sets OPENBLAS_NUM_THREADS (default: OpenBLAS's own choice, one per core).
 */
export function measureCGemm(
  binary: string, m: number, n: number, k: number, transA: boolean, transB: boolean, seconds: number,
  opts: { coretype?: string; threads?: number } = {},
): GemmTiming {
  const env = { ...process.env };
  if (opts.coretype) env.OPENBLAS_CORETYPE = opts.coretype;
  else delete env.OPENBLAS_CORETYPE;
  if (opts.threads) env.OPENBLAS_NUM_THREADS = String(opts.threads);
  const f = fields(run(binary, [m, n, k, transA ? 1 : 0, transB ? 1 : 0, seconds].map(String), env));
  return {
    core: f.core,
    threads: Number(f.threads),
    runs: Number(f.runs),
    bestMs: Number(f.best_ms),
    medianMs: Number(f.median_ms),
    bestGflops: Number(f.best_gflops),
    medianGflops: Number(f.median_gflops),
    cpuBestMs: Number(f.cpu_best_ms),
    cpuGflops: (2 * m * n * k) / Number(f.cpu_best_ms) / 1e6,
  };
}
