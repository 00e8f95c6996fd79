/** Shared pieces of the robustness tests: temporary folders, a tiny pretraining setup, the CLI as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.ts';

export { tinyPretrainConfig, withTmp, writeCorpus } from '../helpers/pretrain-fixtures.ts';

export interface Spawned {
  child: ChildProcess;
  /** Everything printed so far on stdout / stderr. */
  out: () => string;
  err: () => string;
  /** Resolves when `pattern` has appeared on stderr or stdout. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exit: Promise<number | string>;
}

/** Starts `node bin/linscope.mjs …args` as a child process. */
export function spawnCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Spawned {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'linscope.mjs'), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pattern.test(err) || w.pattern.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); check(); });
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); check(); });
  const exit = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}\nstdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
      const done = () => { clearTimeout(timer); resolve(); };
      waiters.push({ pattern, resolve: done });
      void exit.then(() => { check(); if (waiters.some((w) => w.resolve === done)) { clearTimeout(timer); reject(new Error(`the process ended before ${pattern} appeared\nstdout:\n${out}\nstderr:\n${err}`)); } });
      check();
    });
  return { child, out: () => out, err: () => err, waitFor, exit };
}

/**
 * Runs the CLI in-process (`main(argv)`) with everything written to stdout and stderr recorded
 * (and still passed through: the test runner reports on stdout).
 */
export async function runCli(argv: string[]): Promise<{ code: number; out: string }> {
  const { main } = await import('../../src/cli/main.ts');
  let out = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  const tee = (stream: NodeJS.WriteStream, original: typeof process.stdout.write) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      out += String(chunk);
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof process.stdout.write;
  process.stdout.write = tee(process.stdout, write.out);
  process.stderr.write = tee(process.stderr, write.err);
  try {
    return { code: await main(argv), out };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}
