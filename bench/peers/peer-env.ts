/**
 * The environment of a peer benchmark's child processes (linscope's and PyTorch's alike), as
 * bench/peers/peer-env.sh defines it for the shell scripts: the thread counts, linscope's
 * OPENBLAS_CORETYPE policy (so both load the same OpenBLAS kernels) and glibc told to keep freed
 * memory mapped (the MALLOC_* exports of peer-env.sh; the measured reasoning is in
 * bench/RESULTS-peers.md, "The allocator and the kernel set").
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyCoretypePolicy } from '../../src/backend/native-library.ts';

/** The MALLOC_* settings exported by peer-env.sh. */
export const CACHED_MALLOC: Readonly<Record<string, string>> = (() => {
  const text = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'peer-env.sh'), 'utf8');
  const settings = Object.fromEntries([...text.matchAll(/^export (MALLOC_\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  if (Object.keys(settings).length !== 2) throw new Error('bench/peers/peer-env.sh: expected two MALLOC_* exports');
  return settings;
})();

/** A child's environment at `threads` BLAS/OpenMP threads; `glibcDefaults` leaves glibc's allocator as it is. */
export function peerEnvironment(threads: number, opts: { glibcDefaults?: boolean } = {}): NodeJS.ProcessEnv {
  const t = String(threads);
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: t, LINSCOPE_THREADS: t, OMP_NUM_THREADS: t };
  applyCoretypePolicy(env);
  if (!opts.glibcDefaults) Object.assign(env, CACHED_MALLOC);
  return env;
}
