/**
 * PyTorch checkpoints (`pytorch_model.bin`, sharded `pytorch_model.bin.index.json`, legacy
 * torch.save): the fixtures under test/data/torch-bin/ were written once by torch.save
 * (scripts/fixtures/torch-bin.py) from the shared fixtures' safetensors, so every tensor must equal
 * the safetensors one exactly (float32), or its float16/bfloat16 rounding; and the models must give
 * the same logits as the safetensors-loaded (or rounded in-memory) model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelSource } from '../../src/io/model-source.ts';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { bf16Bits, bf16ToNumber, f16Bits, f16ToNumber } from '../../src/io/half.ts';
import { openTorchWeights, TorchBinFile } from '../../src/io/torch-bin.ts';
import { ZipIndex } from '../../src/io/zip-read.ts';
import { writeSafetensors } from '../../src/io/safetensors-write.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { memorySource } from '../../src/models/memory-source.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { fixturesDir, repoRoot, skipUnless } from '../helpers/paths.ts';

const data = join(repoRoot, 'test', 'data', 'torch-bin');
const bloomBin = join(data, 'bloom-f32');
const qwenBin = join(data, 'qwen2-sharded');
const ids = [[5, 17, 300, 42, 7, 999]];

test('float32 .bin: every tensor equals the safetensors one; tied storage, offset and transposed views', { skip: skipUnless(fixturesDir) }, () => {
  const st = openSafetensors(join(fixturesDir, 'bloom', 'model.safetensors'));
  const bin = openTorchWeights(join(bloomBin, 'pytorch_model.bin'));
  assert.deepEqual(bin.names().filter((n) => n !== 'lm_head.weight').sort(), st.names().sort());
  for (const name of st.names()) {
    assert.deepEqual(bin.shape(name), st.info(name).shape);
    assert.equal(bin.dtype(name), 'float32');
    assert.deepEqual(bin.readTensor(name).data, st.readTensor(name).data, name);
    assert.deepEqual(bin.readTensor(name, 'float64').data, st.readTensor(name, 'float64').data, name);
  }
  assert.deepEqual(bin.readTensor('lm_head.weight').data, st.readTensor('transformer.word_embeddings.weight').data);
});

test('float32 .bin model: same logits and hidden states as from safetensors', { skip: skipUnless(fixturesDir) }, async () => {
  const fromBin = await openModelSource(bloomBin);
  assert.equal(fromBin.format, 'pytorch');
  const a = (await loadModel(fromBin)).forward(ids, { outputHiddenStates: true });
  const b = (await loadModel(join(fixturesDir, 'bloom'))).forward(ids, { outputHiddenStates: true });
  assert.equal(maxAbsDiff(a.logits, b.logits), 0);
  a.hiddenStates!.forEach((h, i) => assert.equal(maxAbsDiff(h, b.hiddenStates![i]), 0));
});

test('sharded bfloat16/float16 .bin: tensors equal the rounded safetensors; model logits equal the rounded in-memory model', { skip: skipUnless(fixturesDir) }, async () => {
  const st = openSafetensors(join(fixturesDir, 'qwen2', 'model.safetensors'));
  const bin = openTorchWeights(join(qwenBin, 'pytorch_model.bin.index.json'));
  assert.deepEqual(bin.names(), st.names());
  const rounded = new Map<string, Tensor>();
  const dtypes = new Set<string>();
  for (const name of st.names()) {
    const dt = bin.dtype(name);
    dtypes.add(dt);
    const exact = st.readTensor(name);
    const r = Float32Array.from(exact.data, (x) => (dt === 'bfloat16' ? bf16ToNumber(bf16Bits(x)) : f16ToNumber(f16Bits(x))));
    assert.deepEqual(bin.readTensor(name).data, r, name);
    rounded.set(name, new Tensor(r, exact.shape));
  }
  assert.deepEqual([...dtypes].sort(), ['bfloat16', 'float16']);
  const source = await openModelSource(qwenBin);
  const a = (await loadModel(source)).forward(ids);
  const b = (await loadModel(memorySource(source.config, rounded))).forward(ids);
  assert.equal(maxAbsDiff(a.logits, b.logits), 0);
});

test('legacy (non-zip) torch.save file is read, transposed float16 view included', () => {
  const f = new TorchBinFile(join(data, 'odd', 'legacy.bin'));
  assert.deepEqual(f.names(), ['w', 'v']);
  assert.deepEqual(Array.from(f.readTensor('w').data), [0, 1, 2, 3, 4, 5]);
  // v = arange(6).reshape(3, 2).t() → [[0, 2, 4], [1, 3, 5]]
  assert.deepEqual(f.shape('v'), [2, 3]);
  assert.deepEqual(Array.from(f.readTensor('v').data), [0, 2, 4, 1, 3, 5]);
});

test('integer tensors and foreign pickle globals are refused with one clear line', () => {
  const f = new TorchBinFile(join(data, 'odd', 'int64.bin'));
  assert.deepEqual(Array.from(f.readTensor('w').data), [0, 1, 2, 3, 4, 5]);
  assert.throws(() => f.readTensor('position_ids'), /tensor "position_ids" is int64 \(torch\.LongStorage\); linscope reads float32, float16 and bfloat16/);
  assert.throws(() => new TorchBinFile(join(data, 'odd', 'eval.bin')), (err: Error) => {
    assert.match(err.message, /refuses pickle global __builtin__\.eval/);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
});

test('truncated and non-torch files give clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-torchbin-'));
  try {
    const whole = readFileSync(join(bloomBin, 'pytorch_model.bin'));
    const cut = join(dir, 'cut.bin');
    writeFileSync(cut, whole.subarray(0, whole.length >> 1));
    assert.throws(() => new TorchBinFile(cut), /not a zip archive \(no end-of-central-directory record\)/);
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.from('hello world, not a checkpoint'));
    assert.throws(() => new TorchBinFile(junk), /not a PyTorch checkpoint/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Rewrite a zip with every size/offset in ZIP64 extra fields and a ZIP64 end record, as writers do past 4 GB. */
function asZip64(src: string, dest: string): void {
  const zip = new ZipIndex(src);
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let at = 0;
  for (const name of zip.names()) {
    const body = Buffer.from(zip.read(name));
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt32LE(0xffffffff, 18);
    local.writeUInt32LE(0xffffffff, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const localExtra = Buffer.alloc(20);
    localExtra.writeUInt16LE(1, 0);
    localExtra.writeUInt16LE(16, 2);
    localExtra.writeBigUInt64LE(BigInt(body.length), 4);
    localExtra.writeBigUInt64LE(BigInt(body.length), 12);
    local.writeUInt16LE(localExtra.length, 28);
    const offset = at;
    parts.push(local, nameBytes, localExtra, body);
    at += local.length + nameBytes.length + localExtra.length + body.length;
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt32LE(0xffffffff, 20);
    c.writeUInt32LE(0xffffffff, 24);
    c.writeUInt16LE(nameBytes.length, 28);
    const extra = Buffer.alloc(28);
    extra.writeUInt16LE(1, 0);
    extra.writeUInt16LE(24, 2);
    extra.writeBigUInt64LE(BigInt(body.length), 4); // uncompressed
    extra.writeBigUInt64LE(BigInt(body.length), 12); // compressed
    extra.writeBigUInt64LE(BigInt(offset), 20); // local header offset
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(0xffffffff, 42);
    central.push(c, nameBytes, extra);
  }
  const dir = Buffer.concat(central);
  const dirOffset = at;
  const rec = Buffer.alloc(56);
  rec.writeUInt32LE(0x06064b50, 0);
  rec.writeBigUInt64LE(44n, 4);
  rec.writeBigUInt64LE(BigInt(zip.names().length), 24);
  rec.writeBigUInt64LE(BigInt(zip.names().length), 32);
  rec.writeBigUInt64LE(BigInt(dir.length), 40);
  rec.writeBigUInt64LE(BigInt(dirOffset), 48);
  const loc = Buffer.alloc(20);
  loc.writeUInt32LE(0x07064b50, 0);
  loc.writeBigUInt64LE(BigInt(dirOffset + dir.length), 8);
  loc.writeUInt32LE(1, 16);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(0xffff, 8);
  eocd.writeUInt16LE(0xffff, 10);
  eocd.writeUInt32LE(0xffffffff, 12);
  eocd.writeUInt32LE(0xffffffff, 16);
  writeFileSync(dest, Buffer.concat([...parts, dir, rec, loc, eocd]));
}

test('ZIP64 archives (sizes and offsets in ZIP64 records) read the same tensors', { skip: skipUnless(fixturesDir) }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-zip64-'));
  try {
    const src = join(bloomBin, 'pytorch_model.bin');
    const dest = join(dir, 'pytorch_model.bin');
    asZip64(src, dest);
    const a = new TorchBinFile(src);
    const b = new TorchBinFile(dest);
    assert.deepEqual(b.names(), a.names());
    for (const name of a.names()) assert.deepEqual(b.readTensor(name).data, a.readTensor(name).data, name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stray *.safetensors beside pytorch_model.bin: the .bin is loaded, as transformers does', { skip: skipUnless(fixturesDir) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-stray-'));
  try {
    copyFileSync(join(bloomBin, 'config.json'), join(dir, 'config.json'));
    copyFileSync(join(bloomBin, 'pytorch_model.bin'), join(dir, 'pytorch_model.bin'));
    writeSafetensors(join(dir, 'adapter_model.safetensors'), { 'lora.weight': new Tensor(new Float32Array(4), [2, 2]) });
    const source = await openModelSource(dir);
    assert.equal(source.format, 'pytorch');
    const logits = (await loadModel(source)).forward(ids).logits;
    const ref = (await loadModel(join(fixturesDir, 'bloom'))).forward(ids).logits;
    assert.equal(maxAbsDiff(logits, ref), 0);
    // without the .bin, the error names what the folder holds
    rmSync(join(dir, 'pytorch_model.bin'));
    writeSafetensors(join(dir, 'other.safetensors'), { x: new Tensor(new Float32Array(1), [1]) });
    await assert.rejects(openModelSource(dir), /no model weights found .*Found: .*adapter_model\.safetensors.*other\.safetensors/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
