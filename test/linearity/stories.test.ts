/**
 * The analysis end to end on stories260K (Karpathy's 5-block Llama) with TinyStories slices:
 * against the paper's direct computation on stored rows, independent of batching and padding,
 * the last-pair modes, and the per-token residuals adding up to 1 − score.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { residualStates } from '../../src/analysis/hidden-states.ts';
import { linearityDirect } from '../../src/analysis/linearity-direct.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { analyseModel } from '../../src/linearity/analyse.ts';
import { loadProbeSource, probeSequences } from '../../src/linearity/data.ts';
import { DEFAULT_ANALYSIS, DEFAULT_SAMPLING, type AnalysisOptions } from '../../src/linearity/options.ts';
import type { ModelInfo } from '../../src/linearity/result.ts';
import { createModel, type DecoderModel } from '../../src/models/decoder.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';
import { assertSaneScores, maxScoreDifference, tinyStories } from './helpers.ts';

const skip = skipUnless(stories260KDir) || skipUnless(tinyStories);
const info: ModelInfo = { spec: 'stories260K', label: 'stories260K', modelType: 'llama', layers: 5, hiddenSize: 64, vocabSize: 512, parallelResidual: false, identity: null };

let setup: Promise<{ model: DecoderModel; sequences: number[][]; decode: (ids: number[]) => string }> | undefined;
function load() {
  setup ??= (async () => {
    const source = await openModelSource(stories260KDir);
    const tokenizer = (await source.tokenizer())!;
    const spec = { kind: 'text' as const, path: tinyStories };
    const sampling = { ...DEFAULT_SAMPLING, samples: 10, chars: 160 };
    const probe = probeSequences(await loadProbeSource(spec, sampling), spec, sampling, { vocabSize: 512, tokenizer, maxTokens: 512 });
    return { model: createModel(source), sequences: probe.sequences, decode: (ids: number[]) => tokenizer.decode(ids) };
  })();
  return setup;
}

const options = (o: Partial<AnalysisOptions> = {}): AnalysisOptions => ({ ...DEFAULT_ANALYSIS, ...o });

test('stories260K: the profile equals the direct SVD computation on the stored real-token rows', { skip }, async () => {
  const { model, sequences } = await load();
  assert.ok(new Set(sequences.map((s) => s.length)).size > 1, 'slices should tokenize to different lengths (so batches are padded)');
  assert.ok(sequences.every((s) => s[0] === 1), 'BOS first');
  // reference: one sequence per forward (no padding at all), rows concatenated, solved on the rows
  const perState: Float64Array[][] = [];
  for (const seq of sequences) {
    residualStates(model.forward([seq], { outputHiddenStates: true }), 'preFinalNorm').forEach((s, i) => (perState[i] ??= []).push(Float64Array.from(s.data)));
  }
  const tokens = sequences.reduce((a, s) => a + s.length, 0);
  const stacked = perState.map((chunks) => {
    const all = new Float64Array(tokens * 64);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return new Tensor(all, [tokens, 64]);
  });
  const r = analyseModel(model, info, sequences, options({ batchSize: 4 }));
  assert.equal(r.tokens, tokens);
  assert.ok(r.padTokens > 0);
  assertSaneScores(r, 'stories260K');
  for (const p of r.pairs) {
    const withRes = linearityDirect(stacked[p.from], stacked[p.to]);
    const without = linearityDirect(stacked[p.from], stacked[p.to], { variant: 'withoutResidual' });
    assert.ok(Math.abs(p.layer.withResidual.exact - withRes.score) < 1e-10, `pair ${p.block}: ${p.layer.withResidual.exact} vs direct ${withRes.score}`);
    assert.ok(Math.abs(p.layer.withoutResidual.exact - without.score) < 1e-10, `pair ${p.block} w/o residual: ${p.layer.withoutResidual.exact} vs direct ${without.score}`);
    assert.equal(p.layer.withResidual.rank, withRes.rank);
  }
});

test('stories260K: scores do not depend on batch size or padding side (pad rows excluded)', { skip }, async () => {
  const { model, sequences } = await load();
  const reference = analyseModel(model, info, sequences, options({ batchSize: 1, parts: true, anisotropy: true }));
  assert.equal(reference.padTokens, 0);
  // Right padding leaves every real token's float32 computation unchanged, so only the float64
  // summation order differs; left padding shifts the real tokens inside the attention kernels,
  // which changes float32 rounding of the states themselves (measured: ~1e-8 on the scores).
  const cases = [
    { batchSize: 3, tolerance: 1e-12 },
    { batchSize: 16, tolerance: 1e-12 },
    { batchSize: 4, padding: 'left' as const, tolerance: 1e-6 },
  ];
  for (const { tolerance, ...variant } of cases) {
    const r = analyseModel(model, info, sequences, options({ ...variant, parts: true, anisotropy: true }));
    assert.equal(r.tokens, reference.tokens);
    assert.ok(r.padTokens > 0, `${JSON.stringify(variant)} pads`);
    const diff = maxScoreDifference(reference, r);
    assert.ok(diff < tolerance, `${JSON.stringify(variant)}: scores differ by ${diff}`);
    r.states.forEach((s, i) => assert.ok(Math.abs(s.anisotropy! - reference.states[i].anisotropy!) < 1e-6, `anisotropy of state ${i}`));
  }
});

test('stories260K: last-pair modes (preFinalNorm, finalNorm, skip)', { skip }, async () => {
  const { model, sequences } = await load();
  const pre = analyseModel(model, info, sequences, options({ batchSize: 10 }));
  const skipped = analyseModel(model, info, sequences, options({ batchSize: 10, lastPair: 'skip' }));
  const normed = analyseModel(model, info, sequences, options({ batchSize: 10, lastPair: 'finalNorm' }));
  assert.equal(pre.pairs.length, 5);
  assert.equal(skipped.pairs.length, 4);
  assert.equal(normed.pairs.length, 5);
  assert.ok(normed.pairs[4].includesFinalNorm && !pre.pairs[4].includesFinalNorm);
  for (let i = 0; i < 4; i++) {
    assert.equal(skipped.pairs[i].layer.withResidual.exact, pre.pairs[i].layer.withResidual.exact);
    assert.equal(normed.pairs[i].layer.withResidual.exact, pre.pairs[i].layer.withResidual.exact);
  }
  assert.notEqual(normed.pairs[4].layer.withResidual.exact, pre.pairs[4].layer.withResidual.exact);
  assert.deepEqual(skipped.pairs.map((p) => p.depth), [0, 1 / 3, 2 / 3, 1]);
});

test('stories260K: per-token residuals of every token add up to 1 − score; the worst come decoded with context', { skip }, async () => {
  const { model, sequences, decode } = await load();
  const tokens = sequences.reduce((a, s) => a + s.length, 0);
  for (const perTokenVariant of ['withResidual', 'withoutResidual'] as const) {
    const r = analyseModel(model, info, sequences, options({ batchSize: 4, perToken: tokens, perTokenVariant }), { decode });
    r.worstTokens!.forEach((list, k) => {
      assert.equal(list.length, tokens);
      const sum = list.reduce((a, w) => a + w.residual, 0);
      const score = r.pairs[k].layer[perTokenVariant].exact;
      assert.ok(Math.abs(sum - (1 - score)) < 1e-9, `${perTokenVariant} pair ${k}: Σ residual ${sum} vs 1 − score ${1 - score}`);
      for (let i = 1; i < list.length; i++) assert.ok(list[i].residual <= list[i - 1].residual, 'worst first');
    });
  }
  const top = analyseModel(model, info, sequences, options({ batchSize: 4, perToken: 3 }), { decode });
  assert.equal(top.worstTokens!.length, 5);
  for (const list of top.worstTokens!) {
    assert.equal(list.length, 3);
    for (const w of list) {
      assert.equal(w.token, sequences[w.sequence][w.position]);
      assert.ok(w.context.includes(`⟦${w.text}⟧`), w.context);
      assert.ok(w.relative > 0);
    }
  }
});

test('stories260K: companion metrics have sane ranges', { skip }, async () => {
  const { model, sequences } = await load();
  const r = analyseModel(model, info, sequences, options({ batchSize: 5, anisotropy: true, intrinsicDim: true, idTokens: 300, logitLens: true }));
  assert.equal(r.states.length, 6);
  for (const s of r.states) {
    assert.ok(s.anisotropy! > 1 / 64 && s.anisotropy! < 1, `anisotropy ${s.anisotropy}`);
    assert.ok(s.meanCosine! > -1 && s.meanCosine! < 1);
    assert.equal(s.intrinsicDimension!.points, 300);
  }
  for (const s of r.states.slice(1)) assert.ok(s.intrinsicDimension!.dimension > 1 && s.intrinsicDimension!.dimension < 64, `ID ${s.intrinsicDimension!.dimension}`);
  const lens = r.logitLens!;
  assert.equal(lens.length, 6);
  assert.equal(lens[5].klToFinal, 0);
  assert.ok(lens[5].crossEntropy < lens[0].crossEntropy, 'the last layer predicts better than the embeddings');
  assert.ok(lens[5].top1Accuracy > 0.3, `final top-1 ${lens[5].top1Accuracy}`);
  assert.equal(lens[0].tokens, r.tokens - sequences.length, 'every token but the last of each sequence has a target');
});
