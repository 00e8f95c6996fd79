/**
 * The prefix-cached evaluation (hidden states entering layer ℓ computed once, blocks ℓ…L−1 run per
 * intervention) gives the same teacher-forced metrics as the full forward, for interventions at
 * several layers, types and ρ, alone and composed with lower-layer ones, on left-padded batches;
 * and it reuses one cached layer input per layer as a search walks the grid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { evaluateFactualRecall, type FactualRecallResult, type PreparedCases } from '../../src/eval/factual-recall.ts';
import type { EvalTokenizer } from '../../src/eval/model-api.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { PrefixCachedEvaluator } from '../../src/laser/prefix-cache.ts';
import { parseInterventions } from '../../src/laser/parse.ts';
import { createModel, loadModel, type DecoderModel } from '../../src/models/decoder.ts';
import { memorySource } from '../../src/models/memory-source.ts';
import { residualEntering, runBlocksFrom } from '../../src/models/partial-forward.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';

/** A 4-layer GPT-2 with random weights large enough to give peaked, position-dependent predictions. */
function randomGpt2(): DecoderModel {
  const rng = new Rng(7);
  const d = 32, layers = 4, vocab = 61;
  const w = new Map<string, Tensor>();
  w.set('transformer.wte.weight', rng.randn([vocab, d], 0.5));
  w.set('transformer.wpe.weight', rng.randn([64, d], 0.3));
  w.set('transformer.ln_f.weight', Tensor.full([d], 1));
  w.set('transformer.ln_f.bias', Tensor.zeros([d]));
  for (let l = 0; l < layers; l++) {
    const p = `transformer.h.${l}.`;
    for (const ln of ['ln_1', 'ln_2']) {
      w.set(p + ln + '.weight', Tensor.full([d], 1));
      w.set(p + ln + '.bias', rng.randn([d], 0.1));
    }
    w.set(p + 'attn.c_attn.weight', rng.randn([d, 3 * d], 0.3));
    w.set(p + 'attn.c_attn.bias', rng.randn([3 * d], 0.1));
    w.set(p + 'attn.c_proj.weight', rng.randn([d, d], 0.3));
    w.set(p + 'attn.c_proj.bias', rng.randn([d], 0.1));
    w.set(p + 'mlp.c_fc.weight', rng.randn([d, 4 * d], 0.3));
    w.set(p + 'mlp.c_fc.bias', rng.randn([4 * d], 0.1));
    w.set(p + 'mlp.c_proj.weight', rng.randn([4 * d, d], 0.3));
    w.set(p + 'mlp.c_proj.bias', rng.randn([d], 0.1));
  }
  return createModel(memorySource({ model_type: 'gpt2', n_embd: d, n_layer: layers, n_head: 4, vocab_size: vocab, n_positions: 64 }, w));
}

/** Cases of varying prompt (3…11) and answer (1…3) lengths, so every batch of 3 is left-padded. */
function randomCases(seed: number, n: number, vocab: number): PreparedCases {
  const rng = new Rng(seed);
  return {
    items: Array.from({ length: n }, (_, i) => ({
      fact: { id: String(i), prompt: '', subject: '', answer: ' x', paraphrases: [] },
      prompt: Array.from({ length: 3 + ((i * 5) % 9) }, () => 2 + rng.int(vocab - 2)),
      answer: Array.from({ length: 1 + (i % 3) }, () => 2 + rng.int(vocab - 2)),
    })),
  };
}

const tokenizer: EvalTokenizer = { encode: () => [], decode: (ids) => ids.join(' '), padId: 0 };

function assertSameResults(cached: FactualRecallResult, full: FactualRecallResult, what: string): void {
  assert.equal(cached.perCase.length, full.perCase.length);
  cached.perCase.forEach((c, i) => {
    const f = full.perCase[i];
    assert.ok(Math.abs(c.logLoss - f.logLoss) < 1e-5, `${what}, case ${i}: log-loss ${c.logLoss} vs ${f.logLoss}`);
    assert.equal(c.firstTokenRank, f.firstTokenRank, `${what}, case ${i}: rank`);
    assert.deepEqual(c.topK, f.topK, `${what}, case ${i}: top-k`);
  });
  assert.ok(Math.abs(cached.summary.logLoss - full.summary.logLoss) < 1e-5, what);
  assert.ok(Math.abs(cached.summary.answerPerplexity - full.summary.answerPerplexity) < 1e-5 * full.summary.answerPerplexity, what);
  assert.deepEqual(cached.summary.topK, full.summary.topK, what);
}

/** A search-like sequence of evaluations: base, grid cells layer by layer (last first), compositions, test split. */
const steps: [split: 'validation' | 'test', interventions: string][] = [
  ['validation', ''],
  ['validation', 'out:3:0.5'], ['validation', 'q:3:0.1'], ['validation', 'v:3:0.9'],
  ['validation', 'in:1:0.2'], ['validation', 'o:1:0.3'],
  ['validation', 'k:0:0.5'], ['validation', 'out:0:0.05'],
  // greedy composition on top of in:1:0.2: candidates above and below it
  ['validation', 'in:1:0.2,out:3:0.5'], ['validation', 'in:1:0.2,q:3:0.1'], ['validation', 'in:1:0.2,q:2:0.1'],
  ['validation', 'in:1:0.2,k:0:0.5'], ['validation', 'in:1:0.2,q:2:0.1,out:3:0.5'], ['validation', 'in:1:0.2,q:2:0.1'],
  ['test', ''], ['test', 'in:1:0.2,q:2:0.1'], ['test', 'out:3:0.5'],
];

async function checkAgainstFullForward(model: DecoderModel, vocab: number): Promise<PrefixCachedEvaluator<'validation' | 'test'>> {
  const splits = { validation: randomCases(1, 10, vocab), test: randomCases(2, 7, vocab) };
  const opts = { batchSize: 3 };
  const evaluator = new PrefixCachedEvaluator(model, tokenizer, splits, opts);
  const editor = new LaserEditor(model);
  const base = await evaluateFactualRecall(model, tokenizer, splits.validation, opts);
  let changed = 0;
  for (const [split, text] of steps) {
    const ivs = text ? parseInterventions(text, model.numLayers) : [];
    editor.applyAll(ivs);
    try {
      const cached = await evaluator.evaluate(split, ivs);
      const full = await evaluateFactualRecall(model, tokenizer, splits[split], opts);
      assertSameResults(cached, full, `${split} ${text || 'base'}`);
      if (split === 'validation' && Math.abs(full.summary.logLoss - base.summary.logLoss) > 1e-4) changed++;
    } finally {
      editor.undo();
    }
  }
  assert.ok(changed >= 8, `the interventions change the metrics (${changed} did)`);
  return evaluator;
}

test('random GPT-2: prefix-cached metrics equal the full forward (1e-5), one cached input per layer', async () => {
  const model = randomGpt2();
  const evaluator = await checkAgainstFullForward(model, 61);
  // Built: layer 3, 1, 0 (single interventions); 3 above in:1 (extended from the layer-0 entry),
  // 2 above in:1, 1 above k:0, 3 above in:1,q:2; on test 2 and 3. Hits: q:3, v:3, o:1, out:0,
  // in:1+q:3, and in:1+q:2 from the layer-3 entry keyed on exactly those. Base: full, twice.
  assert.deepEqual(evaluator.stats, { prefixComputations: 9, prefixExtensions: 1, cacheHits: 6, fullEvaluations: 2 });
});

const llamaDir = join(fixturesDir, 'llama');
test('llama fixture (RoPE, GQA): prefix-cached metrics equal the full forward (1e-5)', { skip: skipUnless(llamaDir) }, async () => {
  const model = await loadModel(llamaDir);
  await checkAgainstFullForward(model, model.config.vocabSize);
});

test('residualEntering + runBlocksFrom reproduce the forward, and the cached input is not modified', () => {
  const model = randomGpt2();
  const ids = [[0, 0, 5, 9, 17, 3], [4, 8, 15, 16, 23, 42]];
  const attentionMask = [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]];
  const reference = model.forward(ids, { attentionMask, outputHiddenStates: true }).preFinalNorm!;
  for (const layer of [0, 2, 4]) {
    const { hidden, ctx } = residualEntering(model, layer, ids, { attentionMask });
    const copy = hidden.clone();
    for (let run = 0; run < 2; run++) {
      const out = runBlocksFrom(model, layer, hidden, ctx);
      for (let i = 0; i < out.size; i++) assert.ok(Math.abs(out.data[i] - reference.data[i]) < 1e-6, `layer ${layer}`);
    }
    assert.deepEqual(hidden.data, copy.data, 'runBlocksFrom leaves its input alone');
  }
  assert.throws(() => residualEntering(model, 5, ids), /out of range/);
});
