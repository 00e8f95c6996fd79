/**
 * Resolve a model argument to a local folder: a local path is used as is; a hub id ("org/name")
 * is downloaded into the standard Hugging Face cache (see hf-cache.ts), which Python tools share.
 *
 * Metadata comes from `@huggingface/hub` (`modelInfo` for the commit sha, `listFiles` for the file
 * tree with sizes and hashes); file contents are fetched from `<hubUrl>/<id>/resolve/<sha>/<path>`
 * by our resumable downloader, so an interrupted download continues where it stopped.
 *
 * Which files: config and tokenizer files, and one set of weights chosen as transformers does
 * (model.safetensors, else model.safetensors.index.json with only the shards its weight_map names,
 * else pytorch_model.bin, else pytorch_model.bin.index.json and its shards; other top-level
 * *.safetensors such as consolidated.safetensors only when none of those exists).
 * A hub id may carry its revision: "org/name@revision" (branch, tag or commit sha).
 *
 * Environment: HF_HUB_OFFLINE=1 (or TRANSFORMERS_OFFLINE=1) resolves from the cache only;
 * HF_TOKEN is the default token; HF_ENDPOINT the default hub URL; cache location per hf-cache.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import { downloadResumable } from './download.ts';
import { waitForLock } from './lock-file.ts';
import { assertWritableDir } from './writable.ts';
import {
  blobPath, cachedCommit, defaultHubCacheDir, existsResolved, linkSnapshotFile, repoCacheDir, snapshotDir, writeRef,
} from './hf-cache.ts';

export interface HubProgress {
  file: string;
  /** 0-based position of `file` among the files to fetch. */
  fileIndex: number;
  fileCount: number;
  downloadedBytes: number;
  totalBytes: number;
  /** 'cached': already in the cache; 'downloading': bytes arriving; 'done': file complete. */
  status: 'cached' | 'downloading' | 'done';
}

export interface ResolveModelOptions {
  /** Branch, tag or commit sha. Default "main". */
  revision?: string;
  /** Hub cache directory. Default: $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Use the cache only. Default: $HF_HUB_OFFLINE (or $TRANSFORMERS_OFFLINE) is 1/true/yes/on. */
  offline?: boolean;
  /** Access token for private or gated repos (starts with "hf_"). Default $HF_TOKEN. */
  token?: string;
  /** Hub base URL. Default $HF_ENDPOINT or https://huggingface.co. */
  hubUrl?: string;
  onProgress?: (p: HubProgress) => void;
  /** Notices (waiting for another download of the same repository); default: stderr. */
  onMessage?: (message: string) => void;
  /** Which repository files to fetch. Default: {@link isModelFile}. */
  include?: (path: string) => boolean;
}

const MODEL_FILES = new Set([
  'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
  'tokenizer.model', 'vocab.json', 'merges.txt',
]);

const isWeightsFile = (path: string) =>
  path.endsWith('.safetensors') || path.endsWith('.safetensors.index.json') || /^pytorch_model.*\.bin(\.index\.json)?$/.test(path);

/** Files a model folder may need: config, tokenizer files, weights (safetensors or PyTorch) and their index (top level). */
function isModelFile(path: string): boolean {
  if (path.includes('/')) return false;
  return MODEL_FILES.has(path) || isWeightsFile(path);
}

/**
 * The weights to fetch among a repo's top-level files, in transformers' order: `model.safetensors`,
 * `model.safetensors.index.json`, `pytorch_model.bin`, `pytorch_model.bin.index.json`; else every
 * other top-level safetensors file or index. An index is returned alone: its shards come from its
 * weight_map once it is downloaded.
 */
export function chooseWeights(paths: readonly string[]): { files: string[]; index?: string } {
  for (const name of ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json']) {
    if (paths.includes(name)) return name.endsWith('.json') ? { files: [name], index: name } : { files: [name] };
  }
  return { files: paths.filter((p) => !p.includes('/') && (p.endsWith('.safetensors') || p.endsWith('.safetensors.index.json'))) };
}

/** Split "org/name@revision" into id and revision (undefined when there is no "@"). */
export function splitRevision(idOrPath: string): { id: string; revision?: string } {
  const at = idOrPath.indexOf('@');
  if (at < 0) return { id: idOrPath };
  return { id: idOrPath.slice(0, at), revision: idOrPath.slice(at + 1) };
}

/** The shard files an index's weight_map names, as listed by the hub. */
function indexShards<T extends { path: string }>(indexFile: string, listed: readonly T[], where: string): T[] {
  let map: unknown;
  try {
    map = (JSON.parse(readFileSync(indexFile, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch (err) {
    throw new Error(`${where}: cannot read ${indexFile} (${(err as Error).message})`);
  }
  if (!map || typeof map !== 'object') throw new Error(`${where}: ${indexFile} has no "weight_map"`);
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  return shards.map((s) => {
    const f = listed.find((l) => l.path === s);
    if (!f) throw new Error(`${where}: the index names shard ${String(s)}, which the repo does not have`);
    return f;
  });
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** True when `s` is shaped like a hub repo id ("name" or "org/name"). */
export function isRepoId(s: string): boolean {
  return REPO_ID.test(s) && !s.includes('..');
}

/**
 * A local folder (or file) for `idOrPath`: existing paths are returned resolved; hub ids are
 * fetched into the hub cache (or found there when offline) and their snapshot folder returned.
 */
export async function resolveModel(idOrPath: string, options: ResolveModelOptions = {}): Promise<string> {
  if (existsSync(idOrPath)) return resolve(idOrPath);
  const { id, revision: pinned } = splitRevision(idOrPath);
  if (!isRepoId(id) || pinned === '') {
    throw new Error(`model "${idOrPath}" is neither an existing file or folder nor a hub id like "org/name" or "org/name@revision"`);
  }
  if (pinned !== undefined && options.revision !== undefined && options.revision !== pinned) {
    throw new Error(`model "${idOrPath}" names revision ${pinned} but --revision says ${options.revision}: give one`);
  }
  const revision = pinned ?? options.revision ?? 'main';
  const cacheDir = options.cacheDir ?? defaultHubCacheDir();
  const repoDir = repoCacheDir(cacheDir, id);
  const offline = options.offline ?? (envFlag(process.env.HF_HUB_OFFLINE) || envFlag(process.env.TRANSFORMERS_OFFLINE));
  const fromCache = (): string | undefined => {
    const sha = cachedCommit(repoDir, revision);
    const dir = sha && snapshotDir(repoDir, sha);
    return dir && existsSync(dir) ? dir : undefined;
  };

  if (offline) {
    const dir = fromCache();
    if (!dir) {
      throw new Error(`${id}@${revision} is not in the hub cache (${repoDir}) and offline mode is on ` +
        `(HF_HUB_OFFLINE / offline option): run once online to download it, or pass a local folder`);
    }
    return dir;
  }

  assertWritableDir(cacheDir, 'the hub cache');
  const hubUrl = (options.hubUrl ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const token = options.token ?? process.env.HF_TOKEN ?? process.env.HUGGING_FACE_HUB_TOKEN;
  if (token !== undefined && !token.startsWith('hf_')) {
    throw new Error(`the hub token (option or HF_TOKEN) must start with "hf_"; got one starting with "${token.slice(0, 3)}"`);
  }
  const credentials = token ? { accessToken: token } : {};

  let sha: string;
  try {
    const info = await modelInfo({ name: id, revision, hubUrl, additionalFields: ['sha'], ...credentials });
    sha = info.sha;
  } catch (err) {
    if (err instanceof HubApiError) {
      const hint = err.statusCode === 401 || err.statusCode === 403 || err.statusCode === 404
        ? ' (no such model or revision, or it is private/gated: pass a token or set HF_TOKEN)' : '';
      throw new Error(`hub lookup of ${id}@${revision} failed with HTTP ${err.statusCode}${hint}: ${err.message}`);
    }
    const cached = fromCache();
    if (cached) return cached; // hub unreachable: use what the cache has, as huggingface_hub does
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new Error(`cannot reach the hub at ${hubUrl} (${cause}) and ${id}@${revision} is not in the cache (${repoDir})`);
  }

  const include = options.include ?? isModelFile;
  type Listed = { path: string; size: number; etag: string; sha256?: string };
  const listed: Listed[] = [];
  for await (const entry of listFiles({ repo: { type: 'model', name: id }, revision: sha, recursive: true, hubUrl, ...credentials })) {
    if (entry.type !== 'file' || !include(entry.path)) continue;
    const etag = entry.lfs?.oid ?? entry.oid;
    if (!etag || !/^[0-9a-f]{40,64}$/i.test(etag)) throw new Error(`hub listing of ${id}@${sha} gives no valid hash for ${entry.path}`);
    listed.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, etag, sha256: entry.lfs?.oid });
  }
  // With the default selection, fetch one set of weights (see chooseWeights); an index comes first.
  const weights = options.include ? undefined : chooseWeights(listed.map((f) => f.path).filter(isWeightsFile));
  const files = weights
    ? [...listed.filter((f) => weights.files.includes(f.path)), ...listed.filter((f) => !isWeightsFile(f.path))]
    : listed;
  if (files.length === 0) throw new Error(`${id}@${revision} (${sha}) has no model files (config.json, *.safetensors, pytorch_model*.bin, tokenizer files)`);

  if (!/^[0-9a-f]{40}$/.test(sha)) throw new Error(`hub lookup of ${id}@${revision} returned an invalid commit sha ${JSON.stringify(sha)}`);
  const snapshot = resolve(snapshotDir(repoDir, sha));
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  // one download of a repository into a cache at a time (another process or call waits)
  const lock = await waitForLock(join(cacheDir, '.locks', basename(repoDir), 'linscope.lock'), {
    what: `the hub cache of ${id} (${cacheDir})`,
    onMessage: options.onMessage ?? ((m) => process.stderr.write(`${m}\n`)),
  });
  try {
    for (let fileIndex = 0; fileIndex < files.length; fileIndex++) {
      const f = files[fileIndex];
      const report = (downloadedBytes: number, status: HubProgress['status']) =>
        options.onProgress?.({ file: f.path, fileIndex, fileCount: files.length, downloadedBytes, totalBytes: f.size, status });
      const pointer = resolve(snapshot, f.path);
      if (!pointer.startsWith(snapshot + sep)) throw new Error(`hub listing of ${id}@${sha} has a path outside the repo: ${f.path}`);
      const blob = blobPath(repoDir, f.etag);
      if (existsResolved(pointer)) {
        report(f.size, 'cached');
      } else if (!existsResolved(blob)) {
        const url = `${hubUrl}/${id}/resolve/${sha}/${f.path.split('/').map(encodeURIComponent).join('/')}`;
        await downloadResumable({
          url, dest: blob, size: f.size, sha256: f.sha256, headers,
          onBytes: (n) => report(n, 'downloading'),
        });
        report(f.size, 'done');
      } else {
        report(f.size, 'cached');
      }
      if (!existsResolved(pointer)) linkSnapshotFile(pointer, blob);
      if (f.path === weights?.index) files.push(...indexShards(pointer, listed, `${id}@${sha}`));
    }
    writeRef(repoDir, revision, sha);
  } finally {
    lock.release();
  }
  return snapshot;
}
