import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvField, formatNumber, formatTable, parseCsv, toCsv, writeCsv } from '../../src/report/table.ts';
import { toPrettyJson, writeJson } from '../../src/report/json.ts';

test('formatNumber: fixed decimals, exponent for tiny and huge values, non-finite names', () => {
  assert.equal(formatNumber(0.123456, 4), '0.1235');
  assert.equal(formatNumber(-2.5, 2), '-2.50');
  assert.equal(formatNumber(0, 3), '0.000');
  assert.equal(formatNumber(-0, 3), '0.000');
  assert.equal(formatNumber(1.5e-7, 4), '1.500e-7');
  assert.equal(formatNumber(3.2e12, 2), '3.2e+12');
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber(Infinity), 'inf');
  assert.equal(formatNumber(-Infinity), '-inf');
});

test('formatTable aligns columns: numbers right with equal decimals, text left', () => {
  const out = formatTable(
    [
      { model: 'gpt2', layer: 0, score: 0.98765 },
      { model: 'opt-125m', layer: 11, score: 0.5 },
    ],
    { precision: 3 },
  );
  assert.equal(
    out,
    [
      'model     layer  score',
      '--------  -----  -----',
      'gpt2          0  0.988',
      'opt-125m     11  0.500',
      '',
    ].join('\n'),
  );
});

test('formatTable honours explicit columns, headers, per-column precision and missing cells', () => {
  const out = formatTable(
    [{ a: 1.23456, b: 'x' }, { a: null, b: 'longer' }],
    { columns: [{ key: 'b', header: 'name' }, { key: 'a', header: 'Δloss', precision: 1 }], missing: '-' },
  );
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[0], 'name    Δloss');
  assert.equal(lines[2], 'x         1.2');
  assert.equal(lines[3], 'longer      -');
});

test('CSV quoting: commas, quotes, newlines and edge spaces are quoted; numbers keep all digits', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(' pad'), '" pad"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(0.1 + 0.2), '0.30000000000000004');
  const rows = [{ name: 'a,b', note: 'he said "x"', v: 1e-12 }, { name: 'multi\r\nline', v: NaN }];
  const csv = toCsv(rows, ['name', 'note', 'v']);
  assert.equal(csv.split('\n')[0], 'name,note,v');
  assert.deepEqual(parseCsv(csv), [
    ['name', 'note', 'v'],
    ['a,b', 'he said "x"', '1e-12'],
    ['multi\r\nline', '', 'NaN'],
  ]);
});

test('writeCsv and writeJson write atomically and leave no temp files behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-table-'));
  try {
    writeCsv(join(dir, 'sub', 'r.csv'), [{ x: 1, y: 'a' }]);
    assert.equal(readFileSync(join(dir, 'sub', 'r.csv'), 'utf8'), 'x,y\n1,a\n');
    const obj = { scores: new Float64Array([0.25, 0.5]), bad: NaN, nested: { inf: -Infinity, big: 10n }, skip: undefined };
    writeJson(join(dir, 'r.json'), obj);
    const text = readFileSync(join(dir, 'r.json'), 'utf8');
    assert.ok(text.endsWith('\n'));
    assert.ok(text.includes('"scores": [0.25, 0.5]'));
    assert.deepEqual(JSON.parse(text), { scores: [0.25, 0.5], bad: 'NaN', nested: { inf: '-Infinity', big: '10' } });
    writeJson(join(dir, 'r.json'), { v: 2 });
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')), { v: 2 });
    assert.deepEqual(readdirSync(dir).sort(), ['r.json', 'sub']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('toPrettyJson round-trips doubles exactly', () => {
  const xs = [0.1, 1 / 3, 2 ** -40, 123456789.123456789, -0.000001234];
  assert.deepEqual(JSON.parse(toPrettyJson({ xs })).xs, xs);
});
