import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/tensor/random.ts';
import { f16Bits, f16ToNumber, bf16Bits, bf16ToNumber } from '../../src/io/half.ts';
import {
  openSafetensors, openShardedSafetensors, openTensorReader, writeSafetensors, writeShardedSafetensors,
} from '../../src/io/safetensors.ts';

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-stw-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function randomTensor(rng: Rng, shape: number[], scale = 1): Tensor {
  const t = Tensor.zeros(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (rng.uniform() * 2 - 1) * scale;
  return t;
}

test('F32 round trip is exact; header is padded to 8 bytes, names sorted, metadata kept', () => {
  withTempDir((dir) => {
    const rng = new Rng(1);
    const tensors = {
      'z.weight': randomTensor(rng, [3, 5]),
      'a.bias': randomTensor(rng, [7]),
      'm.scalar': Tensor.from([42], []),
      'empty': Tensor.zeros([0, 4]),
      input_ids: { dtype: 'I64' as const, shape: [2, 3], data: [0, 1, 2, 999, 2 ** 40, 7] },
    };
    const path = join(dir, 'x.safetensors');
    writeSafetensors(path, tensors, { format: 'pt', note: 'hi' });

    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0);
    const headerText = bytes.subarray(8, 8 + n).toString('utf8');
    assert.match(headerText, /^\{.*\} *$/);
    const header = JSON.parse(headerText);
    assert.deepEqual(Object.keys(header), ['__metadata__', 'a.bias', 'empty', 'input_ids', 'm.scalar', 'z.weight']);
    // data is packed back to back in that order and fills the file exactly
    let offset = 0;
    for (const name of Object.keys(header).slice(1)) {
      assert.equal(header[name].data_offsets[0], offset);
      offset = header[name].data_offsets[1];
    }
    assert.equal(8 + n + offset, bytes.length);

    const file = openSafetensors(path);
    assert.deepEqual(file.metadata, { format: 'pt', note: 'hi' });
    for (const name of ['z.weight', 'a.bias', 'm.scalar', 'empty'] as const) {
      const back = file.readTensor(name);
      assert.deepEqual([...back.shape], [...tensors[name].shape]);
      assert.deepEqual(Array.from(back.data), Array.from(tensors[name].data));
    }
    assert.deepEqual(file.readIntegers('input_ids'), { dtype: 'I64', shape: [2, 3], data: [0, 1, 2, 999, 2 ** 40, 7] });
    assert.equal(readdirSync(dir).length, 1, 'no temporary file left behind');
  });
});

test('float64 tensors: F32 by default (rounded), F64 on request (exact)', () => {
  withTempDir((dir) => {
    const t = Tensor.from([0.1, 1 / 3, -1e-40], [3], 'float64');
    writeSafetensors(join(dir, 'a.safetensors'), { t });
    assert.equal(openSafetensors(join(dir, 'a.safetensors')).info('t').dtype, 'F32');
    assert.deepEqual(openSafetensors(join(dir, 'a.safetensors')).readTensor('t').toArray(), Array.from(Float32Array.from(t.data)));
    writeSafetensors(join(dir, 'b.safetensors'), { t }, undefined, { dtype: 'F64' });
    assert.deepEqual(openSafetensors(join(dir, 'b.safetensors')).readTensor('t', 'float64').toArray(), t.toArray());
  });
});

test('F16 and BF16 writing rounds to nearest even and reads back', () => {
  withTempDir((dir) => {
    const rng = new Rng(2);
    const t = randomTensor(rng, [64, 33], 3);
    t.data[0] = 1 + 2 ** -11; // F16 tie: rounds down to 1
    t.data[1] = 1 + 3 * 2 ** -11; // F16 tie: rounds up to 1 + 2^-9
    t.data[2] = 70000; // F16 overflow
    for (const dtype of ['F16', 'BF16'] as const) {
      const path = join(dir, `${dtype}.safetensors`);
      writeSafetensors(path, { t }, undefined, { dtype });
      const file = openSafetensors(path);
      assert.equal(file.info('t').dtype, dtype);
      assert.equal(file.info('t').end - file.info('t').begin, t.size * 2);
      const raw = file.readBytes('t');
      const bits = new Uint16Array(raw.buffer, raw.byteOffset, t.size);
      const encode = dtype === 'F16' ? f16Bits : bf16Bits;
      const decode = dtype === 'F16' ? f16ToNumber : bf16ToNumber;
      for (let i = 0; i < t.size; i++) assert.equal(bits[i], encode(t.data[i]));
      if (dtype === 'F16') {
        // the overflow is stored as F16 Infinity (0x7c00), and reading a tensor holding it is refused
        assert.equal(bits[2], 0x7c00);
        assert.throws(() => file.readTensor('t'), /tensor "t" holds 1 NaN\/Inf value \(first: Infinity at \[0, 2\]\)/);
        const finite = t.clone();
        finite.data[2] = 1; // so the rest reads back
        writeSafetensors(path, { t: finite }, undefined, { dtype });
        bits[2] = 0x3c00;
      }
      const back = file.readTensor('t');
      const back64 = file.readTensor('t', 'float64');
      for (let i = 0; i < t.size; i++) {
        assert.equal(back.data[i], decode(bits[i]));
        assert.equal(back64.data[i], back.data[i]);
      }
      const relTol = dtype === 'F16' ? 2 ** -11 : 2 ** -8;
      for (let i = 3; i < t.size; i++) {
        assert.ok(Math.abs(back.data[i] - t.data[i]) <= relTol * Math.abs(t.data[i]) + 2 ** -24);
      }
    }
    const f16 = openSafetensors(join(dir, 'F16.safetensors')).readTensor('t');
    assert.equal(f16.data[0], 1);
    assert.equal(f16.data[1], 1 + 2 ** -9);
    assert.equal(f16.data[2], 1);
  });
});

test('sharded writer splits by size, writes an index, and the sharded reader serves every tensor', () => {
  withTempDir((dir) => {
    const rng = new Rng(3);
    const tensors: Record<string, Tensor> = {};
    for (let i = 0; i < 7; i++) tensors[`layer.${i}.weight`] = randomTensor(rng, [10, 10]); // 400 bytes each
    tensors['big.weight'] = randomTensor(rng, [40, 40]); // 6400 bytes: above the limit, own shard
    const result = writeShardedSafetensors(dir, tensors, { maxShardBytes: 1000 });
    assert.ok(result.indexPath);
    assert.deepEqual(result.files, [
      'model-00001-of-00005.safetensors', 'model-00002-of-00005.safetensors', 'model-00003-of-00005.safetensors',
      'model-00004-of-00005.safetensors', 'model-00005-of-00005.safetensors',
    ]);
    const index = JSON.parse(readFileSync(result.indexPath!, 'utf8'));
    assert.equal(index.metadata.total_size, 7 * 400 + 6400);
    assert.equal(index.weight_map['big.weight'], 'model-00001-of-00005.safetensors');
    assert.equal(index.weight_map['layer.0.weight'], 'model-00002-of-00005.safetensors');
    assert.equal(index.weight_map['layer.1.weight'], 'model-00002-of-00005.safetensors');
    assert.equal(index.weight_map['layer.2.weight'], 'model-00003-of-00005.safetensors');

    const reader = openShardedSafetensors(result.indexPath!);
    assert.deepEqual(reader.names().sort(), Object.keys(tensors).sort());
    assert.equal(reader.shardFiles().length, 5);
    for (const [name, t] of Object.entries(tensors)) {
      assert.deepEqual(reader.readTensor(name).toArray(), t.toArray());
      assert.equal(reader.info(name).file, join(dir, index.weight_map[name]));
    }
    assert.equal(openSafetensors(join(dir, result.files[2])).metadata.format, 'pt');
    assert.throws(() => reader.readTensor('missing'), /model\.safetensors\.index\.json: no tensor named "missing"/);

    rmSync(join(dir, result.files[4]));
    assert.throws(() => reader.readTensor('layer.6.weight'), /model-00005-of-00005\.safetensors: cannot read tensor "layer\.6\.weight": ENOENT/);
    assert.throws(() => openShardedSafetensors(result.indexPath!).readTensor('layer.6.weight'), /lives in shard model-00005-of-00005\.safetensors, which is missing/);
  });
});

test('sharded writer writes a single model.safetensors when everything fits', () => {
  withTempDir((dir) => {
    const t = Tensor.from([1, 2, 3]);
    const result = writeShardedSafetensors(dir, { t }, { maxShardBytes: 1 << 20, dtype: 'BF16' });
    assert.deepEqual(result, { files: ['model.safetensors'] });
    assert.equal(existsSync(join(dir, 'model.safetensors.index.json')), false);
    assert.deepEqual(openTensorReader(join(dir, 'model.safetensors')).readTensor('t').toArray(), [1, 2, 3]);
  });
});

test('an interrupted write leaves the previous checkpoint intact and no temporary file', () => {
  withTempDir((dir) => {
    const path = join(dir, 'model.safetensors');
    writeSafetensors(path, { t: Tensor.from([1, 2, 3]) });
    const before = readFileSync(path);
    // values that blow up half-way through encoding, as a crash mid-write would
    const exploding = new Proxy([1, 2, 3, 4], {
      get(target, key) {
        if (key === '3') throw new Error('disk on fire');
        return Reflect.get(target, key);
      },
    });
    assert.throws(() => writeSafetensors(path, { t: { dtype: 'F32', shape: [4], data: exploding } }), /disk on fire/);
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  });
});

test('writer rejects shape/data mismatches', () => {
  assert.throws(() => writeSafetensors(join(tmpdir(), 'never.safetensors'), { w: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3] } }),
    /tensor "w" has shape \[2, 2\] \(4 elements\) but 3 values/);
});
