// Tests for src/report/progress.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createProgress, describeProgress, formatDuration, formatRate, withProgress } from '../../src/report/progress.ts';

function sink(isTTY = false) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 120;
  return { stream, text: () => chunks.join('') };
}

test('formatDuration and formatRate are compact and readable', () => {
  assert.equal(formatDuration(0.42), '0.4s');
  assert.equal(formatDuration(12.4), '12s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(7620), '2h07m');
  assert.equal(formatDuration(NaN), '?');
  assert.equal(formatRate(1234.5), '1235');
  assert.equal(formatRate(56.78), '56.8');
  assert.equal(formatRate(8.912), '8.91');
  assert.equal(formatRate(0.1234), '0.123');
});

test('describeProgress shows count, percentage, rate and ETA', () => {
  assert.equal(describeProgress({ value: 40, total: 100, unit: 'batch', elapsedMs: 4000 }), '40/100 batch (40.0%) | 10.0 batch/s | ETA 6.0s');
  assert.equal(describeProgress({ value: 7, total: 0, unit: 'tok', elapsedMs: 2000 }), '7 tok | 3.50 tok/s | 2.0s elapsed');
  assert.equal(describeProgress({ value: 0, total: 10, unit: 'it', elapsedMs: 0 }), '0/10 it (0.0%) | 0.0s elapsed');
});

test('non-TTY: plain log lines at most every logEveryMs, and a summary at stop', () => {
  const out = sink(false);
  let t = 0;
  const p = createProgress({ label: 'linearity', total: 10, unit: 'batch', stream: out.stream, logEveryMs: 5000, now: () => t });
  for (let i = 0; i < 10; i++) {
    t += 1000;
    p.tick();
  }
  p.log('note: layer 3 is odd');
  p.stop();
  p.stop(); // idempotent
  assert.equal(p.value, 10);
  assert.equal(
    out.text(),
    [
      'linearity: 5/10 batch (50.0%) | 1.00 batch/s | ETA 5.0s',
      'linearity: 10/10 batch (100.0%) | 1.00 batch/s | 10s elapsed',
      'note: layer 3 is odd',
      'linearity: done, 10/10 batch (100.0%) | 1.00 batch/s | 10s elapsed',
      '',
    ].join('\n'),
  );
  assert.ok(!out.text().includes('\r') && !out.text().includes('\x1b'), 'no terminal control characters in logs');
});

test('quiet prints nothing', () => {
  const out = sink(true);
  const p = createProgress({ label: 'x', total: 3, quiet: true, stream: out.stream });
  p.tick();
  p.log('hidden');
  p.stop();
  assert.equal(out.text(), '');
});

test('TTY: draws a bar with rate and leaves a summary line after stop', () => {
  const out = sink(true);
  let t = 0;
  const p = createProgress({ label: 'laser', total: 4, unit: 'matrix', stream: out.stream, now: () => t });
  t = 2000;
  p.tick(2);
  p.stop();
  const text = out.text();
  assert.match(text, /laser \[█+░+\] 2\/4 matrix \(50\.0%\) \| 1\.00 matrix\/s \| ETA 2\.0s/);
  assert.ok(text.trimEnd().endsWith('laser: stopped, 2/4 matrix (50.0%) | 1.00 matrix/s | 2.0s elapsed'));
});

test('withProgress iterates, takes the total from arrays and stops even on break', () => {
  const out = sink(false);
  const seen: number[] = [];
  for (const x of withProgress([1, 2, 3, 4], { label: 'items', stream: out.stream, logEveryMs: 1e9 })) {
    seen.push(x);
    if (x === 2) break;
  }
  assert.deepEqual(seen, [1, 2]);
  assert.match(out.text(), /^items: stopped, 1\/4 it \(25\.0%\)/);
});
