/**
 * Item 6 of issue #13: a safetensors header whose data_offsets leave holes, overlap, leave bytes
 * past the last tensor, or whose dtype does not match the span, is refused as the reference
 * implementation (huggingface/safetensors) refuses it — never read as garbage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/io/input-error.ts';
import { openSafetensors } from '../../src/io/safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'linscope-st-layout-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A file from a raw header object and a data buffer of `dataBytes` bytes. */
function file(name: string, header: object, dataBytes: number): string {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([len, json, Buffer.alloc(dataBytes, 0x3f)]));
  return path;
}

const refused = (path: string, pattern: RegExp) =>
  assert.throws(() => openSafetensors(path), (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.ok(err.message.startsWith(path), err.message);
    assert.match(err.message, pattern);
    return true;
  });

test('a hole between two tensors is refused', () => {
  const p = file('hole.safetensors', {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] },
  }, 20);
  refused(p, /tensor "b".*hole of 4 bytes/);
});

test('overlapping tensors are refused', () => {
  const p = file('overlap.safetensors', {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
  }, 12);
  refused(p, /tensor "b".*overlap/);
});

test('two names on the same bytes are refused', () => {
  const p = file('alias.safetensors', {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
  }, 8);
  refused(p, /overlap/);
});

test('bytes after the last tensor are refused', () => {
  const p = file('tail.safetensors', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 24);
  refused(p, /16 bytes after the last tensor/);
});

test('float bytes declared as I8 with a span that does not match are refused', () => {
  const p = file('dtype.safetensors', { a: { dtype: 'I8', shape: [2], data_offsets: [0, 8] } }, 8);
  refused(p, /tensor "a".*span 8 bytes but I8 \[2\] needs 2/);
});

test('unknown dtype, bad shape and overflowing sizes are refused', () => {
  refused(file('f8.safetensors', { a: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, 2), /unsupported dtype "F8_E4M3"/);
  refused(file('shape.safetensors', { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /invalid shape/);
  refused(file('huge.safetensors', { a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, 4), /too many elements|span/);
});

test('a header that is not UTF-8 is refused', () => {
  const json = Buffer.concat([Buffer.from('{"a\xff":'), Buffer.from([0xff]), Buffer.from('1}')]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const p = join(dir, 'utf8.safetensors');
  writeFileSync(p, Buffer.concat([len, json]));
  refused(p, /not valid UTF-8|not valid JSON/);
});

test('__metadata__ must map strings to strings, as the reference reads it', () => {
  refused(file('meta.safetensors', { __metadata__: { format: 3 } }, 0), /__metadata__/);
});

test('a valid layout in any key order still loads', () => {
  const p = file('ok.safetensors', {
    b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
    a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
    e: { dtype: 'F32', shape: [0], data_offsets: [12, 12] },
  }, 12);
  const f = openSafetensors(p);
  assert.deepEqual(f.names().sort(), ['a', 'b', 'e']);
  assert.equal(f.readTensor('b').size, 1);
});
