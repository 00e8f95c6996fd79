import { test } from 'node:test';
import assert from 'node:assert/strict';
import { textPerplexity, tokenPerplexity } from '../../src/eval/perplexity.ts';
import { BigramLM, bigramTable, wordTokenizer } from './toy.ts';

const P = bigramTable();
const stream = [1, 2, 3, 4, 5, 4, 6, 4, 6, 7, 8, 4, 5];
/** Σ −ln P[a][b] over the transitions a→b at the given target positions. */
const nllAt = (targets: number[]) => targets.reduce((s, t) => s - Math.log(P[stream[t - 1]][stream[t]]), 0);
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);

test('chunks: each chunk scores its tokens 2…L; the partial chunk is dropped', async () => {
  const r = await tokenPerplexity(new BigramLM(), stream, { maxLength: 4, batchSize: 2 });
  // chunks [0..3], [4..7], [8..11]; token 12 dropped; targets 1-3, 5-7, 9-11
  const targets = [1, 2, 3, 5, 6, 7, 9, 10, 11];
  assert.equal(r.scoredTokens, 9);
  assert.equal(r.windows, 3);
  close(r.meanNll, nllAt(targets) / 9);
  close(r.perplexity, Math.exp(nllAt(targets) / 9));
  assert.match(r.protocol, /3 non-overlapping chunks of 4 tokens/);
});

test('sliding windows score every token after the first exactly once (stride < maxLength; bigram ⇒ stride-independent)', async () => {
  const all = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
  for (const stride of [1, 2, 3, 4]) {
    const r = await tokenPerplexity(new BigramLM(), stream, { maxLength: 5, mode: 'sliding', stride, batchSize: 3 });
    assert.equal(r.scoredTokens, stream.length - 1);
    close(r.meanNll, nllAt(all) / all.length);
    assert.match(r.protocol, new RegExp(`stride ${stride}`));
  }
});

test('text set: joined with a blank line and tokenized once; clear error when too short', async () => {
  const joinTok = { ...wordTokenizer, encode: (t: string) => wordTokenizer.encode(t.replace(/\n\n/g, ' ')) };
  const r = await textPerplexity(new BigramLM(), joinTok, ['The capital is', 'Rome is'], { maxLength: 3 });
  assert.equal(r.streamTokens, 6);
  assert.equal(r.scoredTokens, 4);
  await assert.rejects(tokenPerplexity(new BigramLM(), [1, 2], { maxLength: 4 }), /fewer than one chunk of 4/);
});
