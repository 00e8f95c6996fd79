/**
 * A linearity run that cannot fit in memory is refused at once, with the estimate and the option
 * to lower, instead of running for minutes and dying with a V8 heap dump. Runs the real CLI as a
 * child process with a bounded time (and, for the heap case, a small heap limit).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { stableHash, stableHashOfRows } from '../../src/report/cache.ts';
import { formatBytes } from '../../src/util/memory-estimate.ts';
import { datasetsDir, fixturesDir, skipUnless } from '../helpers/paths.ts';
import { spawnCli, withTmp } from './helpers.ts';

const storiesText = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');

/** Runs the CLI; fails when it has not ended after `seconds`. */
async function within(seconds: number, args: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = spawnCli(args, { env });
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), seconds * 1000);
  const code = await cli.exit;
  clearTimeout(timer);
  assert.notEqual(code, 'SIGKILL', `still running after ${seconds} s:\n${cli.err()}`);
  return { code, err: cli.err() };
}

test('linearity --samples 1000000000: refused in seconds with the estimate and what to lower', { skip: skipUnless(fixturesDir) || skipUnless(storiesText) }, () => withTmp(async (dir) => {
  const random = await within(60, ['linearity', '-m', join(fixturesDir, 'llama'), '--random-tokens', '64', '--samples', '1000000000', '-q', '-o', join(dir, 'a')]);
  assert.equal(random.code, 1, random.err);
  assert.match(random.err, /linscope linearity: this run needs about [\d.]+ (GB|TB) of (memory|JavaScript heap) \(token sequences and batches \(1,000,000,000 sequences, up to 64,000,000,000 tokens\) .*lower --samples \(about [\d,]+ fit/);
  const text = await within(60, ['linearity', '-m', join(fixturesDir, 'llama'), '-d', storiesText, '--samples', '1000000000', '-q', '-o', join(dir, 'b')]);
  assert.equal(text.code, 1, text.err);
  assert.match(text.err, /needs about .*lower --samples .* or --chars \/ --max-tokens/);
}));

test('linearity under a 200 MB heap: a probe set of 2,000,000 short sequences is refused (not an out-of-memory crash); a small one runs', { skip: skipUnless(fixturesDir) }, () => withTmp(async (dir) => {
  const env = { NODE_OPTIONS: '--max-old-space-size=200' };
  const big = await within(60, ['linearity', '-m', join(fixturesDir, 'llama'), '--random-tokens', '16', '--samples', '2000000', '-q', '--no-cache', '-o', join(dir, 'a')], env);
  assert.equal(big.code, 1, big.err);
  assert.match(big.err, /of JavaScript heap .*more than the \d+ MB this Node.js process may use; lower --samples .*--max-old-space-size/);
  const small = await within(60, ['linearity', '-m', join(fixturesDir, 'llama'), '--random-tokens', '16', '--samples', '20', '-q', '--no-cache', '--no-png', '-o', join(dir, 'b')], env);
  assert.equal(small.code, 0, small.err);
}));

test('the streamed sequence hash equals the hash of the whole JSON; byte sizes read as people write them', () => {
  const rows = [[1, 2, 3], [], [40000, 5]];
  assert.equal(stableHashOfRows(rows), stableHash(rows));
  assert.equal(stableHashOfRows([]), stableHash([]));
  assert.equal(formatBytes(512), '512 bytes');
  assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GB');
});
