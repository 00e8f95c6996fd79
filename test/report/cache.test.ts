import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ResultCache, cacheKey, cached, canonicalJson, defaultCacheDir, stableHash } from '../../src/report/cache.ts';
import { contentFingerprint } from '../../src/io/fingerprint.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'linscope-cache-'));
}

test('stableHash ignores key order and undefined fields, but not values or types', () => {
  assert.equal(stableHash({ a: 1, b: { c: [1, 2], d: 'x' } }), stableHash({ b: { d: 'x', c: [1, 2] }, a: 1 }));
  assert.equal(stableHash({ a: 1, unset: undefined }), stableHash({ a: 1 }));
  assert.notEqual(stableHash({ a: 1 }), stableHash({ a: 2 }));
  assert.notEqual(stableHash({ a: [1, 2] }), stableHash({ a: [2, 1] }));
  assert.notEqual(stableHash({ a: 1 }), stableHash({ a: '1' }));
  assert.notEqual(stableHash([1, 2]), stableHash(new Float32Array([1, 2])));
  assert.match(stableHash(null), /^[0-9a-f]{64}$/);
  assert.equal(canonicalJson({ b: NaN, a: [Infinity] }), '{"a":[{"$number":"Infinity"}],"b":{"$number":"NaN"}}');
});

test('cache miss computes and stores; hit returns the stored value without computing', async () => {
  const dir = tempDir();
  try {
    const cache = new ResultCache(dir, { enabled: true });
    const key = cacheKey({ kind: 'linearity', model: { id: 'gpt2' }, data: { set: 'tiny', n: 8 }, options: { seed: 1 } });
    let calls = 0;
    const compute = () => {
      calls++;
      return { scores: [0.1, 1 / 3], model: 'gpt2', layer: 2 };
    };
    assert.equal(cache.get(key), undefined);
    const first = await cache.cached(key, compute);
    const second = await cache.cached(key, compute);
    assert.equal(calls, 1);
    assert.deepEqual(second, first);
    assert.deepEqual(Object.keys(second), ['scores', 'model', 'layer'], 'stored values keep their key order');
    // A fresh cache object on the same folder sees the entry (it is on disk).
    assert.deepEqual(await new ResultCache(dir, { enabled: true }).cached(key, compute), first);
    assert.equal(calls, 1);
    // Different options → different key → miss.
    await cache.cached(cacheKey({ kind: 'linearity', model: { id: 'gpt2' }, data: { set: 'tiny', n: 8 }, options: { seed: 2 } }), compute);
    assert.equal(calls, 2);
    // refresh recomputes.
    await cache.cached(key, compute, { refresh: true });
    assert.equal(calls, 3);
    assert.equal(cache.stats().entries, 2);
    const entry = JSON.parse(readFileSync(cache.pathFor(key), 'utf8'));
    assert.deepEqual(entry.key.model, { id: 'gpt2' }, 'entry records its key for inspection');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('values round-trip exactly: doubles, NaN/Infinity, typed arrays, nesting', async () => {
  const dir = tempDir();
  try {
    const cache = new ResultCache(dir, { enabled: true });
    const value = {
      x: 0.1 + 0.2,
      tiny: 5e-324,
      bad: [NaN, Infinity, -Infinity, -0.5],
      f32: new Float32Array([0.1, -2.5, 1e-8]),
      f64: new Float64Array([Math.PI]),
      i32: new Int32Array([-7, 9]),
      nested: [{ s: 'ok', n: null, b: true }],
    };
    cache.set('round-trip', value);
    const back = cache.get<typeof value>('round-trip')!;
    assert.deepEqual(back, value);
    assert.ok(back.f32 instanceof Float32Array);
    assert.ok(Object.is(back.bad[0], NaN));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupt or foreign entries are misses and get overwritten; no temp files are left', async () => {
  const dir = tempDir();
  try {
    const cache = new ResultCache(dir, { enabled: true });
    const key = cacheKey({ kind: 'k', model: 'm', data: 'd' });
    mkdirSync(dirname(cache.pathFor(key)), { recursive: true });
    writeFileSync(cache.pathFor(key), '{"format":1,"key":');
    assert.equal(cache.get(key), undefined);
    assert.equal(await cache.cached(key, () => 42), 42);
    assert.equal(cache.get(key), 42);
    // An entry whose recorded key differs (hash collision or hand edit) is not trusted.
    const entry = JSON.parse(readFileSync(cache.pathFor(key), 'utf8'));
    entry.key = { other: true };
    writeFileSync(cache.pathFor(key), JSON.stringify(entry));
    assert.equal(cache.get(key), undefined);
    const files = readdirSync(dirname(cache.pathFor(key)));
    assert.deepEqual(files, [`${key.hash}.json`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('concurrent calls share one computation; failures are not cached', async () => {
  const dir = tempDir();
  try {
    const cache = new ResultCache(dir, { enabled: true });
    let calls = 0;
    const slow = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return [1, 2, 3];
    };
    const [a, b] = await Promise.all([cache.cached('shared', slow), cache.cached('shared', slow)]);
    assert.equal(calls, 1);
    assert.deepEqual(a, b);
    await assert.rejects(cache.cached('boom', () => { throw new Error('no'); }), /no/);
    assert.equal(cache.has('boom'), false);
    assert.equal(await cache.cached('boom', () => 'fine'), 'fine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LINSCOPE_CACHE sets the folder; LINSCOPE_CACHE=off disables caching', async () => {
  const dir = tempDir();
  const saved = process.env.LINSCOPE_CACHE;
  try {
    process.env.LINSCOPE_CACHE = join(dir, 'c');
    assert.equal(defaultCacheDir(), join(dir, 'c'));
    let calls = 0;
    await cached('env', () => ++calls);
    await cached('env', () => ++calls);
    assert.equal(calls, 1);
    assert.ok(readdirSync(join(dir, 'c')).length > 0);
    process.env.LINSCOPE_CACHE = 'off';
    await cached('env', () => ++calls);
    await cached('env', () => ++calls);
    assert.equal(calls, 3);
    delete process.env.LINSCOPE_CACHE;
    assert.equal(defaultCacheDir(), join(process.cwd(), '.cache', 'linscope'));
  } finally {
    if (saved === undefined) delete process.env.LINSCOPE_CACHE;
    else process.env.LINSCOPE_CACHE = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the content fingerprint changes when a model file changes', () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'config.json'), '{}');
    writeFileSync(join(dir, 'model.safetensors'), 'abc');
    const before = contentFingerprint(dir);
    assert.deepEqual(before.files.map((f) => f.name), ['config.json', 'model.safetensors']);
    assert.equal(stableHash(contentFingerprint(dir)), stableHash(before));
    writeFileSync(join(dir, 'model.safetensors'), 'abcd');
    utimesSync(join(dir, 'model.safetensors'), new Date(), new Date(Date.now() + 5000));
    assert.notEqual(stableHash(contentFingerprint(dir)), stableHash(before));
    assert.equal(contentFingerprint(join(dir, 'config.json')).files[0].size, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
