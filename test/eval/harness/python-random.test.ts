/** PythonRandom reproduces CPython 3.11's random.Random streams (values printed by CPython itself). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PythonRandom } from '../../../src/eval/harness/python-random.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('Random(1234).sample: the harness few-shot seed', () => {
  const r = new PythonRandom(1234);
  // python3 -c "import random; r=random.Random(1234); print(r.sample(list(range(250)),3), r.sample(list(range(250)),3))"
  assert.deepEqual(r.sample(range(250), 3), [247, 199, 112]);
  assert.deepEqual(r.sample(range(250), 3), [29, 1, 23]);
  const s = new PythonRandom(1234);
  assert.deepEqual(s.sample(range(250), 4), [247, 199, 112, 29]);
  assert.deepEqual(s.sample(range(10), 3), [0, 1, 9]);
  assert.equal(s.random(), 0.6715634814879851);
});

test('Random(42): random, sample (pool and set branches), choices, getrandbits', () => {
  const r = new PythonRandom(42);
  assert.equal(r.random(), 0.6394267984578837);
  assert.equal(r.random(), 0.025010755222666936);
  assert.deepEqual(r.sample(range(10), 4), [4, 3, 8, 1]);
  assert.deepEqual(r.sample(range(1000), 7), [754, 104, 692, 758, 913, 558, 89]);
  assert.deepEqual(r.choices(range(13), 6), [7, 0, 1, 3, 7, 7]);
  assert.equal(r.getrandbits(7), 91);
});

test('seeds 0 and above 2^32 follow init_by_array', () => {
  assert.equal(new PythonRandom(0).random(), 0.8444218515250481);
  assert.equal(new PythonRandom(2 ** 40 + 5).random(), 0.5043802970418443);
  assert.deepEqual(new PythonRandom(0).choices(range(7), 5), [5, 5, 2, 1, 3]);
});

test('sample refuses k larger than the population', () => {
  assert.throws(() => new PythonRandom(1).sample([1, 2], 3), /Sample larger than population/);
});
