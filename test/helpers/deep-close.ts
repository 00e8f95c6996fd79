/**
 * assertDeepClose: like assert.deepEqual, except that numbers may differ by `rel` relative to the
 * expected value (absolute below 1); for results that equal a reference to float round-off only.
 */
import assert from 'node:assert/strict';

export function assertDeepClose(actual: unknown, expected: unknown, rel: number, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${path}: ${actual} vs NaN`);
    const tol = rel * Math.max(1, Math.abs(expected));
    assert.ok(actual === expected || Math.abs(actual - expected) <= tol, `${path}: ${actual} vs ${expected} (tolerance ${tol})`);
    return;
  }
  if (Array.isArray(expected) || ArrayBuffer.isView(expected)) {
    const a = actual as ArrayLike<unknown>, e = expected as ArrayLike<unknown>;
    assert.equal(a.length, e.length, `${path}: length`);
    for (let i = 0; i < e.length; i++) assertDeepClose(a[i], e[i], rel, `${path}[${i}]`);
    return;
  }
  if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object', `${path}: not an object`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${path}: keys`);
    for (const k of Object.keys(expected)) assertDeepClose((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], rel, `${path}.${k}`);
    return;
  }
  assert.equal(actual, expected, path);
}
