import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, loadSafetensors } from '../../src/io/safetensors.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';

/** An independent decode of a safetensors file straight from its bytes, for comparison. */
function manualDecode(path: string) {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const base = 8 + n;
  return {
    header,
    f32(name: string, i: number): number {
      return bytes.readFloatLE(base + header[name].data_offsets[0] + 4 * i);
    },
    i64(name: string, i: number): number {
      return Number(bytes.readBigInt64LE(base + header[name].data_offsets[0] + 8 * i));
    },
  };
}

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`reads every tensor of fixtures/${arch}/model.safetensors`, { skip: skipUnless(dir) }, () => {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    const path = join(dir, 'model.safetensors');
    const file = openSafetensors(path);
    const manual = manualDecode(path);
    assert.deepEqual(file.metadata, { format: 'pt' });
    assert.equal(file.names().length, meta.saved_tensor_count);
    let params = 0;
    for (const name of file.names()) {
      const info = file.info(name);
      assert.equal(info.dtype, 'F32');
      assert.deepEqual(info.shape, manual.header[name].shape);
      const t = file.readTensor(name);
      assert.deepEqual([...t.shape], info.shape);
      assert.equal(t.dtype, 'float32');
      params += t.size;
      for (const i of [0, t.size >> 1, t.size - 1]) assert.equal(t.data[i], manual.f32(name, i), `${name}[${i}]`);
    }
    assert.equal(params, meta.saved_param_count);
  });

  test(`reads fixtures/${arch}/reference.safetensors (I64 ids, F32 outputs)`, { skip: skipUnless(dir) }, () => {
    const config = JSON.parse(readFileSync(join(dir, 'config.full.json'), 'utf8'));
    const hidden = config.hidden_size ?? config.n_embd;
    const path = join(dir, 'reference.safetensors');
    const file = openSafetensors(path);
    const manual = manualDecode(path);
    const ids = file.readIntegers('input_ids');
    assert.equal(ids.dtype, 'I64');
    assert.deepEqual(ids.shape, [2, 16]);
    assert.deepEqual(ids.data, Array.from({ length: 32 }, (_, i) => manual.i64('input_ids', i)));
    assert.ok(ids.data.every((v) => Number.isInteger(v) && v >= 0 && v < config.vocab_size));
    assert.deepEqual(file.info('logits').shape, [2, 16, config.vocab_size]);
    for (let l = 0; l <= 4; l++) assert.deepEqual(file.info(`hidden_states.${l}`).shape, [2, 16, hidden]);
    const logits = file.readTensor('logits', 'float64');
    assert.equal(logits.dtype, 'float64');
    assert.equal(logits.get(1, 15, config.vocab_size - 1), manual.f32('logits', logits.size - 1));
    assert.equal(logits.get(0, 3, 7), manual.f32('logits', 3 * config.vocab_size + 7));
    // float64 reading is exact: the same values as float32 reading.
    assert.deepEqual(Array.from(file.readTensor('logits').data), Array.from(logits.data));
    // integer tensors may be read as floats too (exact for ids)
    assert.deepEqual(file.readTensor('input_ids').toArray(), ids.data);
  });
}

test('reference_padded.safetensors holds the attention mask', { skip: skipUnless(join(fixturesDir, 'llama')) }, () => {
  const all = loadSafetensors(join(fixturesDir, 'llama', 'reference_padded.safetensors'));
  const mask = all.attention_mask as { data: number[] };
  assert.deepEqual(mask.data.slice(16, 21), [0, 0, 0, 0, 0]);
  assert.equal(mask.data.slice(21).every((v) => v === 1), true);
});

test('clear errors for truncated and malformed files', { skip: skipUnless(join(fixturesDir, 'gpt2')) }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-st-'));
  try {
    const truncated = join(dir, 'truncated.safetensors');
    copyFileSync(join(fixturesDir, 'gpt2', 'model.safetensors'), truncated);
    truncateSync(truncated, 500_000);
    assert.throws(() => openSafetensors(truncated), (err: Error) =>
      err.message.includes(truncated) && /tensor "[^"]+": data_offsets .* outside the data buffer/.test(err.message));

    const tiny = join(dir, 'tiny.safetensors');
    writeFileSync(tiny, Buffer.from([1, 2, 3]));
    assert.throws(() => openSafetensors(tiny), /tiny\.safetensors: not a safetensors file/);

    const hugeHeader = join(dir, 'huge.safetensors');
    const buf = Buffer.alloc(16);
    buf.writeBigUInt64LE(1000n, 0);
    writeFileSync(hugeHeader, buf);
    assert.throws(() => openSafetensors(hugeHeader), /header length 1000 but file has 16 bytes/);

    const badJson = join(dir, 'bad.safetensors');
    const body = Buffer.from('{"a": nope}   ');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(body.length), 0);
    writeFileSync(badJson, Buffer.concat([len, body]));
    assert.throws(() => openSafetensors(badJson), /bad\.safetensors: safetensors header is not valid JSON/);

    const wrongSize = join(dir, 'wrong.safetensors');
    const h = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }));
    const l = Buffer.alloc(8);
    l.writeBigUInt64LE(BigInt(h.length), 0);
    writeFileSync(wrongSize, Buffer.concat([l, h, Buffer.alloc(8)]));
    assert.throws(() => openSafetensors(wrongSize), /tensor "w": data_offsets span 8 bytes but F32 \[3\] needs 12/);

    const good = openSafetensors(join(fixturesDir, 'gpt2', 'model.safetensors'));
    assert.throws(() => good.readTensor('nope.weight'), /model\.safetensors: no tensor named "nope\.weight"/);
    assert.throws(() => good.readIntegers('transformer.wte.weight'), /is F32, not an integer tensor/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
