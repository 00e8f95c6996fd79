/**
 * The memory budget of a run (`--max-memory`): how much the residual stream, the active block and
 * the statistics may hold before the residual stream spills to disk. The default is 80 % of the
 * memory the machine has available when the command starts (Linux `MemAvailable` from
 * /proc/meminfo, capped by the cgroup limit; Node's `os.freemem()` elsewhere).
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { memoryLimits } from './memory-estimate.ts';

/** Share of the available memory the default budget takes. */
export const DEFAULT_BUDGET_SHARE = 0.8;

/** Memory available to this process now: MemAvailable (Linux) or free memory, within the cgroup limit. */
export function availableMemory(): number {
  let available = freemem();
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) available = Number(m[1]) * 1024;
  } catch {
    // not Linux: free memory
  }
  return Math.min(available, memoryLimits().totalBytes);
}

/** The default `--max-memory`: 80 % of the available memory. */
export function defaultMaxMemory(): number {
  return Math.floor(DEFAULT_BUDGET_SHARE * availableMemory());
}

/** "6G", "512M", "1.5GB", "800000000" → bytes (powers of 1024); throws one clear line otherwise. */
export function parseByteSize(text: string, option = '--max-memory'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(text);
  if (!m) throw new Error(`${option}: "${text}" is not a size (e.g. 6G, 512M, 1.5G or a number of bytes)`);
  const power = { '': 0, k: 1, m: 2, g: 3, t: 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.floor(Number(m[1]) * 1024 ** power);
  if (!(bytes > 0)) throw new Error(`${option}: "${text}" must be more than 0 bytes`);
  return bytes;
}
