import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chunkTokens, sampleCharSlices, slidingWindows } from '../../src/data/slices.ts';
import { Rng } from '../../src/tensor/random.ts';
import { datasetsDir, skipUnless } from '../helpers/paths.ts';

const shakespeare = join(datasetsDir, 'tinyshakespeare', 'input.txt');

test('char slices: paper defaults (128 × 512, seed 0), starts drawn uniformly from Rng(0)', { skip: skipUnless(shakespeare) }, () => {
  const corpus = readFileSync(shakespeare, 'utf8');
  const slices = sampleCharSlices(corpus);
  assert.equal(slices.length, 128);
  const rng = new Rng(0);
  for (const s of slices) {
    const start = rng.int(corpus.length - 512 + 1);
    assert.equal(s, corpus.slice(start, start + 512));
  }
  assert.deepEqual(sampleCharSlices(corpus), slices, 'same seed, same slices');
  assert.notDeepEqual(sampleCharSlices(corpus, { seed: 1 }), slices);
});

test('char slices: documents are joined by a blank line; lengths are code points', () => {
  const docs = ['abc', 'def'];
  const all = sampleCharSlices(docs, { count: 50, length: 8 });
  assert.ok(all.every((s) => s === 'abc\n\ndef'));

  const emoji = '😀a😀b😀c😀d';
  for (const s of sampleCharSlices(emoji, { count: 40, length: 3, seed: 5 })) {
    assert.equal(Array.from(s).length, 3);
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s), `lone surrogate in ${s}`);
    assert.ok(emoji.includes(s));
  }
  assert.throws(() => sampleCharSlices('short', { length: 6 }), /corpus has 5 characters, fewer than the slice length 6/);
});

test('chunkTokens: non-overlapping, partial tail dropped unless kept', () => {
  const ids = Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(chunkTokens(ids, 4), [[0, 1, 2, 3], [4, 5, 6, 7]]);
  assert.deepEqual(chunkTokens(ids, 4, { keepLast: true }), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.deepEqual(chunkTokens(Int32Array.from(ids), 5), [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
  assert.throws(() => chunkTokens(ids, 0), /positive integer/);
});

test('slidingWindows: the HF strided protocol on a worked example', () => {
  const ids = Array.from({ length: 11 }, (_, i) => 100 + i);
  const w = slidingWindows(ids, { maxLength: 4, stride: 3 });
  assert.deepEqual(
    w.map(({ begin, end, scoreFrom, scoredCount }) => [begin, end, scoreFrom, scoredCount]),
    [
      [0, 4, 1, 3], // first window: every label but the first (no prediction for token 0)
      [3, 7, 1, 3], // trg_len = 7 − 4 = 3: tokens 4, 5, 6
      [6, 10, 1, 3], // tokens 7, 8, 9
      [9, 11, 1, 1], // trg_len = 1: token 10, then stop
    ],
  );
  assert.deepEqual(w[1].ids, [103, 104, 105, 106]);

  const half = slidingWindows(Array.from({ length: 10 }, (_, i) => i), { maxLength: 4, stride: 2 });
  assert.deepEqual(half.map((x) => [x.begin, x.end, x.scoreFrom]), [[0, 4, 1], [2, 6, 2], [4, 8, 2], [6, 10, 2]]);
  assert.throws(() => slidingWindows(ids, { maxLength: 4, stride: 5 }), /stride must be an integer in 1\.\.maxLength/);
});

test('slidingWindows: with overlap, every token after the first is scored exactly once', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.int(60);
    const maxLength = 2 + rng.int(12);
    const stride = 1 + rng.int(maxLength);
    const windows = slidingWindows(Array.from({ length: n }, (_, i) => i), { maxLength, stride });
    const scored: number[] = [];
    for (const win of windows) {
      assert.ok(win.end - win.begin <= maxLength);
      assert.equal(win.scoredCount, win.ids.length - win.scoreFrom);
      for (let j = win.scoreFrom; j < win.ids.length; j++) scored.push(win.begin + j);
    }
    // With stride = maxLength the windows do not overlap and each window's first token is unscored.
    const expected = Array.from({ length: n - 1 }, (_, i) => i + 1).filter((t) => stride < maxLength || t % stride !== 0);
    assert.deepEqual(scored, expected, `n=${n} L=${maxLength} s=${stride}`);
    assert.equal(windows.at(-1)!.end, n);
  }
});
