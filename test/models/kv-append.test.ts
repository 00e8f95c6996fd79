import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendRows } from '../../src/models/self-attention.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const rows = (B: number, T: number, W: number, start: number) =>
  new Tensor(Float32Array.from({ length: B * T * W }, (_, i) => start + i), [B, T, W]);

/** The first `filled` rows of each sequence of a [B, capacity, W] cache, as one flat list. */
function filledRows(cache: Tensor, filled: number): number[] {
  const [B, capacity, W] = cache.shape;
  const out: number[] = [];
  for (let b = 0; b < B; b++) out.push(...cache.data.subarray(b * capacity * W, (b * capacity + filled) * W));
  return out;
}

/** [B, Ta, W] ++ [B, Tb, W] along the time axis, written out: what appendRows must hold. */
function concatenated(a: number[], Ta: number, b: Tensor): number[] {
  const [B, Tb, W] = b.shape;
  const out: number[] = [];
  for (let i = 0; i < B; i++) out.push(...a.slice(i * Ta * W, (i + 1) * Ta * W), ...b.data.subarray(i * Tb * W, (i + 1) * Tb * W));
  return out;
}

for (const B of [1, 3]) {
  test(`appendRows grows a cache of ${B} sequence(s) in place and holds the concatenation`, () => {
    let cache = rows(B, 3, 4, 0);
    let filled = 3;
    const grown: Tensor[] = [];
    for (let s = 0; s < 5; s++) {
      const step = rows(B, 1, 4, 1000 * (s + 1));
      const want = concatenated(filledRows(cache, filled), filled, step);
      cache = appendRows(cache, filled, step);
      filled++;
      assert.deepEqual(filledRows(cache, filled), want);
      grown.push(cache);
    }
    // the first step copies the prompt's rows into a buffer with room; later steps write in place
    assert.equal(grown[1].data.buffer, grown[4].data.buffer);
    assert.ok(grown[1].shape[1] >= 8);
  });
}

test('appendRows never overwrites the rows of a newer cache: extending an older prefix copies', () => {
  for (const B of [1, 2]) {
    const prompt = appendRows(rows(B, 2, 3, 0), 2, rows(B, 1, 3, 50)); // growable, 3 rows filled
    const promptRows = filledRows(prompt, 3);
    const a = appendRows(prompt, 3, rows(B, 1, 3, 100));
    const aRows = filledRows(a, 4);
    const b = appendRows(prompt, 3, rows(B, 1, 3, 200)); // the same prefix, another continuation
    assert.deepEqual(filledRows(a, 4), aRows, 'the first continuation is unchanged');
    assert.notEqual(b.data.buffer, a.data.buffer);
    assert.deepEqual(filledRows(b, 4), concatenated(promptRows, 3, rows(B, 1, 3, 200)));
    // the newest cache on the first buffer still grows in place
    const a2 = appendRows(a, 4, rows(B, 1, 3, 300));
    assert.equal(a2.data.buffer, a.data.buffer);
    assert.deepEqual(filledRows(a2, 5), concatenated(aRows, 4, rows(B, 1, 3, 300)));
  }
});

test('appendRows keeps float64 caches float64 and refuses a step of another shape', () => {
  const a = new Tensor(new Float64Array([1, 2]), [1, 1, 2]);
  const r = appendRows(appendRows(a, 1, new Tensor(new Float64Array([3, 4]), [1, 1, 2])), 2, new Tensor(new Float64Array([5, 6]), [1, 1, 2]));
  assert.ok(r.data instanceof Float64Array);
  assert.deepEqual(filledRows(r, 3), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => appendRows(a, 1, rows(2, 1, 2, 0)), /do not fit/);
});
