/** keepFreedMemoryInHeap (src/backend/glibc-malloc.ts): applied once on glibc, skipped when the user chose. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepFreedMemoryInHeap } from '../../src/backend/glibc-malloc.ts';

test('keepFreedMemoryInHeap: in effect on Linux with glibc, a no-op after the first call', () => {
  const glibc = process.platform === 'linux' && Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);
  const userChose = process.env.MALLOC_MMAP_THRESHOLD_ !== undefined || process.env.MALLOC_TRIM_THRESHOLD_ !== undefined;
  const first = keepFreedMemoryInHeap();
  assert.equal(first, glibc && !userChose);
  assert.equal(keepFreedMemoryInHeap({ MALLOC_TRIM_THRESHOLD_: '0' }), first, 'the first decision stands');
  // large arrays still allocate and free normally afterwards
  for (let k = 0; k < 3; k++) assert.equal(new Float32Array(16 << 20).fill(k)[5], k);
});
