/**
 * Seeded mutations of real files for the fuzz tests: bit flips, byte runs, truncations, splices,
 * numeric field changes in text, JSON value swaps, and int32 field changes in binary headers. Every
 * mutation draws from one `Rng`, so a failing case is replayed from its seed and iteration.
 */
import type { Rng } from '../../src/tensor/random.ts';

export type Mutator = (src: Uint8Array, rng: Rng) => Uint8Array;

/** Numbers that break parsers: zero, signs, powers of two around integer limits, huge, fractional. */
export const INTERESTING_NUMBERS = [
  0, 1, -1, 2, 3, 7, 8, 255, 256, 1023, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32,
  2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e20, 1e308, 0.5, -0.5, 1.5, 3.14,
];

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

export function bitFlips(src: Uint8Array, rng: Rng, region: [number, number] = [0, src.length]): Uint8Array {
  const out = src.slice();
  const [a, b] = region;
  if (b <= a) return out;
  const flips = 1 + rng.int(8);
  for (let i = 0; i < flips; i++) out[a + rng.int(b - a)] ^= 1 << rng.int(8);
  return out;
}

export function byteRun(src: Uint8Array, rng: Rng, region: [number, number] = [0, src.length]): Uint8Array {
  const out = src.slice();
  const [a, b] = region;
  if (b <= a) return out;
  const at = a + rng.int(b - a);
  const len = 1 + rng.int(Math.min(64, b - at));
  const fill = pick(rng, [0x00, 0xff, 0x7f, 0x80, 0x20, 0x22, 0x7b, 0x7d, -1]);
  for (let i = at; i < at + len; i++) out[i] = fill < 0 ? rng.int(256) : fill;
  return out;
}

export function truncation(src: Uint8Array, rng: Rng): Uint8Array {
  const cut = rng.uniform() < 0.3 ? rng.int(Math.min(src.length, 300)) : rng.int(src.length + 1);
  return src.slice(0, cut);
}

export function extension(src: Uint8Array, rng: Rng): Uint8Array {
  const extra = new Uint8Array(1 + rng.int(64));
  for (let i = 0; i < extra.length; i++) extra[i] = rng.uniform() < 0.5 ? 0 : rng.int(256);
  return concat(src, extra);
}

/** Copy a chunk of `src` (or of `other`) over another place, or insert / delete a chunk. */
export function splice(src: Uint8Array, rng: Rng, other: Uint8Array = src): Uint8Array {
  if (src.length === 0) return src.slice();
  const from = rng.int(other.length);
  const len = 1 + rng.int(Math.min(256, other.length - from));
  const chunk = other.subarray(from, from + len);
  const at = rng.int(src.length);
  switch (rng.int(3)) {
    case 0: { const out = src.slice(); out.set(chunk.subarray(0, src.length - at), at); return out; }
    case 1: return concat(src.subarray(0, at), chunk, src.subarray(at));
    default: return concat(src.subarray(0, at), src.subarray(Math.min(src.length, at + len)));
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Replace one run of ASCII digits (in `region`) by an interesting number. */
export function numericChange(src: Uint8Array, rng: Rng, region: [number, number] = [0, src.length]): Uint8Array {
  const text = dec.decode(src.subarray(region[0], region[1]));
  const runs = [...text.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/g)];
  if (runs.length === 0) return bitFlips(src, rng, region);
  const m = pick(rng, runs);
  const replaced = text.slice(0, m.index) + String(pick(rng, INTERESTING_NUMBERS)) + text.slice(m.index! + m[0].length);
  return concat(src.subarray(0, region[0]), enc.encode(replaced), src.subarray(region[1]));
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** All containers and keys of a JSON value, for picking a place to mutate. */
function places(v: Json, out: { parent: Json[] | Record<string, Json>; key: string | number }[] = []) {
  if (Array.isArray(v)) v.forEach((x, i) => { out.push({ parent: v, key: i }); places(x, out); });
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) { out.push({ parent: v, key: k }); places(v[k], out); }
  return out;
}

/** Mutate a parsed JSON value in place-free fashion: delete, retype, swap, or renumber one value. */
export function jsonSwap(value: Json, rng: Rng): Json {
  const doc = structuredClone(value);
  const all = places(doc);
  if (all.length === 0) return pick(rng, [null, [], {}, 0, '']);
  const { parent, key } = pick(rng, all);
  const get = (p: typeof parent, k: string | number) => (p as Record<string, Json>)[k as string];
  const set = (p: typeof parent, k: string | number, x: Json) => { (p as Record<string, Json>)[k as string] = x; };
  const other = pick(rng, all);
  switch (rng.int(6)) {
    case 0: // delete
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Record<string, Json>)[key as string];
      break;
    case 1: // retype
      set(parent, key, pick(rng, [null, true, false, 0, -1, 1e300, '', 'x', [], {}, [1, 2], { a: 1 }] as Json[]));
      break;
    case 2: { // swap two values
      const a = get(parent, key);
      set(parent, key, get(other.parent, other.key));
      set(other.parent, other.key, a);
      break;
    }
    case 3: // a number
      set(parent, key, pick(rng, INTERESTING_NUMBERS));
      break;
    case 4: // copy another value here
      set(parent, key, structuredClone(get(other.parent, other.key)));
      break;
    default: // rename a key / change a string
      if (!Array.isArray(parent)) {
        const v = get(parent, key);
        delete (parent as Record<string, Json>)[key as string];
        set(parent, `${key}`.slice(0, -1) + pick(rng, ['', 'x', '_', '0']), v);
      } else if (typeof parent[key as number] === 'string') {
        set(parent, key, pick(rng, ['', ' ', '\u0000', 'é', '<0x41>', `${parent[key as number]}${parent[key as number]}`]));
      }
  }
  return doc;
}

/** A mutator for JSON files: structural swaps on the parsed document, or byte-level damage. */
export function jsonFileMutator(extraBytes: Mutator[] = []): Mutator {
  return (src, rng) => {
    const r = rng.int(10);
    if (r < 5) {
      let doc: Json;
      try {
        doc = JSON.parse(dec.decode(src));
      } catch {
        return bitFlips(src, rng);
      }
      let out = doc;
      for (let k = 1 + rng.int(3); k > 0; k--) out = jsonSwap(out, rng);
      return enc.encode(JSON.stringify(out));
    }
    if (r === 5) return numericChange(src, rng);
    if (r === 6) return truncation(src, rng);
    if (r === 7) return splice(src, rng);
    if (r === 8 && extraBytes.length) return pick(rng, extraBytes)(src, rng);
    return rng.uniform() < 0.5 ? bitFlips(src, rng) : byteRun(src, rng);
  };
}

/** Overwrite one little-endian int32 at a 4-byte-aligned offset below `limit` with an interesting value. */
export function int32Field(src: Uint8Array, rng: Rng, limit: number): Uint8Array {
  const out = src.slice();
  const fields = Math.floor(Math.min(limit, out.length) / 4);
  if (fields === 0) return out;
  const at = 4 * rng.int(fields);
  new DataView(out.buffer, out.byteOffset).setInt32(at, pick(rng, [0, 1, -1, 2, 3, 4, 7, 8, 64, 65, 512, 513, -512, 2 ** 24, 2 ** 31 - 1, -(2 ** 31)]) | 0, true);
  return out;
}
