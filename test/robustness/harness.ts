/** Shared pieces of the robustness tests: temporary folders, a tiny pretraining setup, the CLI as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePretrainConfig, type PretrainConfig } from '../../src/train/pretrain-config.ts';
import { repoRoot } from '../helpers/paths.ts';

/** Runs `fn` in a fresh temporary folder that is removed afterwards. */
export async function withTmp<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-robust-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A small repetitive corpus a tiny model learns from; returns the file path. */
export function writeCorpus(dir: string, name = 'stories.txt'): string {
  const names = ['Tom', 'Anna', 'Ben', 'Lily', 'Max'];
  const things = ['ball', 'cat', 'tree', 'cake', 'boat'];
  const paragraphs: string[] = [];
  for (let i = 0; i < 60; i++) {
    const n = names[i % 5], t = things[(i * 3) % 5];
    paragraphs.push(`${n} had a red ${t}. ${n} liked the ${t} very much. One day ${n} gave the ${t} to a friend.`);
  }
  const path = join(dir, name);
  writeFileSync(path, paragraphs.join('\n\n'));
  return path;
}

/** A pretraining config that runs a step in milliseconds. */
export function tinyPretrainConfig(steps: number, extra: Record<string, unknown> = {}): PretrainConfig {
  return parsePretrainConfig({
    model: { hiddenSize: 16, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 32 },
    tokenizer: { vocabSize: 300, minFrequency: 1 },
    seqLen: 16, batchSize: 4, steps,
    optimizer: { lr: 1e-2, minLr: 1e-3, warmupSteps: 2, weightDecay: 0.01 },
    seed: 7,
    data: { validationFraction: 0.1 },
    eval: { every: 0, batches: 1 },
    linearity: { every: 0, batches: 1 },
    checkpoint: { every: 0 },
    ...extra,
  });
}

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
