/**
 * Result cache: expensive analysis results (per-layer scores, LASER sweeps) stored as JSON files
 * under `.cache/linscope/` (or `$LINSCOPE_CACHE`; `LINSCOPE_CACHE=off` disables caching), keyed
 * by a stable hash of what determines the result: the model's and the data's content (see
 * src/io/fingerprint.ts: never their paths, which stay the same when files are replaced) and options.
 *
 *   const key = cacheKey({ kind: 'linearity', model: contentFingerprint(modelDir, { depth: 1 }), data: dataId, options });
 *   const scores = await cached(key, () => computeScores(...));
 *
 * Values round-trip exactly: numbers keep every bit (shortest round-trip decimal), NaN/±Infinity
 * and typed arrays are tagged so they come back as they went in. Writes are atomic, so a crash or
 * a concurrent run never leaves a half-written entry; an unreadable entry is treated as a miss.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic-file.ts';

/** Bumped when the entry format changes, so old entries stop matching. */
const CACHE_FORMAT = 1;

const TYPED_ARRAYS = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

/**
 * Encodes a value as plain JSON data with tags for what JSON cannot hold (exactly reversible).
 * `sortKeys` orders object keys (for hashing); stored values keep their key order.
 */
function encode(value: unknown, sortKeys = false): unknown {
  const recurse = (v: unknown) => encode(v, sortKeys);
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name as TypedArrayName;
    if (!(name in TYPED_ARRAYS)) throw new Error(`cache: cannot store a ${name}`);
    return { $typed: name, values: Array.from(value as unknown as ArrayLike<number>, recurse) };
  }
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : recurse(v)));
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map || value instanceof Set) throw new Error('cache: Map and Set values are not supported; use objects and arrays');
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const k of sortKeys ? keys.sort() : keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined && typeof v !== 'function') out[k] = recurse(v);
  }
  return out;
}

/** Inverse of {@link encode}. */
function decode(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data;
  if (Array.isArray(data)) return data.map(decode);
  const obj = data as Record<string, unknown>;
  if (typeof obj.$number === 'string' && Object.keys(obj).length === 1) return Number(obj.$number);
  if (typeof obj.$bigint === 'string' && Object.keys(obj).length === 1) return BigInt(obj.$bigint);
  if (typeof obj.$typed === 'string' && obj.$typed in TYPED_ARRAYS && Array.isArray(obj.values)) {
    return TYPED_ARRAYS[obj.$typed as TypedArrayName].from(obj.values.map(decode) as number[]);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = decode(v);
  return out;
}

/**
 * Canonical JSON of a value: object keys sorted at every level, undefined fields dropped (so an
 * unset optional option does not change a key), non-finite numbers and typed arrays tagged.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(encode(value, true));
}

/** SHA-256 (hex) of {@link canonicalJson}: equal for equal content regardless of key order. */
export function stableHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * {@link stableHash} of an array of integer arrays (token id sequences), fed to the hash row by
 * row: the same digest without building the whole JSON text (or its copy) in memory.
 */
export function stableHashOfRows(rows: readonly (readonly number[])[]): string {
  // integers print the same in JSON and in join(); anything else takes the general path
  if (!rows.every((row) => row.every((v) => Number.isSafeInteger(v)))) return stableHash(rows);
  const hash = createHash('sha256').update('[');
  rows.forEach((row, i) => hash.update(`${i > 0 ? ',' : ''}[${row.join(',')}]`));
  return hash.update(']').digest('hex');
}

/** What determines a cached result. */
export interface CacheKeyParts {
  /** What is computed, e.g. 'linearity' or 'laser-sweep'; keeps different analyses apart. */
  kind: string;
  /** Model identity: the content fingerprint of the model folder (src/io/fingerprint.ts). */
  model: unknown;
  /** Data identity: the exact inputs (e.g. a hash of the token sequences) or a content fingerprint. */
  data: unknown;
  /** Every option that affects the result. */
  options?: unknown;
  /** Code version of the analysis: bump when its output changes meaning. */
  version?: string | number;
  /** The float32 arithmetic's version (src/tensor/numerics.ts), for results of forward passes. */
  numerics?: number;
}

/** A cache key: the parts as given (stored in the entry for inspection) and their hash. */
export interface CacheKey {
  hash: string;
  parts: unknown;
}

/** Builds a cache key from its parts (or from any JSON-like value). */
export function cacheKey(parts: CacheKeyParts | Record<string, unknown>): CacheKey {
  const normalised = JSON.parse(canonicalJson(parts));
  return { hash: stableHash({ format: CACHE_FORMAT, key: normalised }), parts: normalised };
}

/** Cache folder: $LINSCOPE_CACHE if set (relative to the working directory), else ./.cache/linscope. */
export function defaultCacheDir(): string {
  const env = process.env.LINSCOPE_CACHE;
  return resolve(env && env !== 'off' ? env : join('.cache', 'linscope'));
}

/** False when LINSCOPE_CACHE=off. */
function cacheEnabledByEnv(): boolean {
  return process.env.LINSCOPE_CACHE !== 'off';
}

export interface CachedOptions {
  /** Recompute and overwrite even if an entry exists. */
  refresh?: boolean;
}

interface Entry {
  format: number;
  key: unknown;
  createdAt: string;
  value: unknown;
}

/** A folder of cached results; see the module comment. */
export class ResultCache {
  readonly dir: string;
  readonly enabled: boolean;
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(dir: string = defaultCacheDir(), options: { enabled?: boolean } = {}) {
    this.dir = resolve(dir);
    this.enabled = options.enabled ?? cacheEnabledByEnv();
  }

  /** File that holds the entry for `key`. */
  pathFor(key: CacheKey | string): string {
    const hash = typeof key === 'string' ? cacheKey({ name: key }).hash : key.hash;
    return join(this.dir, hash.slice(0, 2), `${hash}.json`);
  }

  private normalise(key: CacheKey | string): CacheKey {
    return typeof key === 'string' ? cacheKey({ name: key }) : key;
  }

  /** The stored value, or undefined on a miss (absent, unreadable, or written for another key). */
  get<T = unknown>(key: CacheKey | string): T | undefined {
    if (!this.enabled) return undefined;
    const k = this.normalise(key);
    let entry: Entry;
    try {
      entry = JSON.parse(readFileSync(this.pathFor(k), 'utf8')) as Entry;
    } catch {
      return undefined;
    }
    if (entry.format !== CACHE_FORMAT || canonicalJson(entry.key) !== canonicalJson(k.parts)) return undefined;
    return decode(entry.value) as T;
  }

  has(key: CacheKey | string): boolean {
    return this.get(key) !== undefined;
  }

  /** Stores `value` under `key` (atomic write). */
  set(key: CacheKey | string, value: unknown): void {
    if (!this.enabled) return;
    const k = this.normalise(key);
    const entry: Entry = { format: CACHE_FORMAT, key: k.parts, createdAt: new Date().toISOString(), value: encode(value) };
    writeFileAtomicSync(this.pathFor(k), JSON.stringify(entry) + '\n');
  }

  delete(key: CacheKey | string): void {
    rmSync(this.pathFor(this.normalise(key)), { force: true });
  }

  /** Removes every entry (the whole cache folder). */
  clear(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Number of entries and bytes on disk. */
  stats(): { entries: number; bytes: number } {
    let entries = 0;
    let bytes = 0;
    let shards: string[] = [];
    try {
      shards = readdirSync(this.dir);
    } catch {
      return { entries, bytes };
    }
    for (const shard of shards) {
      let names: string[] = [];
      try {
        names = readdirSync(join(this.dir, shard));
      } catch {
        continue;
      }
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        entries++;
        bytes += statSync(join(this.dir, shard, name)).size;
      }
    }
    return { entries, bytes };
  }

  /**
   * Returns the cached value for `key`, or computes, stores and returns it. Concurrent calls with
   * the same key in this process share one computation. Values must be JSON-like (objects,
   * arrays, numbers, strings, booleans, null, typed arrays); `undefined` results are not cached.
   */
  async cached<T>(key: CacheKey | string, compute: () => T | Promise<T>, options: CachedOptions = {}): Promise<T> {
    const k = this.normalise(key);
    if (!options.refresh) {
      const hit = this.get<T>(k);
      if (hit !== undefined) return hit;
    }
    const pending = this.inFlight.get(k.hash);
    if (pending) return pending as Promise<T>;
    // Started asynchronously so the in-flight entry is registered before compute can settle.
    const run = Promise.resolve()
      .then(compute)
      .then((value) => {
        if (value !== undefined) this.set(k, value);
        return value;
      })
      .finally(() => this.inFlight.delete(k.hash));
    this.inFlight.set(k.hash, run);
    return run;
  }

  /** Where an entry lives, relative to the cache folder (for log messages). */
  describe(key: CacheKey | string): string {
    return relative(this.dir, this.pathFor(key));
  }
}

let defaultCache: ResultCache | undefined;

/** The process-wide cache in {@link defaultCacheDir} (re-created if LINSCOPE_CACHE changes). */
function getDefaultCache(): ResultCache {
  const dir = defaultCacheDir();
  const enabled = cacheEnabledByEnv();
  if (!defaultCache || defaultCache.dir !== dir || defaultCache.enabled !== enabled) defaultCache = new ResultCache(dir, { enabled });
  return defaultCache;
}

/** `getDefaultCache().cached(key, compute, options)`. */
export function cached<T>(key: CacheKey | string, compute: () => T | Promise<T>, options: CachedOptions = {}): Promise<T> {
  return getDefaultCache().cached(key, compute, options);
}
