/**
 * The residual stream of every batch between two blocks of a layer-major pass
 * (src/models/layer-major.ts): tensors by key, kept in memory up to a byte budget and spilled
 * to a temporary folder above it (one raw little-endian file per tensor, read back whole when
 * needed, deleted when dropped). The folder is removed by `close()` and, failing that, when the
 * process exits.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, type DType } from '../tensor/tensor.ts';

interface Spilled {
  path: string;
  shape: readonly number[];
  dtype: DType;
  bytes: number;
}

export interface ResidualStoreStats {
  /** Most bytes held in memory at once. */
  peakResidentBytes: number;
  /** Bytes written to disk in all. */
  spilledBytes: number;
}

const openFolders = new Set<string>();
let exitHook = false;
function removeOnExit(dir: string): void {
  openFolders.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const d of openFolders) rmSync(d, { recursive: true, force: true });
  });
}

export class ResidualStore {
  private readonly resident = new Map<string, Tensor>();
  private readonly spilled = new Map<string, Spilled>();
  private residentBytes = 0;
  private dir: string | undefined;
  private files = 0;
  readonly stats: ResidualStoreStats = { peakResidentBytes: 0, spilledBytes: 0 };

  /** `budgetBytes`: most bytes kept in memory; `spillDir`: parent of the temporary folder (default the OS's). */
  constructor(readonly budgetBytes: number, private readonly spillDir = tmpdir()) {}

  get size(): number {
    return this.resident.size + this.spilled.size;
  }

  has(key: string): boolean {
    return this.resident.has(key) || this.spilled.has(key);
  }

  /** Stores `t` under `key` (replacing what was there): in memory while the budget allows, else on disk. */
  set(key: string, t: Tensor): void {
    this.delete(key);
    const bytes = t.data.byteLength;
    if (this.residentBytes + bytes <= this.budgetBytes) {
      this.resident.set(key, t);
      this.residentBytes += bytes;
      this.stats.peakResidentBytes = Math.max(this.stats.peakResidentBytes, this.residentBytes);
      return;
    }
    if (!this.dir) {
      this.dir = mkdtempSync(join(this.spillDir, 'linscope-residual-'));
      removeOnExit(this.dir);
    }
    const path = join(this.dir, `${this.files++}.bin`);
    writeFileSync(path, new Uint8Array(t.data.buffer, t.data.byteOffset, bytes));
    this.spilled.set(key, { path, shape: [...t.shape], dtype: t.dtype, bytes });
    this.stats.spilledBytes += bytes;
  }

  /** The tensor stored under `key` (read back from disk when it was spilled). */
  get(key: string): Tensor {
    const t = this.resident.get(key);
    if (t) return t;
    const s = this.spilled.get(key);
    if (!s) throw new Error(`ResidualStore: nothing stored under "${key}"`);
    const raw = readFileSync(s.path);
    const copy = new Uint8Array(s.bytes);
    copy.set(raw.subarray(0, s.bytes));
    return new Tensor(s.dtype === 'float64' ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer), s.shape);
  }

  /** Forgets `key` (frees its memory or deletes its file). */
  delete(key: string): void {
    const t = this.resident.get(key);
    if (t) {
      this.resident.delete(key);
      this.residentBytes -= t.data.byteLength;
      return;
    }
    const s = this.spilled.get(key);
    if (s) {
      this.spilled.delete(key);
      unlinkSync(s.path);
    }
  }

  /** Drops everything and removes the spill folder. */
  close(): void {
    this.resident.clear();
    this.residentBytes = 0;
    this.spilled.clear();
    if (this.dir) {
      rmSync(this.dir, { recursive: true, force: true });
      openFolders.delete(this.dir);
      this.dir = undefined;
    }
  }
}
