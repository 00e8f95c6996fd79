/**
 * Read-only index of a zip archive's stored (uncompressed) entries, as PyTorch's `torch.save`
 * writes them: the central directory is parsed from the end of the file (ZIP64 records included,
 * for archives past 4 GB), and each entry's data offset is found from its local header on demand.
 * Nothing but the directory is read; entry bytes are read by the caller at `dataOffset(name)`.
 * Format: PKWARE APPNOTE.TXT §4.3 (end of central directory, ZIP64 end record and locator,
 * central directory file header, local file header, ZIP64 extended information extra field 0x0001).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readExactly } from './read-at.ts';

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export interface ZipEntry {
  name: string;
  /** 0 = stored; anything else is compressed and refused when read. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

function u64(view: DataView, at: number, path: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${path}: zip field ${v} is too large`);
  return Number(v);
}

/** The entries of a zip file, by name. */
export class ZipIndex {
  readonly path: string;
  readonly size: number;
  private readonly entries = new Map<string, ZipEntry>();
  private readonly offsets = new Map<string, number>();

  constructor(path: string) {
    this.path = path;
    const fd = openSync(path, 'r');
    try {
      this.size = fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
    this.readDirectory();
  }

  private bytes(position: number, length: number, what: string): DataView {
    if (position < 0 || position + length > this.size) {
      throw new Error(`${this.path}: not a valid zip archive (${what} at byte ${position} lies outside the ${this.size}-byte file)`);
    }
    const buf = new Uint8Array(length);
    readExactly(this.path, position, buf, what);
    return new DataView(buf.buffer);
  }

  private readDirectory(): void {
    const tailLength = Math.min(this.size, 22 + 0xffff);
    const tailStart = this.size - tailLength;
    const tail = this.bytes(tailStart, tailLength, 'end of central directory');
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.getUint32(i, true) === EOCD) { eocd = i; break; }
    }
    if (eocd < 0) throw new Error(`${this.path}: not a zip archive (no end-of-central-directory record)`);
    let count = tail.getUint16(eocd + 10, true);
    let dirSize = tail.getUint32(eocd + 12, true);
    let dirOffset = tail.getUint32(eocd + 16, true);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const locAt = tailStart + eocd - 20;
      const loc = this.bytes(locAt, 20, 'ZIP64 locator');
      if (loc.getUint32(0, true) !== ZIP64_LOCATOR) throw new Error(`${this.path}: ZIP64 archive without a ZIP64 end-of-central-directory locator`);
      const recAt = u64(loc, 8, this.path);
      const rec = this.bytes(recAt, 56, 'ZIP64 end of central directory');
      if (rec.getUint32(0, true) !== ZIP64_EOCD) throw new Error(`${this.path}: ZIP64 locator points at byte ${recAt}, which holds no ZIP64 end record`);
      count = u64(rec, 32, this.path);
      dirSize = u64(rec, 40, this.path);
      dirOffset = u64(rec, 48, this.path);
    }
    const dir = this.bytes(dirOffset, dirSize, 'central directory');
    const decoder = new TextDecoder();
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 46 > dirSize || dir.getUint32(at, true) !== CENTRAL) {
        throw new Error(`${this.path}: corrupt zip central directory at entry ${i} of ${count}`);
      }
      const method = dir.getUint16(at + 10, true);
      let compressedSize = dir.getUint32(at + 20, true);
      let size = dir.getUint32(at + 24, true);
      const nameLen = dir.getUint16(at + 28, true);
      const extraLen = dir.getUint16(at + 30, true);
      const commentLen = dir.getUint16(at + 32, true);
      let localHeaderOffset = dir.getUint32(at + 42, true);
      if (at + 46 + nameLen + extraLen > dirSize) throw new Error(`${this.path}: corrupt zip central directory (entry ${i} runs past its end)`);
      const name = decoder.decode(new Uint8Array(dir.buffer, at + 46, nameLen));
      // ZIP64 extra field: 8-byte values for exactly the fields set to 0xFFFFFFFF, in this order.
      let e = at + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = dir.getUint16(e, true);
        const len = dir.getUint16(e + 2, true);
        if (id === 0x0001) {
          let p = e + 4;
          const next = (): number => {
            if (p + 8 > e + 4 + len) throw new Error(`${this.path}: entry ${name}: ZIP64 extra field too short`);
            const v = u64(dir, p, this.path);
            p += 8;
            return v;
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      at += 46 + nameLen + extraLen + commentLen;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): ZipEntry | undefined {
    return this.entries.get(name);
  }

  /** Byte offset of a stored entry's data in the file; throws for compressed or out-of-file entries. */
  dataOffset(name: string): number {
    const cached = this.offsets.get(name);
    if (cached !== undefined) return cached;
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`${this.path}: zip archive has no entry ${name}`);
    if (entry.method !== 0) {
      throw new Error(`${this.path}: entry ${name} is compressed (zip method ${entry.method}); linscope reads only stored entries, as torch.save writes them`);
    }
    const local = this.bytes(entry.localHeaderOffset, 30, `local header of ${name}`);
    if (local.getUint32(0, true) !== LOCAL) throw new Error(`${this.path}: entry ${name} has no local header at byte ${entry.localHeaderOffset}`);
    const offset = entry.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    if (offset + entry.size > this.size) {
      throw new Error(`${this.path}: entry ${name} (${entry.size} bytes at ${offset}) runs past the end of the ${this.size}-byte file (truncated?)`);
    }
    this.offsets.set(name, offset);
    return offset;
  }

  /** Read a whole (small) stored entry. */
  read(name: string): Uint8Array {
    const offset = this.dataOffset(name);
    const out = new Uint8Array(this.entry(name)!.size);
    readExactly(this.path, offset, out, `zip entry ${name}`);
    return out;
  }
}

/** True when the file starts with a zip local header (PK\3\4). */
export function looksLikeZip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === LOCAL;
  } finally {
    closeSync(fd);
  }
}
