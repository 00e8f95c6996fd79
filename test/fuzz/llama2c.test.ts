/**
 * Fuzz: llama2.c checkpoints (small v0 and v1 files written here, and the real stories260K header)
 * and llama2.c tokenizers (the real tok512.bin) under thousands of seeded mutations: int32 header
 * fields, bit flips, truncations, extensions, splices. An accepted checkpoint must have exactly
 * the size its header implies (computed independently below) and read every tensor; an accepted
 * tokenizer must encode and decode text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openLlama2c } from '../../src/io/llama2c.ts';
import { readLlama2cTokenizer } from '../../src/io/llama2c-tokenizer.ts';
import { Rng } from '../../src/tensor/random.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';
import { fuzz, fuzzDir } from './harness.ts';
import { bitFlips, byteRun, extension, int32Field, splice, truncation, type Mutator } from './mutate.ts';

const dir = fuzzDir('linscope-fuzz-l2c-');
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes a checkpoint with this header must have, from the llama2.c format description. */
function expectedSize(bytes: Uint8Array): number | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v1 = bytes.length >= 8 && v.getUint32(0, true) === 0x616b3432;
  const at = v1 ? 8 : 0;
  const [dim, hidden, layers, heads, kv, vocabRaw, seq] = Array.from({ length: 7 }, (_, i) => v.getInt32(at + 4 * i, true));
  const vocab = Math.abs(vocabRaw);
  const shared = v1 ? v.getUint8(36) !== 0 : vocabRaw > 0;
  const kvDim = (dim / heads) * kv;
  let floats = vocab * dim + layers * (2 * dim + 2 * dim * dim + 2 * kvDim * dim + 3 * dim * hidden) + dim;
  if (!v1) floats += seq * (dim / heads); // freq_cis_real + freq_cis_imag
  if (!shared) floats += vocab * dim;
  return (v1 ? 256 : 28) + 4 * floats;
}

function checkpoint(version: 0 | 1, shared: boolean): Uint8Array {
  const [dim, hidden, layers, heads, kv, vocab, seq] = [8, 12, 2, 2, 1, 6, 4];
  const header = version === 0 ? new Uint8Array(28) : new Uint8Array(256);
  const v = new DataView(header.buffer);
  const at = version === 0 ? 0 : 8;
  if (version === 1) {
    v.setUint32(0, 0x616b3432, true);
    v.setInt32(4, 1, true);
    v.setUint8(36, shared ? 1 : 0);
  }
  [dim, hidden, layers, heads, kv, version === 0 && !shared ? -vocab : vocab, seq].forEach((x, i) => v.setInt32(at + 4 * i, x, true));
  const size = expectedSize(header)!;
  const out = new Uint8Array(size);
  out.set(header);
  const rng = new Rng(version * 2 + (shared ? 1 : 0));
  const floats = new Float32Array(out.buffer, header.length, (size - header.length) / 4);
  for (let i = 0; i < floats.length; i++) floats[i] = rng.normal() * 0.1;
  return out;
}

const mutateCheckpoint: Mutator = (src, rng) => {
  switch (rng.int(8)) {
    case 0: case 1: case 2: return int32Field(src, rng, src.length >= 256 && new DataView(src.buffer, src.byteOffset).getUint32(0, true) === 0x616b3432 ? 40 : 28);
    case 3: return bitFlips(src, rng, [0, Math.min(src.length, 40)]);
    case 4: return truncation(src, rng);
    case 5: return extension(src, rng);
    case 6: return splice(src, rng);
    default: return rng.uniform() < 0.5 ? byteRun(src, rng) : bitFlips(src, rng);
  }
};

test('fuzz: llama2.c checkpoint headers (3000 mutations)', async () => {
  const bases = [checkpoint(0, true), checkpoint(0, false), checkpoint(1, true), checkpoint(1, false)];
  for (const b of bases) assert.equal(b.length, expectedSize(b));
  const report = await fuzz({
    path: join(dir, 'model.bin'),
    bases,
    mutate: mutateCheckpoint,
    load: (path) => {
      const ck = openLlama2c(path);
      for (const name of ck.names()) ck.readTensor(name);
      return ck;
    },
    check: (_, bytes) => (bytes.length === expectedSize(bytes) ? undefined : `${bytes.length} bytes, the header implies ${expectedSize(bytes)}`),
    iterations: 3000,
    seed: 2,
  });
  assert.deepEqual(report.failures.slice(0, 5), [], `${report.failures.length} failures`);
  assert.ok(report.accepted > 100 && report.refused > 1000, JSON.stringify({ accepted: report.accepted, refused: report.refused }));
});

test('fuzz: the stories260K header (400 mutations of a 1 MB file)', { skip: skipUnless(stories260KDir) }, async () => {
  const base = readFileSync(join(stories260KDir, 'stories260K.bin'));
  const report = await fuzz({
    path: join(dir, 'stories.bin'),
    bases: [base],
    mutate: (src, rng) => (rng.uniform() < 0.7 ? int32Field(src, rng, 28) : rng.uniform() < 0.5 ? truncation(src, rng) : bitFlips(src, rng, [0, 28])),
    load: (path) => openLlama2c(path).readTensor('model.embed_tokens.weight').size,
    check: (_, bytes) => (bytes.length === expectedSize(bytes) ? undefined : 'size does not match the header'),
    iterations: 400,
    seed: 3,
  });
  assert.deepEqual(report.failures.slice(0, 5), [], `${report.failures.length} failures`);
});

const tokPath = join(stories260KDir, 'tok512.bin');
const sample = 'Once upon a time, a little girl named Lily found a shiny stone. 🎉 Ünïcödé\n';

test('fuzz: llama2.c tokenizer files (3000 mutations)', { skip: skipUnless(tokPath) }, async () => {
  const base = readFileSync(tokPath);
  const mutate: Mutator = (src, rng) => {
    switch (rng.int(7)) {
      case 0: return int32Field(src, rng, 4);
      case 1: { // a record's length field
        const out = src.slice();
        let at = 4;
        const target = rng.int(512);
        for (let i = 0; i < target && at + 8 <= out.length; i++) at += 8 + new DataView(out.buffer).getInt32(at + 4, true);
        if (at + 8 <= out.length) new DataView(out.buffer).setInt32(at + 4, [0, -1, 1, 7, 8, 100, 2 ** 31 - 1][rng.int(7)], true);
        return out;
      }
      case 2: return truncation(src, rng);
      case 3: return splice(src, rng);
      case 4: return extension(src, rng);
      case 5: return byteRun(src, rng);
      default: return bitFlips(src, rng);
    }
  };
  const report = await fuzz({
    path: join(dir, 'tok512.bin'),
    bases: [base],
    mutate,
    load: (path) => {
      const tok = readLlama2cTokenizer(path, existsSync(path) && path.endsWith('512.bin') ? 512 : undefined);
      const ids = tok.encode(sample);
      return { ids, text: tok.decode(ids) };
    },
    check: ({ ids, text }) => (ids.every((id) => Number.isInteger(id) && id >= 0 && id < 512) ? (text === sample ? undefined : `decode(encode(text)) = ${JSON.stringify(text.slice(0, 40))}`) : 'ids out of range'),
    iterations: 3000,
    seed: 4,
  });
  assert.deepEqual(report.failures.slice(0, 5), [], `${report.failures.length} failures`);
  assert.ok(report.accepted > 100 && report.refused > 300, JSON.stringify({ accepted: report.accepted, refused: report.refused }));
});
