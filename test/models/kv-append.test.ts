import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendTime, concatTime } from '../../src/models/self-attention.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const rows = (B: number, T: number, W: number, start: number) =>
  new Tensor(Float32Array.from({ length: B * T * W }, (_, i) => start + i), [B, T, W]);

test('appendTime grows a one-sequence cache in place and equals concatTime', () => {
  let cache = rows(1, 3, 4, 0);
  const grown: Tensor[] = [];
  for (let s = 0; s < 5; s++) {
    const step = rows(1, 1, 4, 100 * (s + 1));
    const next = appendTime(cache, step);
    assert.deepEqual([...next.data], [...concatTime(cache, step).data]);
    assert.deepEqual(next.shape, [1, 4 + s, 4]);
    grown.push(next);
    cache = next;
  }
  // from the second step on, the rows land after the cached ones in the same buffer (no copy)
  assert.equal(grown[1].data.buffer, grown[4].data.buffer);
  assert.equal(grown[1].data.byteOffset, 0);
});

test('appendTime never overwrites the rows of a newer cache: extending an older prefix copies', () => {
  const prompt = appendTime(rows(1, 2, 3, 0), rows(1, 1, 3, 50)); // growable
  const a = appendTime(prompt, rows(1, 1, 3, 100));
  const aRows = [...a.data];
  const b = appendTime(prompt, rows(1, 1, 3, 200)); // the same prefix, a different continuation
  assert.deepEqual([...a.data], aRows, 'the first continuation is unchanged');
  assert.notEqual(b.data.buffer, a.data.buffer);
  assert.deepEqual([...b.data], [...concatTime(prompt, rows(1, 1, 3, 200)).data]);
  // the newest cache on the first buffer still grows in place
  const a2 = appendTime(a, rows(1, 1, 3, 300));
  assert.equal(a2.data.buffer, a.data.buffer);
  assert.deepEqual([...a2.data], [...aRows, 300, 301, 302]);
});

test('appendTime concatenates batches of several sequences, whose rows interleave', () => {
  const a = rows(2, 2, 3, 0), b = rows(2, 1, 3, 100);
  assert.deepEqual([...appendTime(a, b).data], [...concatTime(a, b).data]);
});

test('appendTime keeps float64 caches float64', () => {
  const a = new Tensor(new Float64Array([1, 2]), [1, 1, 2]);
  const r = appendTime(appendTime(a, new Tensor(new Float64Array([3, 4]), [1, 1, 2])), new Tensor(new Float64Array([5, 6]), [1, 1, 2]));
  assert.ok(r.data instanceof Float64Array);
  assert.deepEqual([...r.data], [1, 2, 3, 4, 5, 6]);
});
