/**
 * The environment of a peer benchmark's child processes, linscope's and PyTorch's alike: the thread
 * counts (PyTorch's intra-op threads: TORCH_INTRA_OP_THREADS), linscope's OPENBLAS_CORETYPE policy
 * (so both load the same OpenBLAS kernels) and the glibc allocator thresholds linscope sets for
 * itself (src/backend/glibc-malloc.ts), given to PyTorch as
 * MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_. With glibc's defaults PyTorch takes every tensor
 * above the mmap threshold as fresh pages and faults them in anew on every op; the measured
 * reasoning is in bench/RESULTS-peers.md, "Reading of this run: a new machine, and a fair PyTorch".
 *
 * Run as a script, it prints the settings as shell exports for the bench/*-peer.sh scripts:
 *   eval "$(node --import tsx bench/peers/peer-env.ts)"
 */
import { pathToFileURL } from 'node:url';
import { MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES } from '../../src/backend/glibc-malloc.ts';
import { applyCoretypePolicy } from '../../src/backend/native-library.ts';

/** glibc's allocator settings of linscope's own processes, as environment variables. */
export const CACHED_MALLOC: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(MMAP_THRESHOLD_BYTES),
  MALLOC_TRIM_THRESHOLD_: String(TRIM_THRESHOLD_BYTES),
};

/**
 * PyTorch's own (intra-op) threads beside OpenBLAS's: one. On the 2-core machine, torch at 2 OpenBLAS
 * threads with 2 intra-op threads took 1.66–2.17 s for the GPT-2 forward and 0.91–1.30 s for the 5M
 * training step; with 1 intra-op thread 1.26–1.49 s and 0.44–0.52 s (its OpenMP threads and
 * OpenBLAS's compete for the same cores), so the peer runs torch the faster way (TORCH_THREADS,
 * read by bench/peers/torch_peers.py).
 */
export const TORCH_INTRA_OP_THREADS = 1;

/**
 * The variables a peer child gets beyond its thread counts: OPENBLAS_CORETYPE as linscope's policy
 * leaves it (undefined: removed), PyTorch's intra-op threads and, unless `glibcDefaults`, the
 * allocator thresholds.
 */
export function peerSettings(opts: { glibcDefaults?: boolean } = {}): Record<string, string | undefined> {
  const policy: NodeJS.ProcessEnv = { ...process.env };
  applyCoretypePolicy(policy);
  return { OPENBLAS_CORETYPE: policy.OPENBLAS_CORETYPE, TORCH_THREADS: String(TORCH_INTRA_OP_THREADS), ...(opts.glibcDefaults ? {} : CACHED_MALLOC) };
}

/**
 * A child's environment at `threads` BLAS/OpenMP threads; `glibcDefaults` leaves glibc's allocator as
 * it is; `openmpBlas` (a folder from native-library.ts `installedOpenmpBuild`) loads that OpenBLAS
 * build first, with as many torch intra-op threads as BLAS threads.
 *
 * Debian's OpenMP build of OpenBLAS (package libopenblas0-openmp), when installed: the same OpenBLAS
 * 0.3.21 and kernels, threaded with libgomp instead of pthreads. PyTorch uses libgomp for its own
 * kernels too, so on that build its intra-op threads and OpenBLAS's are one team instead of two
 * competing ones: at 2 threads with 2 intra-op threads, torch ran the GPT-2 forward in 1.11 s against
 * 1.34 s on the pthread build with 1 intra-op thread (2026-12-04, bench/RESULTS-peers.md). The OpenMP
 * build follows omp_get_max_threads(), so there torch's intra-op threads must equal the BLAS thread
 * count (with 1 intra-op thread OpenBLAS ran on one thread: 1.93 s).
 */
export function peerEnvironment(threads: number, opts: { glibcDefaults?: boolean; openmpBlas?: string } = {}): NodeJS.ProcessEnv {
  const t = String(threads);
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: t, LINSCOPE_THREADS: t, OMP_NUM_THREADS: t };
  for (const [k, v] of Object.entries(peerSettings(opts))) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  if (opts.openmpBlas) {
    env.LD_LIBRARY_PATH = [opts.openmpBlas, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    env.TORCH_THREADS = t;
  }
  return env;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(Object.entries(peerSettings()).map(([k, v]) => (v === undefined ? `unset ${k}` : `export ${k}=${v}`)).join('\n'));
}
