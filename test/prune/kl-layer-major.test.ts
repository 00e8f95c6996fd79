/**
 * prune's KL(original ‖ pruned) runs both models side by side layer-major
 * (src/prune/paired-layer-major.ts). It must equal, exactly, the group-by-group path (one full
 * forward of each model per group, written out here through plain `forward` wrappers) on every
 * fixture and stories260K, with a dropped span, a residual map, an 'mlp' map and an insertion at
 * the end; in memory, streamed (the checkpoint read as by one pass of one model) and with the residual
 * streams spilled to disk.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openModelSource } from '../../src/io/model-source.ts';
import { createModel } from '../../src/models/decoder.ts';
import { meanKlDivergence } from '../../src/prune/evaluate.ts';
import { tokenPerplexity } from '../../src/eval/perplexity.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import type { Replacement } from '../../src/prune/types.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { CausalLM } from '../../src/eval/model-api.ts';
import { countingSource } from '../helpers/counting-source.ts';
import { fixtureArchs, fixturesDir, skipUnless, stories260KDir } from '../helpers/paths.ts';

function replacements(d: number, layers: number): Replacement[] {
  const rng = new Rng(7);
  const map = (input: 'residual' | 'mlp') => {
    const weight = rng.randn([d, d], 0.05, 'float64');
    for (let i = 0; i < d; i++) weight.data[i * d + i] += 1;
    return { input, weight, bias: rng.randn([d], 0.01, 'float64') };
  };
  // block 0 dropped, block 2 by an 'mlp' map reading block 1, an insertion after the last block
  return [{ start: 0, count: 1 }, { start: 2, count: 1, map: map('mlp') }, { start: layers, count: 0, map: map('residual') }];
}

/** The group-by-group path: plain forwards, not recognised as pruned models. */
const plain = (m: PrunedModel): CausalLM => ({ forward: (ids) => m.forward(ids) });

async function check(dir: string): Promise<void> {
  const source = await openModelSource(dir);
  const base = createModel(source);
  const L = base.numLayers;
  const ids = Array.from({ length: 70 }, (_, i) => (i * 37 + 11) % base.config.vocabSize);
  const settings = { ids, maxLength: 8, batchSize: 3 };
  for (const reps of [replacements(base.config.hiddenSize, L), [{ start: 1, count: 2 }]]) {
    const original = new PrunedModel(base);
    const pruned = new PrunedModel(base, reps);
    const want = await meanKlDivergence(plain(original), plain(pruned), settings);
    assert.ok(want.kl > 0 && want.positions === 8 * 8);
    assert.deepEqual(await meanKlDivergence(original, pruned, settings), want, 'in memory');

    const { source: counting, reads } = countingSource(source);
    const streamed = createModel(counting, { streaming: true });
    const got = await meanKlDivergence(new PrunedModel(streamed), new PrunedModel(streamed, reps), { ...settings, memory: { maxMemory: 1 } });
    assert.deepEqual(got, want, 'streamed, spilled');
    // the reads of one layer-major pass of one model (each tensor once; a tied embedding again for the head)
    const single = countingSource(source);
    await tokenPerplexity(new PrunedModel(createModel(single.source, { streaming: true })), ids, { maxLength: 8, batchSize: 3 });
    assert.ok(reads.size > 0);
    assert.deepEqual(reads, single.reads, 'both models read the checkpoint as one pass of one model does');

    // different base models (e.g. after distilling all parameters): each read once
    assert.deepEqual(await meanKlDivergence(original, new PrunedModel(createModel(source, { streaming: true }), reps), settings), want, 'two bases');
  }
}

for (const arch of fixtureArchs) {
  const dir = join(fixturesDir, arch);
  test(`${arch}: layer-major KL equals the group-by-group KL exactly (in memory, streamed, spilled)`, { skip: skipUnless(dir) }, () => check(dir));
}

test('stories260K: layer-major KL equals the group-by-group KL exactly', { skip: skipUnless(stories260KDir) }, () => check(stories260KDir));
