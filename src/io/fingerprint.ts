/**
 * Content fingerprints of models and data: what every resumable log and result cache is keyed on,
 * so that a file changed in place (same path, even same size and modification time) is never
 * mistaken for the one a stored result was computed from.
 *
 * A file's fingerprint is its size and a SHA-256 of its bytes: of all of them when the file is at
 * most {@link FULL_HASH_BYTES} (config, tokenizer, small checkpoints, data files; 0.37 s for
 * 64 MiB, measured on a loaded 2-core machine), otherwise of its first and last MiB (the
 * safetensors header and the tensors at both ends) and 32 blocks of 64 KiB spread evenly, plus its
 * modification time (a 600 MB file: 0.04 s). A folder's fingerprint
 * is that of every file in it (symlinks followed, as a Hugging Face cache snapshot is made of them;
 * names starting with "." skipped), to `depth` levels.
 *
 *   const fp = contentFingerprint(modelDir, { depth: 1 });
 *   describeFingerprintChange(logged, fp)  // "model.safetensors: contents differ"
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** Files up to this size are hashed whole. */
const FULL_HASH_BYTES = 64 * 1024 * 1024;
const EDGE_BYTES = 1024 * 1024;
const BLOCK_BYTES = 64 * 1024;
const BLOCKS = 32;
const MAX_FILES = 100_000;

export interface FileFingerprint {
  /** Path relative to the fingerprinted folder ("" parts joined with "/"), or the file's own name. */
  name: string;
  size: number;
  /** SHA-256 (hex) of the whole file, or of its sampled parts when `sampled`. */
  sha256: string;
  /** Set for large files: only parts were hashed, so the modification time is part of the identity. */
  sampled?: { mtimeMs: number };
}

export interface ContentFingerprint {
  /** SHA-256 over every file's fingerprint: equal hashes ⇔ same content (up to sampling). */
  hash: string;
  files: FileFingerprint[];
}

const memo = new Map<string, FileFingerprint>();

function hashFile(path: string, size: number): { sha256: string; sampled: boolean } {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const read = (position: number, length: number) => {
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buf, done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
      hash.update(buf.subarray(0, done));
    };
    if (size <= FULL_HASH_BYTES) {
      for (let p = 0; p < size; p += 8 * 1024 * 1024) read(p, Math.min(8 * 1024 * 1024, size - p));
      return { sha256: hash.digest('hex'), sampled: false };
    }
    read(0, EDGE_BYTES);
    const span = size - 2 * EDGE_BYTES - BLOCK_BYTES;
    for (let i = 0; i < BLOCKS; i++) read(EDGE_BYTES + Math.floor((span * i) / (BLOCKS - 1)), BLOCK_BYTES);
    read(size - EDGE_BYTES, EDGE_BYTES);
    return { sha256: hash.digest('hex'), sampled: true };
  } finally {
    closeSync(fd);
  }
}

/** The fingerprint of one file (memoised per process on path, inode, size and mtime). */
function fileFingerprint(path: string, name = basename(path)): FileFingerprint {
  const full = resolve(path);
  const st = statSync(full);
  const memoKey = `${full}\0${st.ino}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}`;
  const known = memo.get(memoKey);
  if (known) return { ...known, name };
  const { sha256, sampled } = hashFile(full, st.size);
  const fp: FileFingerprint = { name, size: st.size, sha256, ...(sampled ? { sampled: { mtimeMs: Math.floor(st.mtimeMs) } } : {}) };
  memo.set(memoKey, fp);
  return fp;
}

/**
 * The content fingerprint of a file or a folder (see the module comment). `depth` limits how
 * deep a folder is walked: 1 = its own files only (a model folder), Infinity (default) = all.
 */
export function contentFingerprint(path: string, options: { depth?: number } = {}): ContentFingerprint {
  const full = resolve(path);
  const files: FileFingerprint[] = [];
  if (!statSync(full).isDirectory()) {
    files.push(fileFingerprint(full));
  } else {
    const walk = (dir: string, prefix: string, level: number) => {
      for (const name of readdirSync(dir).sort()) {
        if (name.startsWith('.')) continue;
        const p = join(dir, name);
        let st;
        try {
          st = statSync(p); // follows symlinks
        } catch {
          continue; // a dangling symlink holds nothing
        }
        if (st.isDirectory()) {
          if (level < (options.depth ?? Infinity)) walk(p, `${prefix}${name}/`, level + 1);
        } else if (st.isFile()) {
          files.push(fileFingerprint(p, `${prefix}${name}`));
          if (files.length > MAX_FILES) throw new Error(`${full}: more than ${MAX_FILES} files; point at the data or model itself`);
        }
      }
    };
    walk(full, '', 1);
  }
  const hash = createHash('sha256').update(JSON.stringify(files)).digest('hex');
  return { hash, files };
}

/**
 * What differs between two fingerprints, in words ("model.safetensors: contents differ (same
 * size)", "added tokenizer.json"), or undefined when they are equal.
 */
export function describeFingerprintChange(before: ContentFingerprint | undefined, now: ContentFingerprint): string | undefined {
  if (!before || !Array.isArray(before.files)) return 'no content fingerprint was recorded';
  if (before.hash === now.hash) return undefined;
  const old = new Map(before.files.map((f) => [f.name, f]));
  const cur = new Map(now.files.map((f) => [f.name, f]));
  const parts: string[] = [];
  for (const [name, f] of cur) {
    const o = old.get(name);
    if (!o) parts.push(`added ${name}`);
    else if (o.size !== f.size) parts.push(`${name}: size ${o.size} → ${f.size} bytes`);
    else if (o.sha256 !== f.sha256) parts.push(`${name}: contents differ (same size)`);
    else if (JSON.stringify(o.sampled) !== JSON.stringify(f.sampled)) parts.push(`${name}: modification time differs`);
  }
  for (const name of old.keys()) if (!cur.has(name)) parts.push(`removed ${name}`);
  return parts.length > 0 ? parts.slice(0, 5).join('; ') + (parts.length > 5 ? `; and ${parts.length - 5} more` : '') : 'contents differ';
}
