/** Results are cached by model identity + exact token sequences + options: hits, misses, refresh, off. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_ANALYSIS, DEFAULT_SAMPLING } from '../../src/linearity/options.ts';
import { runLinearity, type LinearityRequest } from '../../src/linearity/run.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';
import { tempDir } from './helpers.ts';

const model = join(fixturesDir, 'gpt2');
const skip = skipUnless(model);

function request(cacheDir: string, extra: Partial<LinearityRequest> = {}): LinearityRequest {
  return {
    models: [model],
    data: { kind: 'random', length: 20 },
    sampling: { ...DEFAULT_SAMPLING, samples: 5 },
    analysis: { ...DEFAULT_ANALYSIS, batchSize: 2 },
    cache: { dir: cacheDir },
    ...extra,
  };
}

test('cache: a rerun is a hit with identical numbers; a changed option or seed is a miss; refresh recomputes', { skip }, async () => {
  const dir = tempDir();
  const first = await runLinearity(request(dir));
  assert.equal(first.models[0].cached, false);
  const again = await runLinearity(request(dir, { labels: ['renamed'] }));
  assert.equal(again.models[0].cached, true);
  assert.deepEqual(again.models[0].pairs, first.models[0].pairs);
  assert.deepEqual(again.models[0].timings, first.models[0].timings, 'a hit reports the timings of the run that computed it');
  assert.equal(again.models[0].model.label, 'renamed', 'labels come from the current request');

  const changed = await runLinearity(request(dir, { analysis: { ...DEFAULT_ANALYSIS, batchSize: 2, anisotropy: true } }));
  assert.equal(changed.models[0].cached, false);
  const otherSeed = await runLinearity(request(dir, { sampling: { ...DEFAULT_SAMPLING, samples: 5, seed: 1 } }));
  assert.equal(otherSeed.models[0].cached, false);
  assert.notDeepEqual(otherSeed.models[0].pairs, first.models[0].pairs);

  const refreshed = await runLinearity(request(dir, { cache: { dir, refresh: true } }));
  assert.equal(refreshed.models[0].cached, false);
  assert.deepEqual(refreshed.models[0].pairs, first.models[0].pairs, 'deterministic');
  assert.equal((await runLinearity(request(dir))).models[0].cached, true);
});

test('cache: disabled means nothing is read or written', { skip }, async () => {
  const dir = tempDir();
  const off = { dir, enabled: false };
  assert.equal((await runLinearity(request(dir, { cache: off }))).models[0].cached, false);
  assert.equal((await runLinearity(request(dir, { cache: off }))).models[0].cached, false);
  assert.deepEqual(readdirSync(dir), []);
});
