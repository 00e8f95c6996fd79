/**
 * Fuzz: safetensors files (a real reference file of the fixtures, and a small file with every
 * dtype) under thousands of seeded mutations — header JSON swaps, numeric offset/shape changes,
 * length-prefix changes, bit flips, truncations, splices. Accepted files are re-validated by an
 * independent reading of the format (below), and every tensor is read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { writeSafetensors } from '../../src/io/safetensors-write.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { fixturesDir } from '../helpers/paths.ts';
import { fuzz, fuzzDir } from './harness.ts';
import { bitFlips, byteRun, concat, extension, jsonSwap, numericChange, splice, truncation, type Mutator } from './mutate.ts';

const dir = fuzzDir('linscope-fuzz-st-');
test.after(() => rmSync(dir, { recursive: true, force: true }));

const SIZES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1 };

/** The format read independently of src/io: why these bytes are not a valid safetensors file, if they are not. */
function invalidLayout(bytes: Uint8Array): string | undefined {
  if (bytes.length < 8) return 'shorter than 8 bytes';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > 1e8 || 8 + n > bytes.length) return 'header length out of range';
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    return 'header not UTF-8 JSON';
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return 'header not an object';
  const spans: [number, number, number][] = [];
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!(e.dtype in SIZES)) return `unknown dtype of ${name}`;
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [b, f] = e.data_offsets;
    if (f - b !== count * SIZES[e.dtype]) return `${name}: span does not match shape`;
    spans.push([b, f, 0]);
  }
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let at = 0;
  for (const [b, f] of spans) {
    if (b !== at) return 'offsets not contiguous';
    at = f;
  }
  if (at !== bytes.length - 8 - n) return 'data buffer not covered exactly';
  return undefined;
}

/** Header-aware mutation: edit the JSON (keeping or breaking the length prefix), its numbers, or the bytes. */
const mutateSafetensors: Mutator = (src, rng) => {
  const n = Number(new DataView(src.buffer, src.byteOffset).getBigUint64(0, true));
  const headerEnd = Math.min(src.length, 8 + n);
  const r = rng.int(12);
  if (r < 4 && headerEnd === 8 + n) {
    let header;
    try {
      header = JSON.parse(new TextDecoder().decode(src.subarray(8, headerEnd)));
    } catch {
      return bitFlips(src, rng);
    }
    const json = new TextEncoder().encode(JSON.stringify(jsonSwap(header, rng)));
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(rng.uniform() < 0.9 ? json.length : n), true);
    return concat(len, json, src.subarray(headerEnd));
  }
  if (r < 7) {
    // keep the length prefix consistent with the edited header
    const edited = numericChange(src, rng, [8, headerEnd]);
    const delta = edited.length - src.length;
    const out = edited.slice();
    new DataView(out.buffer).setBigUint64(0, BigInt(n + delta), true);
    return out;
  }
  if (r === 7) return bitFlips(src, rng, [0, 8]);
  if (r === 8) return truncation(src, rng);
  if (r === 9) return rng.uniform() < 0.5 ? extension(src, rng) : splice(src, rng);
  const r2 = rng.int(3);
  return r2 === 0 ? bitFlips(src, rng, [0, headerEnd]) : r2 === 1 ? byteRun(src, rng, [8, headerEnd]) : bitFlips(src, rng);
};

/** Open, list, and read every tensor: what a model load does. */
function readAll(path: string): number {
  const f = openSafetensors(path);
  let total = 0;
  for (const name of f.names()) {
    const { dtype } = f.info(name);
    if (['F64', 'F32', 'F16', 'BF16'].includes(dtype)) total += f.readTensor(name).size;
    else total += f.readIntegers(name).data.length;
  }
  return total;
}

function smallEveryDtype(): Uint8Array {
  const path = join(dir, 'every-dtype.safetensors');
  const rng = new Rng(5);
  writeSafetensors(path, {
    f32: rng.randn([3, 4], 1),
    f64: Tensor.from([1, 2, 3], [3], 'float64'),
    empty: Tensor.zeros([0, 4]),
    i64: { dtype: 'I64', shape: [2, 3], data: [0, 1, 2, -3, 4, 5] },
    i8: { dtype: 'I8', shape: [5], data: [-1, 2, -3, 4, -5] },
    u16: { dtype: 'U16', shape: [2], data: [1, 65535] },
    bool: { dtype: 'BOOL', shape: [3], data: [1, 0, 1] },
  }, { format: 'pt' });
  const half = join(dir, 'half.safetensors');
  writeSafetensors(half, { h: rng.randn([4, 2], 1), g: rng.randn([3], 1) }, undefined, { dtype: 'BF16' });
  return readFileSync(path);
}

test('fuzz: safetensors headers and layouts (3000 mutations)', async () => {
  const bases = [smallEveryDtype(), readFileSync(join(dir, 'half.safetensors'))];
  const reference = join(fixturesDir, 'gpt2', 'reference.safetensors');
  if (existsSync(reference)) bases.push(readFileSync(reference));
  for (const b of bases) assert.equal(invalidLayout(b), undefined);
  const report = await fuzz({
    path: join(dir, 'mutated.safetensors'),
    bases,
    mutate: mutateSafetensors,
    load: readAll,
    check: (_, bytes) => invalidLayout(bytes),
    iterations: 3000,
    seed: 13,
  });
  if (process.env.LINSCOPE_FUZZ_VERBOSE) console.log([...report.reasons].sort((a, b) => b[1] - a[1]));
  assert.deepEqual(report.failures.slice(0, 5), [], `${report.failures.length} failures`);
  assert.ok(report.accepted > 100 && report.refused > 1000, JSON.stringify({ accepted: report.accepted, refused: report.refused }));
});
