/**
 * Resumable HTTP download into a blob file: bytes go to `<dest>.incomplete`; a later attempt
 * continues from its length with `Range: bytes=<have>-`. The finished file is checked (size, and
 * sha256 when known) before it is renamed to `dest`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface DownloadRequest {
  url: string;
  dest: string;
  /** Expected size in bytes. */
  size: number;
  /** Expected sha256 (hex) of the contents, when the hub gives one (LFS files). */
  sha256?: string;
  headers?: Record<string, string>;
  onBytes?: (downloaded: number, total: number) => void;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Download `url` to `dest`, resuming a previous partial download. Resolves when `dest` is complete. */
export async function downloadResumable(req: DownloadRequest): Promise<void> {
  const partial = `${req.dest}.incomplete`;
  mkdirSync(dirname(req.dest), { recursive: true });
  let have = existsSync(partial) ? statSync(partial).size : 0;
  if (have > req.size) {
    rmSync(partial);
    have = 0;
  }
  if (have < req.size || req.size === 0) {
    const headers: Record<string, string> = { ...req.headers };
    if (have > 0) headers.Range = `bytes=${have}-`;
    const res = await fetch(req.url, { headers, redirect: 'follow' });
    if (res.status === 416 && have > 0) {
      // The server has nothing past what we hold: start over rather than trust the partial file.
      rmSync(partial, { force: true });
      await res.body?.cancel();
      return downloadResumable(req);
    }
    if (!res.ok) {
      const body = await res.text().catch(() => '');
      throw new Error(`download of ${req.url} failed: HTTP ${res.status} ${res.statusText}${body ? ` (${body.slice(0, 200)})` : ''}`);
    }
    let append = false;
    if (res.status === 206) {
      const start = Number(/bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1]);
      if (start !== have) throw new Error(`download of ${req.url}: asked to resume at byte ${have}, server answered from ${start}`);
      append = true;
    } else {
      have = 0; // 200: the server ignored the range and sends everything
    }
    const file = await open(partial, append ? 'a' : 'w');
    try {
      req.onBytes?.(have, req.size);
      if (res.body) {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          await file.write(chunk);
          have += chunk.length;
          req.onBytes?.(have, req.size);
        }
      }
    } catch (err) {
      throw new Error(`download of ${req.url} interrupted at ${have} of ${req.size} bytes (${(err as Error).message}); ` +
        `run again to resume from ${partial}`);
    } finally {
      await file.close();
    }
  }
  const got = statSync(partial).size;
  if (got !== req.size) {
    throw new Error(`download of ${req.url} ended at ${got} of ${req.size} bytes; run again to resume from ${partial}`);
  }
  if (req.sha256) {
    const actual = await sha256Of(partial);
    if (actual !== req.sha256) {
      rmSync(partial, { force: true });
      throw new Error(`download of ${req.url} is corrupt: sha256 ${actual}, expected ${req.sha256} (partial file removed)`);
    }
  }
  renameSync(partial, req.dest);
}
