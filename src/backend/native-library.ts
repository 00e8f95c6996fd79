/**
 * Finds and opens OpenBLAS and LAPACKE with koffi, and declares the C functions linscope calls.
 *
 * The trap: some machines export OPENBLAS_CORETYPE (e.g. Haswell), which forces a kernel set that
 * may not suit the CPU: on the Zen 5 bench machine, which exports Haswell, its AVX2 SGEMM ran at half
 * the speed of the Cooperlake kernels OpenBLAS picks itself (99 against 202 GFLOP/s at 2048³); on
 * the Zen 4 one Haswell measured 3–5 % faster (bench/RESULTS.md).
 * OpenBLAS reads it once, when the library loads, so it is removed from the environment just before
 * loading unless the user asked to keep it (LINSCOPE_OPENBLAS_CORETYPE=<name> sets it on purpose).
 *
 * Which build: Debian ships OpenBLAS threaded with pthreads (libopenblas0-pthread, the system
 * default) and with OpenMP (libopenblas0-openmp). linscope's C kernels (native/kernels.c) run on
 * libgomp's threads, so with the pthread build two thread teams share the cores: OpenBLAS's worker
 * spins in sched_yield on the core the kernels' second thread needs. With the OpenMP build both are
 * one team. LINSCOPE_OPENBLAS_BUILD=openmp loads that build (scripts/setup.sh installs it). At 2
 * threads on the Zen 5 machine it ran one process's training step, perplexity and GPT-2 forward
 * 5–15 % faster, and the linearity job, LASER and generation the same within the noise
 * (bench/RESULTS-peers.md, "linscope on the OpenMP build of OpenBLAS"); both give the same bits
 * (test/backend/openblas-build.test.ts). It is not the default: libgomp's idle threads spin between
 * calls, so processes sharing the cores slow each other down. The test suite (two test files at a
 * time on 2 cores) took 5 min 22 s with it against 3 min 11 s with the system's build.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import koffi, { type LibraryHandle } from 'koffi';
import { keepFreedMemoryInHeap } from './glibc-malloc.ts';

/** Where to look for the two libraries, tried in order (file names go through the system loader's search). */
export interface LibraryCandidates {
  openblas: readonly string[];
  /** Loaded, in order, after OpenBLAS and before LAPACKE (every one must load). */
  preload?: readonly string[];
  lapacke: readonly string[];
}

const OPENBLAS_CANDIDATES = [
  'libopenblas.so.0',
  '/usr/lib/x86_64-linux-gnu/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/libopenblas.so.0',
  'libopenblas.so',
  'libopenblas.dylib',
];
const LAPACKE_CANDIDATES = [
  'liblapacke.so.3',
  '/usr/lib/x86_64-linux-gnu/liblapacke.so.3',
  '/usr/lib/aarch64-linux-gnu/liblapacke.so.3',
  'liblapacke.so',
  'liblapacke.dylib',
];

/** Where Debian's OpenMP build of OpenBLAS lives, with the BLAS and LAPACK built on it. */
const OPENMP_BUILD_DIRS = ['/usr/lib/x86_64-linux-gnu/openblas-openmp', '/usr/lib/aarch64-linux-gnu/openblas-openmp'];
const OPENMP_BUILD_FILES = ['libopenblas.so.0', 'libblas.so.3', 'liblapack.so.3'];

/** The folder of Debian's OpenMP build of OpenBLAS when it is installed whole, else undefined. */
export function installedOpenmpBuild(dirs: readonly string[] = OPENMP_BUILD_DIRS): string | undefined {
  return dirs.find((d) => OPENMP_BUILD_FILES.every((f) => existsSync(join(d, f))));
}

/**
 * The OpenMP build's folder when LINSCOPE_OPENBLAS_BUILD=openmp (an error names what is missing when
 * it is not installed whole); undefined for `system`, the default: whatever libopenblas.so.0 the
 * system's loader finds.
 */
export function openmpBuildDir(env: NodeJS.ProcessEnv = process.env, dirs: readonly string[] = OPENMP_BUILD_DIRS): string | undefined {
  const wanted = env.LINSCOPE_OPENBLAS_BUILD || 'system';
  if (wanted !== 'system' && wanted !== 'openmp') throw new Error(`LINSCOPE_OPENBLAS_BUILD=${wanted}: expected system or openmp`);
  if (wanted === 'system') return undefined;
  const dir = installedOpenmpBuild(dirs);
  if (!dir) throw new Error(`LINSCOPE_OPENBLAS_BUILD=openmp: no complete OpenMP build of OpenBLAS in ${dirs.join(' or ')} (apt-get install libopenblas0-openmp)`);
  return dir;
}

/**
 * The libraries to try. With the OpenMP build, its libopenblas only (no falling back to another
 * build), and its libblas and liblapack are loaded before LAPACKE, so that LAPACKE's dependencies
 * resolve (by soname) to them rather than to the system default's.
 */
export function candidatesFor(env: NodeJS.ProcessEnv = process.env): LibraryCandidates {
  const dir = openmpBuildDir(env);
  if (!dir) return { openblas: OPENBLAS_CANDIDATES, lapacke: LAPACKE_CANDIDATES };
  return { openblas: [join(dir, 'libopenblas.so.0')], preload: [join(dir, 'libblas.so.3'), join(dir, 'liblapack.so.3')], lapacke: LAPACKE_CANDIDATES };
}

export const INSTALL_HINT =
  'linscope: the fast OpenBLAS backend is unavailable, so the pure-TypeScript backend is used (about 100x slower).\n' +
  '  Install it with:  sudo apt-get install -y libopenblas0-pthread libopenblas0-openmp liblapacke   (or run: bash scripts/setup.sh)';

export interface NativeFunctions {
  cblas_sgemm: (...args: unknown[]) => void;
  cblas_dgemm: (...args: unknown[]) => void;
  cblas_sgemv: (...args: unknown[]) => void;
  cblas_dgemv: (...args: unknown[]) => void;
  sgesdd: (...args: unknown[]) => number;
  dgesdd: (...args: unknown[]) => number;
  ssyevd: (...args: unknown[]) => number;
  dsyevd: (...args: unknown[]) => number;
  sgels: (...args: unknown[]) => number;
  dgels: (...args: unknown[]) => number;
  sposv: (...args: unknown[]) => number;
  dposv: (...args: unknown[]) => number;
  dpotrf: (...args: unknown[]) => number;
  dpotri: (...args: unknown[]) => number;
  cblas_dtrsm: (...args: unknown[]) => void;
  cblas_dsyrk: (...args: unknown[]) => void;
  sgeqrf: (...args: unknown[]) => number;
  dgeqrf: (...args: unknown[]) => number;
  sorgqr: (...args: unknown[]) => number;
  dorgqr: (...args: unknown[]) => number;
  dormqr: (...args: unknown[]) => number;
  dgeqrt: (...args: unknown[]) => number;
  dgebrd: (...args: unknown[]) => number;
  dbdsdc: (...args: unknown[]) => number;
  dormbr: (...args: unknown[]) => number;
  setThreads: (n: number) => void;
  getThreads: () => number;
  corename: () => string;
  config: () => string;
  /** How the OpenBLAS loaded is threaded: `openblas_get_parallel()` (0 sequential, 1 pthreads, 2 OpenMP). */
  parallel: () => number;
}

/** Applies the OPENBLAS_CORETYPE policy to process.env; call before the library loads. */
export function applyCoretypePolicy(env: NodeJS.ProcessEnv = process.env): void {
  const wanted = env.LINSCOPE_OPENBLAS_CORETYPE;
  if (wanted) env.OPENBLAS_CORETYPE = wanted;
  else delete env.OPENBLAS_CORETYPE;
}

function openFirst(candidates: readonly string[]): LibraryHandle {
  const errors: string[] = [];
  for (const path of candidates) {
    try {
      return koffi.load(path);
    } catch (e) {
      errors.push(`${path}: ${(e as Error).message}`);
    }
  }
  throw new Error(errors.join('\n'));
}

let cached: NativeFunctions | null | undefined;
let loadError: string | undefined;

/** The native functions, or null (with `nativeLoadError()` saying why) when the libraries are missing. */
export function loadNative(): NativeFunctions | null {
  if (cached !== undefined) return cached;
  keepFreedMemoryInHeap(); // large tensors reuse heap memory instead of faulting in fresh pages
  const candidates = candidatesFor(); // a bad LINSCOPE_OPENBLAS_BUILD throws here, not as a missing library
  try {
    cached = openNative(candidates);
  } catch (e) {
    // the OpenMP build was asked for by name: failing to load it is an error, not a reason to fall back
    if (candidates.preload) throw new Error(`LINSCOPE_OPENBLAS_BUILD=openmp: ${(e as Error).message.split('\n')[0]}`);
    loadError = (e as Error).message;
    cached = null;
  }
  return cached;
}

/**
 * Opens OpenBLAS and LAPACKE from the given candidates and declares the functions (uncached; the
 * OPENBLAS_CORETYPE policy is applied first). Throws with every path tried when one is missing.
 */
export function openNative(candidates: LibraryCandidates): NativeFunctions {
  applyCoretypePolicy();
  const blas = openFirst(candidates.openblas);
  for (const path of candidates.preload ?? []) koffi.load(path);
  const lapacke = openFirst(candidates.lapacke);
  const parallel = blas.func('int openblas_get_parallel()') as () => number;
  if (parallel() === 2) keepLoadedForever('libgomp.so.1');
  const gemm = (t: string) =>
    `void cblas_${t}gemm(int order, int transA, int transB, int M, int N, int K, ${t === 's' ? 'float' : 'double'} alpha, ` +
    `const void *A, int lda, const void *B, int ldb, ${t === 's' ? 'float' : 'double'} beta, void *C, int ldc)`;
  const gemv = (t: string) =>
    `void cblas_${t}gemv(int order, int trans, int M, int N, ${t === 's' ? 'float' : 'double'} alpha, const void *A, int lda, ` +
    `const void *X, int incX, ${t === 's' ? 'float' : 'double'} beta, void *Y, int incY)`;
  return {
    cblas_sgemm: blas.func(gemm('s')) as NativeFunctions['cblas_sgemm'],
    cblas_dgemm: blas.func(gemm('d')) as NativeFunctions['cblas_dgemm'],
    cblas_sgemv: blas.func(gemv('s')) as NativeFunctions['cblas_sgemv'],
    cblas_dgemv: blas.func(gemv('d')) as NativeFunctions['cblas_dgemv'],
    sgesdd: lapacke.func('int LAPACKE_sgesdd(int layout, char jobz, int m, int n, void *a, int lda, void *s, void *u, int ldu, void *vt, int ldvt)'),
    dgesdd: lapacke.func('int LAPACKE_dgesdd(int layout, char jobz, int m, int n, void *a, int lda, void *s, void *u, int ldu, void *vt, int ldvt)'),
    ssyevd: lapacke.func('int LAPACKE_ssyevd(int layout, char jobz, char uplo, int n, void *a, int lda, void *w)'),
    dsyevd: lapacke.func('int LAPACKE_dsyevd(int layout, char jobz, char uplo, int n, void *a, int lda, void *w)'),
    sgels: lapacke.func('int LAPACKE_sgels(int layout, char trans, int m, int n, int nrhs, void *a, int lda, void *b, int ldb)'),
    dgels: lapacke.func('int LAPACKE_dgels(int layout, char trans, int m, int n, int nrhs, void *a, int lda, void *b, int ldb)'),
    sposv: lapacke.func('int LAPACKE_sposv(int layout, char uplo, int n, int nrhs, void *a, int lda, void *b, int ldb)'),
    dposv: lapacke.func('int LAPACKE_dposv(int layout, char uplo, int n, int nrhs, void *a, int lda, void *b, int ldb)'),
    dpotrf: lapacke.func('int LAPACKE_dpotrf(int layout, char uplo, int n, void *a, int lda)'),
    dpotri: lapacke.func('int LAPACKE_dpotri(int layout, char uplo, int n, void *a, int lda)'),
    cblas_dtrsm: blas.func('void cblas_dtrsm(int order, int side, int uplo, int transA, int diag, int M, int N, double alpha, const void *A, int lda, void *B, int ldb)') as NativeFunctions['cblas_dtrsm'],
    cblas_dsyrk: blas.func('void cblas_dsyrk(int order, int uplo, int trans, int N, int K, double alpha, const void *A, int lda, double beta, void *C, int ldc)') as NativeFunctions['cblas_dsyrk'],
    sgeqrf: lapacke.func('int LAPACKE_sgeqrf(int layout, int m, int n, void *a, int lda, void *tau)'),
    dgeqrf: lapacke.func('int LAPACKE_dgeqrf(int layout, int m, int n, void *a, int lda, void *tau)'),
    sorgqr: lapacke.func('int LAPACKE_sorgqr(int layout, int m, int n, int k, void *a, int lda, const void *tau)'),
    dorgqr: lapacke.func('int LAPACKE_dorgqr(int layout, int m, int n, int k, void *a, int lda, const void *tau)'),
    dormqr: lapacke.func('int LAPACKE_dormqr(int layout, char side, char trans, int m, int n, int k, const void *a, int lda, const void *tau, void *c, int ldc)'),
    dgeqrt: lapacke.func('int LAPACKE_dgeqrt(int layout, int m, int n, int nb, void *a, int lda, void *t, int ldt)'),
    dgebrd: lapacke.func('int LAPACKE_dgebrd(int layout, int m, int n, void *a, int lda, void *d, void *e, void *tauq, void *taup)'),
    dbdsdc: lapacke.func('int LAPACKE_dbdsdc(int layout, char uplo, char compq, int n, void *d, void *e, void *u, int ldu, void *vt, int ldvt, void *q, void *iq)'),
    dormbr: lapacke.func('int LAPACKE_dormbr(int layout, char vect, char side, char trans, int m, int n, int k, const void *a, int lda, const void *tau, void *c, int ldc)'),
    setThreads: blas.func('void openblas_set_num_threads(int n)') as (n: number) => void,
    getThreads: blas.func('int openblas_get_num_threads()') as () => number,
    corename: blas.func('const char *openblas_get_corename()') as () => string,
    config: blas.func('const char *openblas_get_config()') as () => string,
    parallel,
  } as NativeFunctions;
}

/**
 * Marks an already loaded library as never to be unloaded (dlopen with RTLD_NOLOAD | RTLD_NODELETE).
 * libgomp's idle threads spin for a while after each parallel region; when the process exits, its
 * libraries are closed, and a thread still spinning in an unmapped libgomp crashed the exiting
 * process with SIGSEGV (about 1 exit in 40 with the OpenMP build of OpenBLAS).
 */
function keepLoadedForever(soname: string): void {
  const RTLD_LAZY = 0x1, RTLD_NOLOAD = 0x4, RTLD_NODELETE = 0x1000;
  const dlopen = koffi.load('libc.so.6').func('void *dlopen(const char *file, int mode)') as (file: string, mode: number) => unknown;
  if (!dlopen(soname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE)) throw new Error(`${soname} is not loaded beside OpenBLAS's OpenMP build`);
}

export function nativeLoadError(): string | undefined {
  return loadError;
}
