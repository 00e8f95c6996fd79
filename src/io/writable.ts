/**
 * Checks, before any work, that a folder a command will write into (an --out folder, a cache) can
 * be created and written, so a read-only disk or a mistyped path fails in the first second with
 * the real reason (read-only file system, permission denied, a file where a folder should be)
 * instead of "ENOENT … mkdir" after all the computation.
 *
 * The check creates nothing but a probe file, removed at once, in the nearest folder that exists:
 * the folder itself when it exists, otherwise the ancestor its creation would start from.
 */
import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';

const REASONS: Record<string, string> = {
  EROFS: 'is on a read-only file system',
  EACCES: 'is not writable (permission denied)',
  EPERM: 'is not writable (operation not permitted)',
  ENOSPC: 'is on a full disk',
  EDQUOT: 'is over its disk quota',
  ENOTDIR: 'is a file, not a folder',
};

/** The nearest existing path at or above `path`. */
function nearestExisting(path: string): string {
  let p = resolve(path);
  for (;;) {
    try {
      statSync(p);
      return p;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const parent = dirname(p);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === p) return p;
      p = parent;
    }
  }
}

/**
 * Throws `<what> <dir>: cannot write there: /x is on a read-only file system (EROFS)` (or the
 * like) when `dir` cannot be created or written. `what` names the option, e.g. "--out".
 */
export function assertWritableDir(dir: string, what: string): void {
  const existing = nearestExisting(dir);
  const fail = (where: string, code: string, detail?: string): never => {
    const reason = REASONS[code] ?? `cannot be written (${detail ?? code})`;
    throw new Error(`${what} ${dir}: cannot write there: ${where} ${reason}${REASONS[code] ? ` (${code})` : ''}`);
  };
  if (!statSync(existing).isDirectory()) fail(existing, 'ENOTDIR');
  const probe = join(existing, `.linscope-write-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    fail(existing, err.code ?? 'EIO', err.message);
  }
  rmSync(probe, { force: true });
}
