/**
 * The linearity analysis of one model over a probe set, layer-major (src/models/layer-major.ts):
 * embed every batch, then push all of them through block 0, then block 1, …, so a streamed
 * checkpoint is read once. While block i runs, the statistics of its pair states[i] → states[i+1]
 * (and its attention/MLP parts) are accumulated (src/analysis/linearity-pair.ts), solved when the
 * block is done and dropped: O(d²) float64 at a time, never O(L·d²). The residual stream of all
 * tokens is kept between blocks, in memory up to `--max-memory` and on disk above it. Companions
 * ride along: anisotropy and mean cosine from the same moments, intrinsic dimension on the first
 * tokens, the K worst-fitted tokens per pair (X and Y are both at hand when the pair is solved),
 * and the logit lens (it needs every state of a token together with the final one, so with it the
 * states are kept — spilled as needed — and scored at the end). The numbers equal a whole-model
 * forward per batch exactly: the same calls in the same order per batch, the same sums.
 */
import { anisotropyFromMoments, meanCosineFromMoments } from '../analysis/anisotropy.ts';
import { intrinsicDimension } from '../analysis/intrinsic-dimension.ts';
import type { LinearFit } from '../analysis/linear-fit.ts';
import { PairScratch, LinearityPairAccumulator, pairStatisticsBytes } from '../analysis/linearity-pair.ts';
import type { BlockLinearity } from '../analysis/linearity-profile.ts';
import type { StreamMoments } from '../analysis/moments.ts';
import type { PairLinearity } from '../analysis/linearity-solve.ts';
import { LogitLensAccumulator, nextTokenTargets } from '../analysis/logit-lens.ts';
import { makeBatches, type TokenBatch } from '../data/calibration.ts';
import type { DecoderConfig } from '../models/config.ts';
import { LayerMajorRun, residualStore, type LayerMajorModel } from '../models/layer-major.ts';
import type { ResidualStore } from '../models/residual-store.ts';
import { normalisedDepth } from '../report/chart-specs.ts';
import { stableHashOfRows } from '../report/cache.ts';
import { Tensor } from '../tensor/tensor.ts';
import { runSteps, runStepsYielding } from '../util/steps.ts';
import { batchRows, type BatchRows } from './batch-rows.ts';
import { FirstRows, WorstTokenKeeper } from './collectors.ts';
import type { AnalysisOptions } from './options.ts';
import type { ModelInfo, ModelLinearity, PairResult, PairScores, StateResult, Timings, WorstTokenRecord } from './result.ts';
import { tokenInContext, type Decode } from './token-context.ts';

/** What the analysis needs from a model (a `DecoderModel` has it all): embed, run one block, the final norm and head. */
export type AnalysableModel = LayerMajorModel & { readonly config: DecoderConfig };

export interface AnalyseHooks {
  /** Called after every batch: `pass` 1 = statistics, 2 = per-token residuals. */
  onBatch?: (pass: 1 | 2, done: number, total: number) => void;
  /** Turns ids into text for the per-token view (ids are shown without it). */
  decode?: Decode;
  /** Memory budget in bytes (`--max-memory`; default 80 % of the available memory) and where to spill. */
  maxMemory?: number;
  spillDir?: string;
  /** Called when a pair is solved (its statistics are dropped right after). */
  onPair?: (block: number, scores: BlockLinearity) => void;
  /** Called with the residual store's statistics when the analysis ends (benchmarks, tests). */
  onStore?: (stats: ResidualStore['stats'] & { budgetBytes: number }) => void;
}

/** The probe set's batches, padded one at a time when needed (the padded copy of the whole set never exists). */
interface LazyBatches {
  readonly length: number;
  at(i: number): TokenBatch;
}

/** Batch i holds sequences [i·B, (i + 1)·B), exactly as `makeBatches` cuts them (indices into `sequences`). */
function lazyBatches(sequences: number[][], options: AnalysisOptions): LazyBatches {
  const B = options.batchSize;
  return {
    length: Math.ceil(sequences.length / B),
    at(i) {
      const batch = makeBatches(sequences.slice(i * B, (i + 1) * B), { batchSize: B, padding: options.padding, padId: 0 })[0];
      return { ...batch, indices: batch.indices.map((j) => j + i * B) };
    },
  };
}

/** Progress steps of an analysis: one per batch per block, twice with the per-token view. */
export function progressSteps(sequences: number, layers: number, options: AnalysisOptions): number {
  return Math.ceil(sequences / options.batchSize) * pairCount(layers, options.lastPair) * (options.perToken > 0 ? 2 : 1);
}

/** Number of consecutive pairs the analysis scores for a model of `layers` blocks. */
export function pairCount(layers: number, lastPair: AnalysisOptions['lastPair']): number {
  return lastPair === 'skip' ? layers - 1 : layers;
}

/** Throws when `--parts` cannot be measured: the parts must add to the residual stream. */
export function checkPartsSupported(config: DecoderConfig): void {
  if (!config.normBeforeSublayer) {
    throw new Error(`--parts: ${config.modelType} normalises after each sublayer (post-LN), so attention and MLP outputs do not add to the residual stream`);
  }
  if (config.residualFromNorm) {
    throw new Error(`--parts: this ${config.modelType} model adds its sublayers to the normalised input (apply_residual_connection_post_layernorm), not to the residual stream`);
  }
}

function toScores(p: PairLinearity): PairScores {
  const v = (s: PairLinearity['withResidual']) => ({ exact: s.exact, robust: s.robust ?? Number.NaN, rank: s.rank });
  return { withResidual: v(p.withResidual), withoutResidual: v(p.withoutResidual) };
}

const now = () => performance.now() / 1000;

/** Runs the whole analysis of one model on `sequences`. */
export function analyseModel(model: AnalysableModel, info: ModelInfo, sequences: number[][], options: AnalysisOptions, hooks: AnalyseHooks = {}): ModelLinearity {
  return runSteps(analysisSteps(model, info, sequences, options, hooks));
}

/**
 * {@link analyseModel} that gives the event loop a turn after every batch (a setImmediate), so a
 * long analysis still hears Ctrl-C (src/util/interrupt.ts). Same numbers.
 */
export function analyseModelAsync(model: AnalysableModel, info: ModelInfo, sequences: number[][], options: AnalysisOptions, hooks: AnalyseHooks = {}): Promise<ModelLinearity> {
  return runStepsYielding(analysisSteps(model, info, sequences, options, hooks));
}

/** The analysis as a generator that pauses after every batch of every block. */
function* analysisSteps(model: AnalysableModel, info: ModelInfo, sequences: number[][], options: AnalysisOptions, hooks: AnalyseHooks): Generator<void, ModelLinearity, void> {
  const started = now();
  const cfg = model.config;
  const L = cfg.numLayers;
  const d = cfg.hiddenSize;
  const P = pairCount(L, options.lastPair);
  if (P < 1) throw new Error(`--last-pair skip leaves no pair to score: the model has ${L} block`);
  if (sequences.length === 0) throw new Error('the probe set is empty');
  if (options.parts) checkPartsSupported(cfg);
  const batches = lazyBatches(sequences, options);
  const nb = batches.length;
  const mlpInput = cfg.parallelResidual ? 'blockInput' : 'afterAttention';
  const firstRows = options.intrinsicDim ? Array.from({ length: P + 1 }, () => new FirstRows(options.idTokens, d)) : undefined;
  const timings: Timings = { forward: 0, statistics: 0, solve: 0, total: 0 };
  if (options.logitLens) timings.logitLens = 0;
  if (firstRows) timings.intrinsicDimension = 0;
  if (options.perToken > 0) timings.perToken = 0;

  const fixed = pairStatisticsBytes(d, options.parts, mlpInput) + (firstRows ? (P + 1) * options.idTokens * d * 4 : 0);
  const store = residualStore(model, { maxMemory: hooks.maxMemory, spillDir: hooks.spillDir }, fixed);
  const run = new LayerMajorRun(model, store);
  const finalNormed = options.lastPair === 'finalNorm';
  /** Y of pair `l` for batch `i` (the last one after the final norm in 'finalNorm' mode). */
  const target = (l: number, i: number) => (finalNormed && l === P - 1 ? model.finalNorm(run.state(l + 1, i)) : run.state(l + 1, i));

  try {
    const where: BatchRows[] = [];
    const targets: ReturnType<typeof nextTokenTargets>[] = [];
    let pads = 0;
    let t = now();
    run.hold(() => {
      for (let i = 0; i < nb; i++) {
        const batch = batches.at(i);
        run.embed(i, batch);
        where[i] = batchRows(batch);
        pads += where[i].pads;
        if (options.logitLens) targets[i] = nextTokenTargets(batch.ids.flat(), batch.ids[0].length, batch.attentionMask.flat());
      }
    });
    timings.forward += now() - t;
    yield;

    const blocks: BlockLinearity[] = [];
    const anisotropy: number[] = [];
    const meanCosine: number[] = [];
    const keepers = Array.from({ length: P }, () => new WorstTokenKeeper(options.perToken));
    let x: StreamMoments | undefined;
    let scratch: PairScratch | undefined;
    for (let l = 0; l < P; l++) {
      // the sums of unit vectors feed only the mean cosine, reported with the anisotropy
      const pair = new LinearityPairAccumulator({ dim: d, block: l, parts: options.parts, mlpInput, yGram: l < P - 1 || options.anisotropy, unitSum: options.anisotropy, x, scratch });
      scratch = pair.scratch;
      const release = run.open();
      try {
        for (let i = 0; i < nb; i++) {
          t = now();
          const { x: xs, out } = run.runBlock(l, i);
          const ys = finalNormed && l === P - 1 ? model.finalNorm(out.hidden) : out.hidden;
          timings.forward += now() - t;
          t = now();
          pair.add({ x: xs, y: ys, attnOut: out.attnOut, mlpOut: out.mlpOut, rows: where[i].rows });
          timings.statistics += now() - t;
          if (firstRows) {
            t = now();
            if (l === 0) firstRows[0].add(xs, where[i].rows);
            firstRows[l + 1].add(ys, where[i].rows);
            timings.intrinsicDimension! += now() - t;
          }
          hooks.onBatch?.(1, l * nb + i + 1, P * nb);
          yield;
        }
      } finally {
        release();
      }
      t = now();
      // X and Y of every batch are still held: with N ≤ d the block is solved on the token side
      const rows = function* () {
        for (let i = 0; i < nb; i++) yield { x: run.state(l, i), y: target(l, i), rows: where[i].rows };
      };
      const hold = run.open(); // the final norm, in 'finalNorm' mode
      let solved: ReturnType<LinearityPairAccumulator['result']>;
      try {
        solved = pair.result({ ridge: options.ridge, rcond: options.rcond }, { rows, anisotropy: options.anisotropy });
      } finally {
        hold();
      }
      timings.solve += now() - t;
      blocks.push(solved.block);
      hooks.onPair?.(l, solved.block);
      anisotropy[l] = solved.anisotropyX;
      meanCosine[l] = options.anisotropy ? meanCosineFromMoments(pair.x) : Number.NaN;
      if (options.perToken > 0) {
        t = now();
        yield* worstTokens(pair, l, run, target, where, keepers[l], options, (i) => hooks.onBatch?.(2, l * nb + i + 1, P * nb));
        timings.perToken! += now() - t;
      }
      x = pair.release();
      if (!options.logitLens) run.dropState(l);
    }
    anisotropy[P] = options.anisotropy && x!.gram ? anisotropyFromMoments(x!) : Number.NaN;
    meanCosine[P] = options.anisotropy ? meanCosineFromMoments(x!) : Number.NaN;

    const pairs: PairResult[] = blocks.map((b) => ({
      block: b.block,
      from: b.block,
      to: b.block + 1,
      depth: normalisedDepth(b.block, P),
      includesFinalNorm: options.lastPair === 'finalNorm' && b.block === P - 1,
      layer: toScores(b.layer),
      ...(b.attention ? { attention: toScores(b.attention) } : {}),
      ...(b.mlp ? { mlp: toScores(b.mlp) } : {}),
    }));

    const states: StateResult[] = Array.from({ length: P + 1 }, (_, s) => ({ state: s, depth: normalisedDepth(s, P + 1) }));
    if (options.anisotropy) {
      states.forEach((s, i) => {
        s.anisotropy = anisotropy[i];
        s.meanCosine = meanCosine[i];
      });
    }
    if (firstRows) {
      t = now();
      firstRows.forEach((collected, i) => {
        const n = collected.count;
        if (n < 3) return;
        const r = intrinsicDimension(new Tensor(collected.rows(), [n, d]));
        states[i].intrinsicDimension = { dimension: r.dimension, maximumLikelihood: r.maximumLikelihood, points: r.points, discarded: r.discarded };
      });
      timings.intrinsicDimension! += now() - t;
    }

    const result: ModelLinearity = {
      model: info,
      tokens: blocks.length ? x!.count : 0,
      sequences: sequences.length,
      padTokens: pads,
      batches: nb,
      pairs,
      states,
      sequencesHash: stableHashOfRows(sequences),
      timings,
      computedAt: new Date().toISOString(),
      cached: false,
    };
    if (options.logitLens) {
      t = now();
      result.logitLens = yield* logitLens(model, run, P, where, targets);
      timings.logitLens! += now() - t;
    }
    if (options.perToken > 0) result.worstTokens = keepers.map((k) => shownTokens(k, sequences, hooks.decode));
    timings.total = now() - started;
    hooks.onStore?.({ ...store.stats, budgetBytes: store.budgetBytes });
    return result;
  } finally {
    run.close();
  }
}

/** The K tokens pair `l`'s fitted map misses most: X and Y of every batch are still at hand. */
function* worstTokens(
  pair: LinearityPairAccumulator,
  l: number,
  run: LayerMajorRun,
  target: (l: number, i: number) => Tensor,
  where: BatchRows[],
  keeper: WorstTokenKeeper,
  options: AnalysisOptions,
  onBatch: (i: number) => void,
): Generator<void, void, void> {
  let fit: LinearFit;
  try {
    fit = pair.fit('layer', { variant: options.perTokenVariant, solver: 'exact', rcond: options.rcond });
  } catch {
    return; // a degenerate pair (zero variance): no map to miss with
  }
  const hold = run.open(); // the final norm, in 'finalNorm' mode
  try {
    for (let i = 0; i < where.length; i++) {
      const r = pair.residuals(fit, { x: run.state(l, i), y: target(l, i), rows: where[i].rows });
      keeper.offer(r.residual, r.targetEnergy, where[i]);
      onBatch(i);
      yield;
    }
  } finally {
    hold();
  }
}

/** The logit lens over every kept state (the blocks' outputs before the final norm), batch by batch. */
function* logitLens(model: AnalysableModel, run: LayerMajorRun, P: number, where: BatchRows[], targets: ReturnType<typeof nextTokenTargets>[]): Generator<void, ReturnType<LogitLensAccumulator['result']>, void> {
  const L = model.config.numLayers;
  // in 'skip' mode the last block has not run yet
  if (P < L) run.hold(() => where.forEach((_, i) => run.runBlock(L - 1, i)));
  const lens = new LogitLensAccumulator(L + 1, { finalNorm: (h) => model.finalNorm(h), unembed: (h) => model.lmHead(h), vocabSize: model.config.vocabSize });
  const hold = run.open();
  try {
    for (let i = 0; i < where.length; i++) {
      lens.add(Array.from({ length: L + 1 }, (_, k) => run.state(k, i)), targets[i], where[i].rows);
      yield;
    }
  } finally {
    hold();
  }
  return lens.result();
}

/** A keeper's tokens with their text and context. */
function shownTokens(keeper: WorstTokenKeeper, sequences: number[][], decode: Decode | undefined): WorstTokenRecord[] {
  return keeper.result().map((m) => {
    const ids = sequences[m.sequence];
    const shown = tokenInContext(ids, m.position, decode);
    return { sequence: m.sequence, position: m.position, token: ids[m.position], text: shown.text, context: shown.context, residual: m.residual, relative: m.relative };
  });
}
