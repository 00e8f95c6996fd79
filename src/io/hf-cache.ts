/**
 * The Hugging Face hub cache layout, shared with Python's `huggingface_hub`:
 *
 *   <cache>/models--<org>--<name>/
 *     blobs/<etag>                 file contents (etag = sha256 for LFS files, git blob sha1 otherwise)
 *     blobs/<etag>.incomplete      a download in progress
 *     refs/<revision>              the commit sha a branch/tag pointed to when last resolved
 *     snapshots/<sha>/<path>       relative symlinks into blobs/
 *
 * <cache> is $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
 * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { writeAll, writeFileAtomically } from './atomic-file.ts';

const COMMIT_SHA = /^[0-9a-f]{40}$/;

/** The hub cache directory from the environment (see the module comment). */
export function defaultHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const hfHome = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
  return join(hfHome, 'hub');
}

/** `models--org--name` inside the cache. */
export function repoCacheDir(cacheDir: string, repoId: string): string {
  return join(cacheDir, ['models', ...repoId.split('/')].join('--'));
}

/** The commit a revision resolved to last time, from refs/ (a 40-hex revision is its own commit). */
export function cachedCommit(repoDir: string, revision: string): string | undefined {
  if (COMMIT_SHA.test(revision)) return revision;
  const ref = join(repoDir, 'refs', revision);
  if (!existsSync(ref)) return undefined;
  const sha = readFileSync(ref, 'utf8').trim();
  return COMMIT_SHA.test(sha) ? sha : undefined;
}

/** Record that `revision` now points at `commit`. */
export function writeRef(repoDir: string, revision: string, commit: string): void {
  if (revision === commit) return;
  writeFileAtomically(join(repoDir, 'refs', revision), (fd) => writeAll(fd, Buffer.from(commit, 'utf8')));
}

export function snapshotDir(repoDir: string, commit: string): string {
  return join(repoDir, 'snapshots', commit);
}

export function blobPath(repoDir: string, etag: string): string {
  return join(repoDir, 'blobs', etag);
}

/** True when `path` exists, following symlinks (a dangling link counts as missing). */
export function existsResolved(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Point snapshots/<sha>/<file> at its blob with a relative symlink (a copy where symlinks fail). */
export function linkSnapshotFile(pointer: string, blob: string): void {
  mkdirSync(dirname(pointer), { recursive: true });
  rmSync(pointer, { force: true });
  try {
    symlinkSync(relative(dirname(pointer), blob), pointer);
  } catch {
    copyFileSync(blob, pointer);
  }
}
