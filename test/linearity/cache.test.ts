/** Results are cached by model identity + exact token sequences + options: hits, misses, refresh, off. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_ANALYSIS, DEFAULT_SAMPLING } from '../../src/linearity/options.ts';
import { resultKey, runLinearity, type LinearityRequest } from '../../src/linearity/run.ts';
import { cacheKey } from '../../src/report/cache.ts';
import { NUMERICS_VERSION } from '../../src/tensor/numerics.ts';
import { randomWeightSource } from '../../src/models/random-weights.ts';
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

test('cache: a model built in memory is keyed by the identity it is given', async () => {
  const dir = tempDir();
  const config = { model_type: 'llama', hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100, max_position_embeddings: 64 };
  const built = (seed: number) => ({ source: randomWeightSource(config, { seed }), label: `random-${seed}`, identity: { config, seed } });
  const base = { data: { kind: 'random' as const, length: 16 }, sampling: { ...DEFAULT_SAMPLING, samples: 4 }, analysis: DEFAULT_ANALYSIS, cache: { dir } };
  const first = await runLinearity({ ...base, models: [built(0)] });
  assert.equal(first.models[0].model.label, 'random-0');
  assert.equal(first.models[0].pairs.length, 2);
  assert.equal((await runLinearity({ ...base, models: [built(0)] })).models[0].cached, true);
  const other = await runLinearity({ ...base, models: [built(1)] });
  assert.equal(other.models[0].cached, false);
  assert.notDeepEqual(other.models[0].pairs, first.models[0].pairs);
});

test('cache: the key holds the version of the float32 arithmetic, so an upgrade that changes rounding recomputes', () => {
  const key = resultKey({ id: 'm' }, [[1, 2, 3]], DEFAULT_ANALYSIS);
  assert.equal((key.parts as { numerics: number }).numerics, NUMERICS_VERSION);
  const earlier = cacheKey({ ...(key.parts as Record<string, unknown>), numerics: NUMERICS_VERSION - 1 });
  assert.notEqual(earlier.hash, key.hash);
});
