/**
 * Plain harness scoring (pruned models in `prune --eval-tasks`) runs every batch layer-major when
 * the model has block stages, with the final norm and LM head on the continuation positions only.
 * Its results and statistics must equal the batch-by-batch path (one forward per batch, through a
 * plain `forward` wrapper, logits at every position) to float rounding (the head's GEMM on fewer
 * rows may round differently), on every fixture and stories260K, for the model and a pruned model;
 * streamed with the residual stream spilled they must equal the in-memory layer-major results
 * exactly, and a streamed checkpoint is read as by one layer-major pass, not once per batch.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { scoreRequestsPlain, type PlainLM, type ScoreRequest } from '../../../src/eval/harness/score.ts';
import { openModelSource } from '../../../src/io/model-source.ts';
import { createModel } from '../../../src/models/decoder.ts';
import { forwardLayerMajor } from '../../../src/models/layer-major.ts';
import { PrunedModel } from '../../../src/prune/pruned-model.ts';
import { Rng } from '../../../src/tensor/random.ts';
import { countingSource } from '../../helpers/counting-source.ts';
import { assertDeepClose } from '../../helpers/deep-close.ts';
import { fixtureArchs, fixturesDir, skipUnless, stories260KDir } from '../../helpers/paths.ts';

function requests(vocab: number): ScoreRequest[] {
  const ids = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (seed * 131 + i * 37 + 5) % vocab);
  // shared contexts, ragged lengths (padding), a window cut at maxLength
  return [[5, 2], [5, 1], [9, 3], [3, 1], [14, 2], [7, 4], [2, 1], [20, 3]].map(([c, x], k) => ({ context: ids(c, k % 3), continuation: ids(x, k + 7) }));
}

const plain = (m: PlainLM): PlainLM => ({ forward: (ids, o) => m.forward(ids, o) });

async function check(dir: string): Promise<void> {
  const source = await openModelSource(dir);
  const base = createModel(source);
  const reqs = requests(base.config.vocabSize);
  const opts = { maxLength: 16, batchSize: 3, padId: 0 };
  // a pruned model, and one whose last step is a linear replacement (it must return the rows the
  // last step's queryFrom asks for, as a block does)
  const d = base.config.hiddenSize, rng = new Rng(3);
  const lastMap = { input: 'residual' as const, weight: rng.randn([d, d], 0.2, 'float64'), bias: rng.randn([d], 0.1, 'float64') };
  for (const model of [base, new PrunedModel(base, [{ start: 1, count: 1 }]), new PrunedModel(base, [{ start: base.config.numLayers - 1, count: 1, map: lastMap }])]) {
    const want = scoreRequestsPlain(model, reqs, opts);
    assertDeepClose(want, scoreRequestsPlain(plain(model), reqs, opts), 1e-6);

    const { source: counting, reads } = countingSource(source);
    const streamedBase = createModel(counting, { streaming: true });
    const streamed = model instanceof PrunedModel ? new PrunedModel(streamedBase, model.replacements) : streamedBase;
    assert.deepEqual(scoreRequestsPlain(streamed, reqs, { ...opts, memory: { maxMemory: 1 } }), want, 'streamed, spilled');
    const single = countingSource(source);
    const one = createModel(single.source, { streaming: true });
    forwardLayerMajor(one, [{ ids: [[1, 2, 3]] }], (_, h) => one.lmHead(one.finalNorm(h)));
    assert.ok(reads.size > 0);
    // a pruned model skips its removed block's tensors; the rest are read as often as by one pass
    for (const [name, n] of reads) assert.equal(n, single.reads.get(name), `${name} read ${n} times`);
  }
}

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: layer-major plain scoring equals batch-by-batch scoring`, { skip: skipUnless(dir) }, () => check(dir));
}

test('stories260K: layer-major plain scoring equals batch-by-batch scoring', { skip: skipUnless(stories260KDir) }, () => check(stories260KDir));
