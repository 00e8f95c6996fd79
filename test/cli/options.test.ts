/** Shared option groups: --threads sets the backend's thread count; bad values get one clear line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backend } from '../../src/backend/index.ts';
import { parseArgs, defineCommand } from '../../src/cli/args.ts';
import { applyThreads, modelOptions, threadsOptions } from '../../src/cli/options.ts';

test('--threads: parsed as an integer, applied to the backend, refused below 1; absent leaves the backend alone', () => {
  const spec = defineCommand({ name: 't', summary: 's', options: { ...modelOptions, ...threadsOptions } });
  const o = parseArgs(spec, ['-m', 'x', '--threads', '1']).options;
  assert.equal(o.threads, 1);
  assert.equal(o.offline, undefined);
  const be = backend();
  const before = be.threads();
  try {
    applyThreads(o);
    if (be.name === 'openblas') assert.equal(be.threads(), 1);
    applyThreads({ threads: undefined });
    if (be.name === 'openblas') assert.equal(be.threads(), 1, 'absent: unchanged');
    assert.throws(() => applyThreads({ threads: 0 }), /--threads must be at least 1, got 0/);
  } finally {
    be.setThreads(before);
  }
});
