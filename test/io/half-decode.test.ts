/** decodeBF16 / decodeF16 over every 16-bit pattern, aligned and unaligned, odd lengths: equal to the definition / the scalar decoders. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16ToNumber, decodeBF16, decodeF16, f16ToNumber } from '../../src/io/half.ts';

const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

test('decodeBF16 and decodeF16 equal the scalar decoders for all 65536 patterns', () => {
  const backing = new Uint16Array(65536 + 1);
  for (let i = 0; i < 65536; i++) backing[i + 1] = i;
  for (const [offset, length] of [[0, 65536], [1, 65535], [1, 65536], [0, 65535]]) {
    const bits = new Uint16Array(backing.buffer, offset * 2, length);
    const out = new Float32Array(length);
    // float32 bits of a bf16 are its 16 bits followed by 16 zero bits (NaN payloads kept)
    decodeBF16(bits, out);
    assert.deepEqual(bitsOf(out), Uint32Array.from(bits, (b) => b * 65536), `bf16 offset ${offset} length ${length}`);
    const out64 = new Float64Array(length);
    decodeBF16(bits, out64);
    assert.deepEqual(out64, Float64Array.from(bits, (b) => bf16ToNumber(b)));
    const f16 = new Float32Array(length);
    decodeF16(bits, f16);
    assert.deepEqual(f16, Float32Array.from(bits, (b) => f16ToNumber(b)));
  }
});
