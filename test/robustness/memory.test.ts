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
import { normalizeConfig } from '../../src/models/config.ts';
import { checkLinearityMemory } from '../../src/linearity/memory.ts';
import { DEFAULT_ANALYSIS, DEFAULT_SAMPLING, type DataSpec } from '../../src/linearity/options.ts';
import { runCli, spawnCli, withTmp } from './harness.ts';

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

test('linearity --samples 1000000000: refused at once with the estimate and what to lower (random ids and text)', { skip: skipUnless(fixturesDir) || skipUnless(storiesText) }, () => withTmp(async (dir) => {
  const t0 = performance.now();
  const random = await runCli(['linearity', '-m', join(fixturesDir, 'llama'), '--random-tokens', '64', '--samples', '1000000000', '-q', '-o', join(dir, 'a')]);
  assert.equal(random.code, 1, random.out);
  assert.match(random.out, /linscope linearity: this run needs about [\d.]+ (GB|TB) of (memory|JavaScript heap) \(token sequences \(1,000,000,000 sequences, up to 64,000,000,000 tokens\) .*lower --samples \(about [\d,]+ fit/);
  const text = await runCli(['linearity', '-m', join(fixturesDir, 'llama'), '-d', storiesText, '--samples', '1000000000', '-q', '-o', join(dir, 'b')]);
  assert.equal(text.code, 1, text.out);
  assert.match(text.out, /needs about .*lower --samples .* or --chars \/ --max-tokens/);
  assert.ok(performance.now() - t0 < 30_000, 'refused before any heavy work');
}));

test('the budget: the paper\'s default run on a GPT-2-sized model fits a 4 GB heap; 2,000,000 sequences do not fit 200 MB', () => {
  const gpt2 = normalizeConfig({ model_type: 'gpt2', n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024 });
  const text: DataSpec = { kind: 'text', path: 'x' };
  const random: DataSpec = { kind: 'random', length: 16 };
  const GB = 1024 ** 3;
  checkLinearityMemory(gpt2, text, DEFAULT_SAMPLING, DEFAULT_ANALYSIS, { heapBytes: 4 * GB, totalBytes: 8 * GB });
  assert.throws(
    () => checkLinearityMemory(gpt2, random, { ...DEFAULT_SAMPLING, samples: 2_000_000 }, DEFAULT_ANALYSIS, { heapBytes: 200 * 1024 ** 2, totalBytes: 8 * GB }),
    /JavaScript heap .*more than the 200 MB this Node.js process may use; lower --samples \(about [\d,]+ fit/,
  );
});

test('linearity under a real 200 MB heap: a probe set of 2,000,000 sequences is refused, not an out-of-memory crash', { skip: skipUnless(fixturesDir) }, () => withTmp(async (dir) => {
  const big = await within(60, ['linearity', '-m', join(fixturesDir, 'llama'), '--random-tokens', '16', '--samples', '2000000', '-q', '--no-cache', '-o', join(dir, 'a')], { NODE_OPTIONS: '--max-old-space-size=200' });
  assert.equal(big.code, 1, big.err);
  assert.match(big.err, /of JavaScript heap .*more than the \d+ MB this Node.js process may use; lower --samples .*--max-old-space-size/);
}));

test('the streamed sequence hash equals the hash of the whole JSON; byte sizes read as people write them', () => {
  const rows = [[1, 2, 3], [], [40000, 5]];
  assert.equal(stableHashOfRows(rows), stableHash(rows));
  assert.equal(stableHashOfRows([]), stableHash([]));
  assert.equal(formatBytes(512), '512 bytes');
  assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GB');
});
