import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16Bits, bf16ToNumber, encodeBF16, encodeF16, f16Bits, f16ToNumber } from '../../src/io/half.ts';
import { Rng } from '../../src/tensor/random.ts';

test('F16: known bit patterns', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff],
    [65519.99, 0x7bff], [65520, 0x7c00], [1e9, 0x7c00], [-Infinity, 0xfc00], [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // exactly half the smallest subnormal: ties to even (0)
    [1.5 * 2 ** -24, 0x0002], // between 1 and 2 subnormal steps: ties to even (2)
    [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
  ];
  for (const [x, bits] of cases) assert.equal(f16Bits(x), bits, `f16Bits(${x})`);
  assert.equal(f16Bits(NaN) & 0x7c00, 0x7c00);
  assert.ok(Number.isNaN(f16ToNumber(0x7e00)));
});

test('F16: every finite value round-trips and every midpoint rounds to even', () => {
  for (let h = 0; h < 0x7c00; h++) {
    const x = f16ToNumber(h);
    assert.equal(f16Bits(x), h);
    assert.equal(f16Bits(-x), h | 0x8000);
    if (h + 1 < 0x7c00) {
      const mid = (x + f16ToNumber(h + 1)) / 2;
      const even = h % 2 === 0 ? h : h + 1;
      if (f16Bits(mid) !== even) assert.fail(`midpoint after 0x${h.toString(16)} rounded to 0x${f16Bits(mid).toString(16)}`);
    }
  }
});

test('BF16: known bits, round trips and ties to even', () => {
  assert.equal(bf16Bits(1), 0x3f80);
  assert.equal(bf16Bits(-1), 0xbf80);
  assert.equal(bf16Bits(3.4e38), 0x7f80); // above the largest BF16 midpoint: Infinity
  assert.equal(bf16Bits(1e300), 0x7f80);
  assert.equal(bf16Bits(1e-50), 0x0000);
  assert.equal(bf16Bits(NaN), 0x7fc0);
  for (let h = 0; h < 0x7f80; h++) {
    const x = bf16ToNumber(h);
    if (bf16Bits(x) !== h) assert.fail(`bf16 0x${h.toString(16)} did not round-trip`);
    if (h + 1 < 0x7f80) {
      const mid = (x + bf16ToNumber(h + 1)) / 2;
      const even = h % 2 === 0 ? h : h + 1;
      if (bf16Bits(mid) !== even) assert.fail(`bf16 midpoint after 0x${h.toString(16)} rounded wrong`);
      // just above the midpoint (in double precision) always rounds up
      if (h > 0 && bf16Bits(mid * (1 + 2 ** -40)) !== h + 1) assert.fail(`bf16 above midpoint after 0x${h.toString(16)}`);
    }
  }
});

test('float32 fast paths agree with the exact encoders', () => {
  const values: number[] = [0, -0, Infinity, -Infinity, 65504, 65519, 65520, 1e-8, -3e-8, 2 ** -25, 3 * 2 ** -26, 3.4e38, 1e-45];
  for (let h = 0; h < 0x7c00; h += 7) {
    const x = f16ToNumber(h);
    values.push(x, -x, (x + f16ToNumber(h + 1)) / 2);
  }
  for (let h = 0; h < 0x7f80; h += 5) {
    const x = bf16ToNumber(h);
    values.push(x, (x + bf16ToNumber(h + 1)) / 2);
  }
  const rng = new Rng(3);
  for (let i = 0; i < 20000; i++) values.push((rng.uniform() - 0.5) * 10 ** Math.floor(rng.uniform() * 16 - 8));
  const f32 = Float32Array.from(values);
  const fast16 = new Uint16Array(f32.length);
  const fastB = new Uint16Array(f32.length);
  encodeF16(f32, fast16);
  encodeBF16(f32, fastB);
  for (let i = 0; i < f32.length; i++) {
    if (fast16[i] !== f16Bits(f32[i])) assert.fail(`F16 of ${f32[i]}: fast 0x${fast16[i].toString(16)} vs exact 0x${f16Bits(f32[i]).toString(16)}`);
    if (fastB[i] !== bf16Bits(f32[i])) assert.fail(`BF16 of ${f32[i]}: fast 0x${fastB[i].toString(16)} vs exact 0x${bf16Bits(f32[i]).toString(16)}`);
  }
  const nan = new Uint16Array(1);
  encodeBF16(Float32Array.of(NaN), nan);
  assert.equal(nan[0] & 0x7fc0, 0x7fc0);
  encodeF16(Float32Array.of(NaN), nan);
  assert.ok(Number.isNaN(f16ToNumber(nan[0])));
});
