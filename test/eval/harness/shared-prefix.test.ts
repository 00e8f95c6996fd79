/**
 * Cached scoring's shared prefixes (src/eval/harness/score.ts): different contexts that start
 * alike (Winogrande's options) run their common start once; every request's log-likelihood and
 * is_greedy still equal plain scoring's (one forward of each input window) — with a context that is
 * a prefix of another, left truncation, several continuations of one context mixed in, and
 * learned (GPT-2) as well as rotary (Llama) positions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MIN_SHARED_PREFIX, scoreRequests, scoreRequestsPlain, type ScoreRequest } from '../../../src/eval/harness/score.ts';
import { openModelSource } from '../../../src/io/model-source.ts';
import { loadModel } from '../../../src/models/decoder.ts';
import { Rng } from '../../../src/tensor/random.ts';
import { fixturesDir, skipUnless } from '../../helpers/paths.ts';

function requests(vocab: number): ScoreRequest[] {
  const rng = new Rng(7);
  const ids = (n: number) => Array.from({ length: n }, () => 1 + Math.floor(rng.uniform() * (vocab - 1)));
  const start = ids(MIN_SHARED_PREFIX + 5);
  const other = ids(MIN_SHARED_PREFIX + 3);
  const tail = ids(6);
  return [
    // Winogrande-like: one start, different option tokens, the same continuation
    { context: [...start, 11], continuation: tail },
    { context: [...start, 12], continuation: tail },
    { context: [...start, 12, 13, 14], continuation: ids(1) },
    // a context that is the shared start itself (scored from the prefix's last position)
    { context: [...start], continuation: ids(3) },
    // shares fewer than MIN_SHARED_PREFIX tokens with the group above: runs plain
    { context: [...start.slice(0, MIN_SHARED_PREFIX - 1), 9999 % vocab, 5], continuation: ids(2) },
    // several continuations of one context, next to another group
    { context: [...other], continuation: ids(2) },
    { context: [...other], continuation: ids(4) },
    { context: [...other, 3], continuation: ids(2) },
    { context: [...other, 4, 5], continuation: ids(1) },
    // long enough to be truncated on the left at the test's maximum length
    { context: [...ids(40), ...start, 15], continuation: ids(5) },
    { context: [...ids(40), ...start, 16], continuation: ids(5) },
  ];
}

for (const arch of ['llama', 'gpt2']) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: shared-prefix scoring equals plain scoring`, { skip: skipUnless(dir) }, async () => {
    const model = await loadModel(await openModelSource(dir));
    const reqs = requests(model.config.vocabSize);
    for (const batchSize of [1, 3, 16]) {
      const opts = { maxLength: 48, batchSize, padId: 0 };
      const cached = scoreRequests(model, reqs, opts);
      const plain = scoreRequestsPlain(model, reqs, opts);
      assert.ok(cached.stats.sharedPrefixes >= 2, `batch ${batchSize}: ${cached.stats.sharedPrefixes} shared prefixes`);
      assert.ok(cached.stats.tokens < plain.stats.tokens, `batch ${batchSize}: ${cached.stats.tokens} tokens run vs ${plain.stats.tokens}`);
      cached.results.forEach((r, i) => {
        assert.ok(Math.abs(r.logLikelihood - plain.results[i].logLikelihood) <= 1e-5, `batch ${batchSize} request ${i}: ${r.logLikelihood} vs ${plain.results[i].logLikelihood}`);
        assert.equal(r.isGreedy, plain.results[i].isGreedy, `batch ${batchSize} request ${i}: is_greedy`);
        assert.equal(r.tokens, reqs[i].continuation.length);
      });
    }
  });
}
