/**
 * Linearity with no more tokens than the hidden size: every pair scores ≈ 1 whatever the model
 * does (N ≤ d + 1 centred vectors are fitted exactly). `linearity` warns (terminal and JSON);
 * `prune` refuses to rank blocks on it and says how many tokens are needed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { datasetsDir, fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';
import { runCli, withTmp } from './harness.ts';

const storiesText = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');

test('linearity: 32 tokens at hidden size 64 → the scores are ≈ 1 and a warning says why (also in linearity.json)', { skip: skipUnless(fixturesDir) }, () => withTmp(async (dir) => {
  const out = join(dir, 'out');
  const r = await runCli(['linearity', '-m', join(fixturesDir, 'llama'), '--random-tokens', '8', '--samples', '4', '--no-png', '--no-cache', '-q', '-o', out]);
  assert.equal(r.code, 0, r.out);
  const json = JSON.parse(readFileSync(join(out, 'linearity.json'), 'utf8'));
  assert.equal(json.models[0].tokens, 32);
  // the premise: every pair scores near 1 (exactly 1 up to the solver's eigenvalue cutoff)
  for (const p of json.models[0].pairs) assert.ok(p.layer.withResidual.exact > 0.95, String(p.layer.withResidual.exact));
  assert.match(r.out, /warning: .*only 32 tokens for hidden size 64.*every linearity score is ≈ 1.*at least 66 tokens/);
  assert.match(json.models[0].warnings.join('\n'), /only 32 tokens for hidden size 64/);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /Warning, llama: only 32 tokens for hidden size 64/);
  // enough tokens: no warning
  const enough = await runCli(['linearity', '-m', join(fixturesDir, 'llama'), '--random-tokens', '40', '--samples', '4', '--no-png', '--no-cache', '-q', '-o', out]);
  assert.equal(enough.code, 0);
  assert.doesNotMatch(enough.out, /warning:/);
}));

test('prune: ranking by linearity on fewer calibration tokens than the hidden size is refused, with the number needed', { skip: skipUnless(stories260KDir) || skipUnless(storiesText) }, () => withTmp(async (dir) => {
  const args = ['prune', '-m', stories260KDir, '-d', storiesText, '--calibration-docs', '2', '--calibration-length', '16', '--eval-docs', '2', '--max-length', '32', '--no-export', '-q', '-o', join(dir, 'out')];
  const r = await runCli(args);
  assert.equal(r.code, 1, 'must not rank blocks on meaningless scores');
  assert.match(r.out, /ranking by linearity needs at least 66 calibration tokens \(hidden size 64\); got 32.*--calibration-docs.*--calibration-length/);
  // the other criteria do not fit a map, so they may rank on few tokens
  assert.equal((await runCli([...args, '--criterion', 'bi'])).code, 0);
}));
