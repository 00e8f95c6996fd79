/**
 * The fuzz property, in one place: every seeded mutation of a real file must give either a clear
 * linscope error about it (`isClearInputError`, src/io/input-error.ts) or a correct load (the
 * caller's independent `check` of what was accepted) — never a TypeError/RangeError from deep
 * inside, a non-Error, a slow case (a hang in the making), or silent acceptance of an invalid layout.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isClearInputError } from '../../src/io/input-error.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { Mutator } from './mutate.ts';

/** A fresh temporary folder, in memory (/dev/shm) when the machine has one: thousands of small writes. */
export function fuzzDir(prefix: string): string {
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), prefix));
}

export interface FuzzOptions<T> {
  /** Where each mutated file is written (the path the loader reads). */
  path: string;
  /** The real files to mutate (one is picked per iteration). */
  bases: Uint8Array[];
  mutate: Mutator;
  /** Reads the file at `path`; its result goes to `check`. */
  load: (path: string) => T | Promise<T>;
  /** For an accepted file: why it should not have been accepted (undefined when the load is correct). */
  check?: (result: T, bytes: Uint8Array) => string | undefined;
  /** Names an error may be about besides `path` (e.g. shard files next to an index). */
  files?: string[];
  iterations: number;
  seed: number;
  /** A single load slower than this is reported (default 5000 ms: generous for a loaded machine). */
  slowMs?: number;
}

export interface FuzzReport {
  accepted: number;
  refused: number;
  failures: string[];
  /** How often each refusal was given (message with numbers and paths blanked), for tuning mutators. */
  reasons: Map<string, number>;
}

export async function fuzz<T>(o: FuzzOptions<T>): Promise<FuzzReport> {
  const rng = new Rng(o.seed);
  const report: FuzzReport = { accepted: 0, refused: 0, failures: [], reasons: new Map() };
  const files = [o.path, ...(o.files ?? [])];
  // plain copies: Buffer#slice does not copy, and a mutation must never reach the base
  const bases = o.bases.map((b) => Uint8Array.from(b));
  for (let it = 0; it < o.iterations; it++) {
    const base = bases[rng.int(bases.length)];
    const bytes = o.mutate(base, rng);
    writeFileSync(o.path, bytes);
    const t0 = performance.now();
    let outcome: string | undefined;
    try {
      const result = await o.load(o.path);
      outcome = o.check?.(result, bytes);
      if (outcome) outcome = `accepted an invalid file: ${outcome}`;
      else report.accepted++;
    } catch (err) {
      if (files.some((f) => isClearInputError(err, f))) {
        report.refused++;
        const reason = (err as Error).message.replace(/\/[^\s:"]+/g, 'P').replace(/"[^"]*"/g, 'S').replace(/-?\d+(\.\d+)?/g, 'N').slice(0, 90);
        report.reasons.set(reason, (report.reasons.get(reason) ?? 0) + 1);
      }
      else outcome = `unclear error: ${err instanceof Error ? `${err.constructor.name}: ${err.message}\n${err.stack?.split('\n').slice(1, 4).join('\n')}` : `non-Error ${String(err)}`}`;
    }
    const ms = performance.now() - t0;
    if (!outcome && ms > (o.slowMs ?? 5000)) outcome = `took ${ms.toFixed(0)} ms`;
    if (outcome) report.failures.push(`seed ${o.seed} iteration ${it} (${bytes.length} bytes): ${outcome}`);
  }
  return report;
}
