/** Positioned reads that fill a buffer completely, with errors that name the file and the item. */
import { closeSync, openSync, readSync } from 'node:fs';
import { InputError } from './input-error.ts';

/** Largest single read; readSync's length must stay below 2^31. */
const READ_CHUNK = 1 << 30;

/** Fill `target` with the bytes of `path` starting at byte `position`. `what` names the item for errors. */
export function readExactly(path: string, position: number, target: Uint8Array, what: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InputError(path, `cannot read ${what}: ${(err as Error).message}`);
  }
  try {
    let done = 0;
    while (done < target.length) {
      const want = Math.min(READ_CHUNK, target.length - done);
      const got = readSync(fd, target, done, want, position + done);
      if (got === 0) throw new InputError(path, `${what}: file ended after ${done} of ${target.length} bytes`);
      done += got;
    }
  } finally {
    closeSync(fd);
  }
}

/** Read `count` little-endian float32 values at byte `position`. */
export function readFloat32At(path: string, position: number, count: number, what: string): Float32Array {
  const out = new Float32Array(count);
  readExactly(path, position, new Uint8Array(out.buffer), what);
  return out;
}
