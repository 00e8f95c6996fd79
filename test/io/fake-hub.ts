/**
 * A tiny stand-in for the few Hugging Face hub endpoints that resolveModel calls, served on
 * 127.0.0.1 (ephemeral port) for tests. Loopback only.
 *
 *   GET /api/models/<id>/revision/<rev>     model info with the commit sha
 *   GET /api/models/<id>/tree/<rev>         file listing (path, size, git oid, lfs {oid, size})
 *   GET /<id>/resolve/<rev>/<path>          file contents, honouring `Range: bytes=N-`
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRepo {
  id: string;
  sha: string;
  files: Record<string, Buffer>;
  /** Paths served as LFS files (listing carries lfs.oid = sha256). */
  lfs: string[];
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
}

export interface RequestLog {
  path: string;
  range?: string;
  auth?: string;
}

export interface FakeHub {
  url: string;
  requests: RequestLog[];
  /** Serve only this many bytes of the next download of `path`, then drop the connection. */
  cutNextDownload(path: string, bytes: number): void;
  close(): Promise<void>;
}

export const gitBlobOid = (content: Buffer): string =>
  createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
export const sha256 = (content: Buffer): string => createHash('sha256').update(content).digest('hex');

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startFakeHub(repos: FakeRepo[]): Promise<FakeHub> {
  const requests: RequestLog[] = [];
  const cuts = new Map<string, number>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    requests.push({ path, range: req.headers.range, auth: req.headers.authorization });
    const repo = repos.find((r) => path.startsWith(`/api/models/${r.id}/`) || path.startsWith(`/${r.id}/resolve/`));
    if (!repo) return json(res, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) {
      return json(res, 401, { error: 'Invalid credentials in Authorization header' });
    }
    const knownRev = (rev: string) => rev === 'main' || rev === repo.sha;

    let m = new RegExp(`^/api/models/${repo.id}/revision/([^/]+)$`).exec(path);
    if (m) {
      if (!knownRev(m[1])) return json(res, 404, { error: 'Invalid rev id' }, { 'X-Error-Code': 'RevisionNotFound' });
      return json(res, 200, {
        _id: 'fake', id: repo.id, sha: repo.sha, private: !!repo.token, gated: false, downloads: 0, likes: 0,
        lastModified: '2024-01-01T00:00:00.000Z', siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
      });
    }
    m = new RegExp(`^/api/models/${repo.id}/tree/([^/]+)$`).exec(path);
    if (m) {
      if (!knownRev(m[1])) return json(res, 404, { error: 'Invalid rev id' });
      return json(res, 200, Object.entries(repo.files).map(([p, content]) => ({
        type: 'file', path: p, size: content.length, oid: gitBlobOid(content),
        ...(repo.lfs.includes(p) ? { lfs: { oid: sha256(content), size: content.length, pointerSize: 134 } } : {}),
      })));
    }
    m = new RegExp(`^/${repo.id}/resolve/([^/]+)/(.+)$`).exec(path);
    if (m) {
      const content = repo.files[m[2]];
      if (!knownRev(m[1]) || !content) return json(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
      const etag = `"${repo.lfs.includes(m[2]) ? sha256(content) : gitBlobOid(content)}"`;
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      let start = 0;
      let end = content.length - 1;
      const headers: Record<string, string> = { ETag: etag, 'Accept-Ranges': 'bytes', 'X-Repo-Commit': repo.sha, 'Content-Type': 'application/octet-stream' };
      let status = 200;
      if (range) {
        start = Number(range[1]);
        if (range[2]) end = Math.min(end, Number(range[2]));
        if (start >= content.length) {
          res.writeHead(416, { 'Content-Range': `bytes */${content.length}` });
          return res.end();
        }
        status = 206;
        headers['Content-Range'] = `bytes ${start}-${end}/${content.length}`;
      }
      const body = content.subarray(start, end + 1);
      headers['Content-Length'] = String(body.length);
      res.writeHead(status, headers);
      const cut = cuts.get(m[2]);
      if (cut !== undefined) {
        cuts.delete(m[2]);
        res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 20));
        return;
      }
      return res.end(body);
    }
    json(res, 404, { error: 'unknown endpoint' });
  };

  const server = createServer(handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cutNextDownload: (path, bytes) => cuts.set(path, bytes),
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
