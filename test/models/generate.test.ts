import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { generate } from '../../src/models/generate.ts';
import { argmax, sampleToken } from '../../src/models/sampling.ts';
import { Rng } from '../../src/tensor/random.ts';
import { fixtureArchs, fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';
import { checkCacheMatchesFullForward, checkCachedGenerationMatches, checkPaddingInvariance } from './consistency.ts';

test('stories260K (llama2.c checkpoint) reproduces the 100 reference greedy tokens exactly', { skip: skipUnless(stories260KDir) }, async () => {
  const ref = JSON.parse(readFileSync(join(stories260KDir, 'reference-greedy.json'), 'utf8'));
  const source = await openModelSource(stories260KDir);
  const model = await loadModel(source);
  const want: number[] = ref.tokens_including_bos.slice(1);
  const cached = generate(model, [[1]], { maxNewTokens: 100, eosTokenIds: [] });
  assert.deepEqual(cached.tokens[0], want);
  const uncached = generate(model, [[1]], { maxNewTokens: 30, eosTokenIds: [], useCache: false });
  assert.deepEqual(uncached.tokens[0], want.slice(0, 30));
  const tokenizer = await source.tokenizer();
  assert.ok(tokenizer, 'tok512.bin is beside the checkpoint');
  assert.equal(tokenizer.decode(want), ref.text);
});

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: cached forward and cached greedy generation equal the uncached ones; padding invariance`, { skip: skipUnless(dir) }, async () => {
    const model = await loadModel(dir);
    checkCacheMatchesFullForward(model);
    checkPaddingInvariance(model);
    checkCachedGenerationMatches(model);
  });
}

test('generation stops at EOS, pads finished rows, and validates its inputs', { skip: skipUnless(fixturesDir) }, async () => {
  const model = await loadModel(join(fixturesDir, 'llama'));
  const free = generate(model, [[5, 6, 7]], { maxNewTokens: 5, eosTokenIds: [] });
  const eos = free.tokens[0][1];
  const stopped = generate(model, [[5, 6, 7], [9]], { maxNewTokens: 5, eosTokenIds: [eos] });
  assert.deepEqual(stopped.tokens[0], free.tokens[0].slice(0, free.tokens[0].indexOf(eos) + 1));
  assert.equal(stopped.stoppedAtEos[0], true);
  assert.deepEqual(stopped.sequences[0], [5, 6, 7, ...stopped.tokens[0]]);
  assert.deepEqual(generate(model, [[5]], { maxNewTokens: 0 }).tokens, [[]]);
  assert.throws(() => generate(model, [[]], { maxNewTokens: 3 }), /at least one token/);
  assert.throws(() => generate(model, [[1]], { maxNewTokens: -1 }), /non-negative/);
});

test('sampling: seeded, top-k 1 and tiny top-p are greedy, frequencies follow the softmax', { skip: skipUnless(fixturesDir) }, async () => {
  const model = await loadModel(join(fixturesDir, 'gpt2'));
  const greedy = generate(model, [[1, 2, 3]], { maxNewTokens: 8, eosTokenIds: [] }).tokens;
  assert.deepEqual(generate(model, [[1, 2, 3]], { maxNewTokens: 8, eosTokenIds: [], temperature: 1, topK: 1, seed: 3 }).tokens, greedy);
  assert.deepEqual(generate(model, [[1, 2, 3]], { maxNewTokens: 8, eosTokenIds: [], temperature: 1, topP: 1e-9, seed: 3 }).tokens, greedy);
  const a = generate(model, [[1, 2, 3]], { maxNewTokens: 8, eosTokenIds: [], temperature: 1.5, seed: 11 }).tokens;
  const b = generate(model, [[1, 2, 3]], { maxNewTokens: 8, eosTokenIds: [], temperature: 1.5, seed: 11 }).tokens;
  assert.deepEqual(a, b);

  const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
  const rng = new Rng(1);
  const count = (opts: Parameters<typeof sampleToken>[1], n = 20000) => {
    const c = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) c[sampleToken(logits, opts, rng)]++;
    return c.map((x) => x / n);
  };
  count({ temperature: 1 }).forEach((f, i) => assert.ok(Math.abs(f - [0.5, 0.3, 0.15, 0.05][i]) < 0.015));
  count({ temperature: 1, topK: 2 }).forEach((f, i) => assert.ok(Math.abs(f - [0.625, 0.375, 0, 0][i]) < 0.015));
  // top-p 0.7: 0.5 < 0.7, 0.5 + 0.3 ≥ 0.7 → keep two tokens
  count({ temperature: 1, topP: 0.7 }).forEach((f, i) => assert.ok(Math.abs(f - [0.625, 0.375, 0, 0][i]) < 0.015));
  assert.equal(argmax([1, 3, 3, 2]), 1);
});
