/**
 * Layer-major linearity (src/linearity/analyse.ts) against the whole-model path it replaced: a
 * full `forward` per batch fed to the all-pairs `LinearityProfileAccumulator` (written out here,
 * independently of the layer-major code). On every fixture the scores, anisotropy, mean cosine,
 * per-token residuals and logit lens must agree — in memory, streamed, and with the residual
 * stream spilled to disk by a tiny budget; a streamed checkpoint must be read once; and only one
 * pair's statistics may be alive at a time.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { residualStates } from '../../src/analysis/hidden-states.ts';
import { livePairStatistics, pairStatisticsBytes } from '../../src/analysis/linearity-pair.ts';
import { LinearityProfileAccumulator } from '../../src/analysis/linearity-profile.ts';
import { LogitLensAccumulator, nextTokenTargets } from '../../src/analysis/logit-lens.ts';
import { makeBatches } from '../../src/data/calibration.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { analyseModel } from '../../src/linearity/analyse.ts';
import { batchRows } from '../../src/linearity/batch-rows.ts';
import { WorstTokenKeeper } from '../../src/linearity/collectors.ts';
import { randomTokenIds } from '../../src/linearity/data.ts';
import { DEFAULT_ANALYSIS, type AnalysisOptions } from '../../src/linearity/options.ts';
import type { ModelInfo, ModelLinearity } from '../../src/linearity/result.ts';
import { createModel, type DecoderModel } from '../../src/models/decoder.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';
import { countingSource } from '../helpers/counting-source.ts';

const skip = skipUnless(join(fixturesDir, 'gpt2'));

/** 7 sequences of different lengths (so batches are padded). */
function sequences(vocab: number): number[][] {
  return randomTokenIds(7, 24, vocab, 3).map((s, i) => s.slice(0, 24 - 3 * (i % 3)));
}

const info = (m: DecoderModel): ModelInfo => ({
  spec: 'x', label: 'x', modelType: m.config.modelType, layers: m.numLayers, hiddenSize: m.config.hiddenSize,
  vocabSize: m.config.vocabSize, parallelResidual: m.config.parallelResidual, identity: null,
});

interface Reference {
  pairs: { exact: number; without: number; robust: number; attn?: number; mlp?: number }[];
  anisotropy: number[];
  meanCosine: number[];
  worst: number[][];
  lens?: { crossEntropy: number; klToFinal: number }[];
}

/** The whole-model path: one forward per batch, every state into the all-pairs profile. */
function reference(model: DecoderModel, seqs: number[][], o: AnalysisOptions): Reference {
  const batches = makeBatches(seqs, { batchSize: o.batchSize, padding: o.padding, padId: 0 });
  const L = model.numLayers;
  const P = o.lastPair === 'skip' ? L - 1 : L;
  const profile = new LinearityProfileAccumulator({ dim: model.config.hiddenSize, blocks: P, parts: o.parts, mlpInput: model.config.parallelResidual ? 'blockInput' : 'afterAttention', anisotropy: o.anisotropy });
  const lens = o.logitLens ? new LogitLensAccumulator(L + 1, { finalNorm: (h) => model.finalNorm(h), unembed: (h) => model.lmHead(h) }) : undefined;
  const forwards = batches.map((b) => model.forward(b.ids, { attentionMask: b.attentionMask, outputHiddenStates: true, outputBlockParts: o.parts }));
  batches.forEach((b, i) => {
    const out = forwards[i];
    const rows = batchRows(b).rows;
    profile.add({ states: residualStates(out, o.lastPair), attnOutputs: out.attnOutputs?.slice(0, P), mlpOutputs: out.mlpOutputs?.slice(0, P), rows });
    lens?.add([...out.hiddenStates!.slice(0, -1), out.preFinalNorm!], nextTokenTargets(b.ids.flat(), b.ids[0].length, b.attentionMask.flat()), rows);
  });
  const r = profile.result({ ridge: o.ridge, rcond: o.rcond });
  const worst = r.blocks.map((_, p) => {
    const fit = profile.fit(p, 'layer', { variant: o.perTokenVariant, solver: 'exact', rcond: o.rcond });
    const keeper = new WorstTokenKeeper(o.perToken);
    batches.forEach((b, i) => {
      const where = batchRows(b);
      const res = profile.residuals(fit, { states: residualStates(forwards[i], o.lastPair), rows: where.rows }, p, 'layer');
      keeper.offer(res.residual, res.targetEnergy, where);
    });
    return keeper.result().map((m) => m.residual);
  });
  return {
    pairs: r.blocks.map((b) => ({ exact: b.layer.withResidual.exact, without: b.layer.withoutResidual.exact, robust: b.layer.withResidual.robust!, attn: b.attention?.withResidual.exact, mlp: b.mlp?.withResidual.exact })),
    anisotropy: r.anisotropy,
    meanCosine: r.meanCosine,
    worst,
    lens: lens?.result(),
  };
}

function assertSame(got: ModelLinearity, want: Reference, what: string, o: AnalysisOptions): void {
  const close = (a: number | undefined, b: number | undefined, where: string) => {
    if (a === undefined || b === undefined) return assert.equal(a, b, where);
    if (Number.isNaN(a) && Number.isNaN(b)) return;
    assert.ok(Math.abs(a - b) <= 1e-12, `${what} ${where}: ${a} vs ${b}`);
  };
  assert.equal(got.pairs.length, want.pairs.length, what);
  got.pairs.forEach((p, i) => {
    close(p.layer.withResidual.exact, want.pairs[i].exact, `pair ${i}`);
    close(p.layer.withoutResidual.exact, want.pairs[i].without, `pair ${i} without residual`);
    close(p.layer.withResidual.robust, want.pairs[i].robust, `pair ${i} robust`);
    close(p.attention?.withResidual.exact, want.pairs[i].attn, `pair ${i} attention`);
    close(p.mlp?.withResidual.exact, want.pairs[i].mlp, `pair ${i} mlp`);
  });
  if (o.anisotropy) {
    got.states.forEach((s, i) => {
      close(s.anisotropy, want.anisotropy[i], `state ${i} anisotropy`);
      close(s.meanCosine, want.meanCosine[i], `state ${i} mean cosine`);
    });
  }
  if (o.perToken > 0) got.worstTokens!.forEach((list, p) => list.forEach((w, k) => close(w.residual, want.worst[p][k], `pair ${p} worst token ${k}`)));
  if (o.logitLens) got.logitLens!.forEach((l, k) => {
    close(l.crossEntropy, want.lens![k].crossEntropy, `lens ${k} cross-entropy`);
    close(l.klToFinal, want.lens![k].klToFinal, `lens ${k} KL`);
  });
}

const full: AnalysisOptions = { ...DEFAULT_ANALYSIS, batchSize: 3, parts: true, anisotropy: true, perToken: 3 };

test('every fixture: layer-major equals the whole-model path, in memory, streamed and spilled', { skip }, async () => {
  for (const arch of fixtureArchs) {
    const source = await openModelSource(join(fixturesDir, arch));
    const inMemory = createModel(source);
    const seqs = sequences(inMemory.config.vocabSize);
    const want = reference(inMemory, seqs, full);
    assertSame(analyseModel(inMemory, info(inMemory), seqs, full), want, `${arch} in memory`, full);
    const streamed = createModel(source, { streaming: true });
    let spilled = 0;
    const r = analyseModel(streamed, info(streamed), seqs, full, { maxMemory: 1, onStore: (s) => (spilled = s.spilledBytes) });
    assertSame(r, want, `${arch} streamed and spilled`, full);
    assert.ok(spilled > 0, `${arch}: a 1-byte budget spills the residual stream`);
  }
});

test('last-pair modes and the logit lens match too (llama fixture, with padding on the left)', { skip }, async () => {
  const source = await openModelSource(join(fixturesDir, 'llama'));
  const model = createModel(source);
  const seqs = sequences(model.config.vocabSize);
  for (const lastPair of ['finalNorm', 'skip'] as const) {
    const o: AnalysisOptions = { ...full, lastPair, padding: 'left', logitLens: true };
    assertSame(analyseModel(createModel(source, { streaming: true }), info(model), seqs, o, { maxMemory: 1 }), reference(model, seqs, o), `llama ${lastPair}`, o);
  }
});

test('a streamed checkpoint is read once, and one pair of statistics lives at a time', { skip }, async () => {
  const source = await openModelSource(join(fixturesDir, 'mistral'));
  const { source: counting, reads } = countingSource(source);
  const model = createModel(counting, { streaming: true });
  const o: AnalysisOptions = { ...DEFAULT_ANALYSIS, batchSize: 2, parts: true };
  livePairStatistics.reset();
  const before = livePairStatistics.bytes;
  analyseModel(model, info(model), sequences(model.config.vocabSize), o);
  assert.ok(reads.size > 0);
  for (const [name, n] of reads) assert.equal(n, 1, `${name} read ${n} times`);
  assert.ok(!reads.has('lm_head.weight'), 'the head is not needed without the logit lens');
  assert.equal(livePairStatistics.bytes, before, 'every pair was dropped');
  assert.equal(livePairStatistics.peak - before, pairStatisticsBytes(model.config.hiddenSize, true), 'peak = one pair, not one per block');
});

test('N ≤ 0.85·d: the block is solved on the token side from the held (spilled) rows, with the same scores', { skip }, async () => {
  const source = await openModelSource(join(fixturesDir, 'llama'));
  const model = createModel(source);
  const seqs = randomTokenIds(3, 16, model.config.vocabSize, 5).map((s, i) => s.slice(0, 16 - 3 * i)); // 39 tokens, d = 64
  const o: AnalysisOptions = { ...DEFAULT_ANALYSIS, batchSize: 2, lastPair: 'finalNorm', anisotropy: true, padding: 'left' };
  const want = reference(model, seqs, o); // the profile: the d × d eigendecomposition (Xc has rank < d)
  const got = analyseModel(createModel(source, { streaming: true }), info(model), seqs, o, { maxMemory: 1 });
  assert.equal(got.tokens, 39);
  got.pairs.forEach((p, i) => {
    for (const [a, b, what] of [
      [p.layer.withResidual.exact, want.pairs[i].exact, 'exact'],
      [p.layer.withoutResidual.exact, want.pairs[i].without, 'without residual'],
      [p.layer.withResidual.robust, want.pairs[i].robust, 'robust'],
      [got.states[i].anisotropy, want.anisotropy[i], 'anisotropy'],
    ] as const) assert.ok(Math.abs(a! - b!) <= 1e-10, `pair ${i} ${what}: ${a} vs ${b}`);
  });
});
