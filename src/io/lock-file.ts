/**
 * Lock files: one process at a time writes into an output folder (`laser search -o`, `pretrain
 * --out`) or downloads a repository into a cache. The lock is a small JSON file (pid, host,
 * command, start time) created atomically (written aside, then hard-linked into place, which fails
 * if it exists). A second process is refused with "in use by pid N (command, since …)", or waits
 * for it when asked. A lock whose process is no longer running (killed, crashed) is taken over,
 * with a message. Locks are removed on release and when the process exits.
 */
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { temporarySibling } from './atomic-file.ts';

export interface LockInfo {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  token: string;
}

export interface LockOptions {
  /** What the lock protects, for messages, e.g. "the output folder runs/x". */
  what: string;
  /** Messages: a stale lock taken over, waiting for another process. */
  onMessage?: (message: string) => void;
}

export interface WaitOptions extends LockOptions {
  /** Poll interval while waiting (default 250 ms). */
  pollMs?: number;
}

/** A lock this process holds. */
export interface HeldLock {
  readonly path: string;
  release(): void;
}

const held = new Map<string, string>(); // path → token
let exitHook = false;

function releaseAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const [path, token] of held) removeIfOurs(path, token);
  });
}

function readLock(path: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return Number.isInteger(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

function removeIfOurs(path: string, token: string): void {
  if (readLock(path)?.token === token) rmSync(path, { force: true });
}

/** True when process `pid` exists (on this host). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Attempt = { lock: HeldLock } | { busy: LockInfo };

function attempt(path: string, options: LockOptions): Attempt {
  mkdirSync(dirname(path), { recursive: true });
  const token = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const info: LockInfo = { pid: process.pid, host: hostname(), command: process.argv.slice(2).join(' ').slice(0, 300), startedAt: new Date().toISOString(), token };
  const tmp = temporarySibling(path);
  writeFileSync(tmp, `${JSON.stringify(info)}\n`);
  try {
    for (let tries = 0; tries < 20; tries++) {
      try {
        linkSync(tmp, path);
        held.set(path, token);
        releaseAllOnExit();
        return {
          lock: {
            path,
            release: () => {
              if (held.get(path) !== token) return;
              held.delete(path);
              removeIfOurs(path, token);
            },
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const other = readLock(path);
      const inThisProcess = other?.pid === process.pid && other.host === info.host && [...held.values()].includes(other.token);
      const alive = other !== undefined && (other.host !== info.host || inThisProcess || (other.pid !== process.pid && running(other.pid)));
      if (alive) return { busy: other };
      options.onMessage?.(
        other
          ? `${options.what}: taking over the lock of pid ${other.pid} (${other.command || 'linscope'}, since ${other.startedAt}), which is no longer running`
          : `${options.what}: taking over an unreadable lock file ${path}`,
      );
      rmSync(path, { force: true });
    }
    throw new Error(`${options.what}: could not take the lock ${path}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function busyMessage(path: string, what: string, other: LockInfo): string {
  const where = other.host !== hostname() ? ` on host ${other.host}` : '';
  return `${what} is in use by pid ${other.pid}${where} (${other.command ? `linscope ${other.command}` : 'linscope'}, since ${other.startedAt}); ` +
    `wait for it to finish or stop it (if that process is gone, delete ${path})`;
}

/** Takes the lock at `path`, or throws "… is in use by pid N …" when another live process holds it. */
export function acquireLock(path: string, options: LockOptions): HeldLock {
  const r = attempt(path, options);
  if ('lock' in r) return r.lock;
  throw new Error(busyMessage(path, options.what, r.busy));
}

/** Takes the lock at `path`, waiting (with one message) while another live process holds it. */
export async function waitForLock(path: string, options: WaitOptions): Promise<HeldLock> {
  let said = false;
  for (;;) {
    const r = attempt(path, options);
    if ('lock' in r) return r.lock;
    if (!said) options.onMessage?.(`${busyMessage(path, options.what, r.busy).replace(/; wait for it.*$/, '')}: waiting for it to finish`);
    said = true;
    await new Promise((ok) => setTimeout(ok, options.pollMs ?? 250));
  }
}
