/**
 * Evaluation runs layer-major on a model with stages (src/models/layer-major.ts): factual recall
 * (LASER's evaluation cases) and perplexity must equal the batch-by-batch full forward to float
 * rounding (layer-major runs the last block from the first scored position on, and merges batches),
 * equal the in-memory layer-major results exactly when streamed with the residual stream spilled to
 * disk, and read a streamed checkpoint once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FactCase } from '../../src/data/types.ts';
import { evaluateFactualRecall } from '../../src/eval/factual-recall.ts';
import { logitsAt } from '../../src/eval/selected-logits.ts';
import { tokenPerplexity } from '../../src/eval/perplexity.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { createModel } from '../../src/models/decoder.ts';
import { randomTokenIds } from '../../src/linearity/data.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';
import { wordTokenizer } from './toy.ts';
import { countingSource } from '../helpers/counting-source.ts';
import { assertDeepClose } from '../helpers/deep-close.ts';

const dir = join(fixturesDir, 'llama');
const skip = skipUnless(dir);
const fact = (id: string, prompt: string, answer: string): FactCase => ({ id, prompt, answer, subject: '', paraphrases: [] });
const cases = [fact('A', 'The capital is', ' Paris'), fact('B', 'The capital is', ' Rome is'), fact('C', 'The capital is Rome', ' of'), fact('D', 'The', ' France'), fact('E', 'The capital of', ' France is')];

test('factual recall: layer-major (streamed, spilled) equals the per-batch forward, each weight read once', { skip }, async () => {
  const source = await openModelSource(dir);
  const inMemory = createModel(source);
  const perBatch = await evaluateFactualRecall(inMemory, wordTokenizer, cases, {
    batchSize: 2,
    batchLogits: (b, at) => logitsAt(inMemory, b.ids, { attentionMask: b.attentionMask }, at), // the per-batch path (head at the answer rows only)
  });
  const { source: counting, reads } = countingSource(source);
  const streamed = createModel(counting, { streaming: true });
  const layerMajor = await evaluateFactualRecall(streamed, wordTokenizer, cases, { batchSize: 2, memory: { maxMemory: 1 } });
  // equal-width batches run merged (mergeEqualWidth): the same calls per row, GEMMs over more rows,
  // which on a fixture this small can take OpenBLAS's small-matrix kernel in one case and not the other
  assertDeepClose(layerMajor, perBatch, 1e-6);
  assert.ok(reads.size > 0, "the weights were read through the counting source");
  for (const [name, n] of reads) assert.equal(n, 1, `${name} read ${n} times`);
  const unmerged = await evaluateFactualRecall(createModel(source, { streaming: true }), wordTokenizer, cases, { batchSize: 2, memory: { maxMemory: 1, mergeTokens: 0 } });
  assertDeepClose(unmerged, perBatch, 1e-6);
  assert.deepEqual(unmerged, await evaluateFactualRecall(inMemory, wordTokenizer, cases, { batchSize: 2, memory: { mergeTokens: 0 } }));
});

test('perplexity: layer-major (streamed, spilled) equals the per-batch forward', { skip }, async () => {
  const source = await openModelSource(dir);
  const inMemory = createModel(source);
  const ids = randomTokenIds(1, 90, inMemory.config.vocabSize, 5)[0];
  for (const mode of ['chunks', 'sliding'] as const) {
    const o = { maxLength: 16, mode, stride: 6, batchSize: 3 };
    const perBatch = await tokenPerplexity({ forward: (x, f) => inMemory.forward(x, f) }, ids, o);
    const layerMajor = await tokenPerplexity(createModel(source, { streaming: true }), ids, { ...o, memory: { maxMemory: 1 } });
    // (the protocol line prints the perplexity to 8 digits: compared through the numbers)
    assertDeepClose({ ...layerMajor, protocol: '' }, { ...perBatch, protocol: '' }, 1e-6);
    const unmerged = await tokenPerplexity(createModel(source, { streaming: true }), ids, { ...o, memory: { maxMemory: 1, mergeTokens: 0 } });
    assertDeepClose({ ...unmerged, protocol: '' }, { ...perBatch, protocol: '' }, 1e-6);
    assert.deepEqual(unmerged, await tokenPerplexity(inMemory, ids, { ...o, memory: { mergeTokens: 0 } }), mode);
  }
});
