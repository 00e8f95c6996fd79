/**
 * Pruning's pass over the calibration batches is layer-major (src/prune/spans.ts): every span's
 * input, output and preceding block must equal those of a per-batch `PrunedModel.forward` with
 * hooks (written out here), with replacements of both map kinds in the model, streamed and with
 * the residual stream spilled; a streamed checkpoint is read once; span statistics are finished
 * when the span ends.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openModelSource } from '../../src/io/model-source.ts';
import { createModel, type DecoderModel } from '../../src/models/decoder.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import { streamSpans } from '../../src/prune/spans.ts';
import { tokenPerplexity } from '../../src/eval/perplexity.ts';
import { assertDeepClose } from '../helpers/deep-close.ts';
import type { Replacement, Span } from '../../src/prune/types.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';
import { randomBatches } from './helpers.ts';
import { countingSource } from '../helpers/counting-source.ts';

const dir = join(fixturesDir, 'llama');
const skip = skipUnless(dir);

function replacements(d: number): Replacement[] {
  const rng = new Rng(4);
  const map = (input: 'residual' | 'mlp') => {
    const weight = rng.randn([d, d], 0.05, 'float64');
    for (let i = 0; i < d; i++) weight.data[i * d + i] += 1;
    return { input, weight, bias: rng.randn([d], 0.01, 'float64') };
  };
  return [{ start: 1, count: 1, map: map('mlp') }];
}

type Seen = Map<string, Float64Array>;

/** The per-batch reference: one hooked forward per batch, span states collected by layer. */
function reference(model: PrunedModel, batches: ReturnType<typeof randomBatches>, spans: Span[]): Seen {
  const seen: Seen = new Map();
  batches.forEach((batch, bi) => {
    const inputs = new Map<number, Tensor>();
    const outputs = new Map<number, { hidden: Tensor; mlpOut: Tensor }>();
    model.forward(batch.ids, {
      attentionMask: batch.attentionMask, positionIds: batch.positionIds, statesOnly: true,
      onBlock: ({ layer, input, output }) => {
        inputs.set(layer, input);
        outputs.set(layer, output);
      },
    });
    spans.forEach((s, k) => {
      seen.set(`${k}/${bi}/in`, Float64Array.from(inputs.get(s.start)!.data));
      seen.set(`${k}/${bi}/out`, Float64Array.from(outputs.get(s.start + s.count - 1)!.hidden.data));
      const before = outputs.get(s.start - 1);
      if (before) seen.set(`${k}/${bi}/prev`, Float64Array.from(before.mlpOut.data));
    });
  });
  return seen;
}

test('span states: layer-major (streamed, spilled) equals per-batch hooked forwards; read once; spans finish in order', { skip }, async () => {
  const source = await openModelSource(dir);
  const inMemory = createModel(source);
  const d = inMemory.config.hiddenSize;
  const batches = randomBatches(inMemory.config.vocabSize, 7, 3, 9);
  const reps = replacements(d); // block 1 replaced by an 'mlp' map reading block 0's MLP output
  const spans: Span[] = [{ start: 0, count: 1 }, { start: 2, count: 2 }, { start: 3, count: 1 }, { start: 2, count: 1 }];
  const want = reference(new PrunedModel(inMemory, reps), batches, spans);

  const { source: counting, reads } = countingSource(source);
  const streamed: DecoderModel = createModel(counting, { streaming: true });
  const got: Seen = new Map();
  const done: number[] = [];
  const visits = new Map<number, number[]>();
  streamSpans(new PrunedModel(streamed, reps), batches, spans, (k, s, bi) => {
    visits.set(k, [...(visits.get(k) ?? []), bi]);
    got.set(`${k}/${bi}/in`, Float64Array.from(s.input.data));
    got.set(`${k}/${bi}/out`, Float64Array.from(s.output.data));
    if (s.previous) got.set(`${k}/${bi}/prev`, Float64Array.from(s.previous.mlpOut.data));
  }, undefined, { memory: { maxMemory: 1 }, onSpanDone: (k) => done.push(k) });

  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [key, v] of want) assert.deepEqual(got.get(key), v, key);
  for (const [k, list] of visits) assert.deepEqual(list, batches.map((_, i) => i), `span ${k}: batches in order`);
  assert.deepEqual(done, [0, 3, 1, 2], 'each span finishes right after its last block: 0 (block 0), 3 (block 2), 1 and 2 (block 3)');
  assert.ok(reads.size > 0, "the weights were read through the counting source");
  for (const [name, n] of reads) assert.equal(n, 1, `${name} read ${n} times`);
});

test("a pruned model's perplexity runs layer-major over its steps and equals its per-batch forward", { skip }, async () => {
  const source = await openModelSource(dir);
  const base = createModel(source);
  const pruned = new PrunedModel(base, replacements(base.config.hiddenSize));
  const ids = new Rng(2).randn([80], 1, 'float64').data.map((v) => Math.abs(Math.floor(v * 300)) % base.config.vocabSize);
  const o = { maxLength: 16, batchSize: 3 };
  const perBatch = await tokenPerplexity({ forward: (x) => pruned.forward(x) }, [...ids], o);
  const streamed = new PrunedModel(createModel(source, { streaming: true }), pruned.replacements);
  assert.deepEqual(await tokenPerplexity(streamed, [...ids], { ...o, memory: { maxMemory: 1, mergeTokens: 0 } }), perBatch);
  // equal-width batches merged (the default): equal to float32 round-off on a fixture this small (OpenBLAS's small-matrix kernel)
  const merged = await tokenPerplexity(streamed, [...ids], { ...o, memory: { maxMemory: 1 } });
  assertDeepClose({ ...merged, protocol: '' }, { ...perBatch, protocol: '' }, 1e-6);
});
