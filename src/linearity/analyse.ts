/**
 * The linearity analysis of one model over a probe set: batch the sequences, run forwards with
 * hidden states, stream every consecutive pair of residual-stream states into the O(d²) profile
 * accumulator (pad rows excluded), then solve. Optional companions ride along the same pass
 * (anisotropy, mean cosine, intrinsic dimension on the first tokens, logit lens); the per-token
 * view needs the fitted maps, so it reruns the forwards once more. No forward is kept after its
 * batch has been added.
 */
import { residualStates } from '../analysis/hidden-states.ts';
import { intrinsicDimension } from '../analysis/intrinsic-dimension.ts';
import type { LinearFit } from '../analysis/linear-fit.ts';
import { LinearityProfileAccumulator } from '../analysis/linearity-profile.ts';
import type { PairLinearity } from '../analysis/linearity-solve.ts';
import { LogitLensAccumulator, nextTokenTargets } from '../analysis/logit-lens.ts';
import { makeBatches, type TokenBatch } from '../data/calibration.ts';
import type { DecoderConfig } from '../models/config.ts';
import type { ForwardOptions, ForwardResult } from '../models/decoder.ts';
import { normalisedDepth } from '../report/chart-specs.ts';
import { stableHashOfRows } from '../report/cache.ts';
import { Tensor } from '../tensor/tensor.ts';
import { runSteps, runStepsYielding } from '../util/steps.ts';
import { batchRows, type BatchRows } from './batch-rows.ts';
import { FirstRows, WorstTokenKeeper } from './collectors.ts';
import type { AnalysisOptions } from './options.ts';
import type { ModelInfo, ModelLinearity, PairResult, PairScores, StateResult, Timings, WorstTokenRecord } from './result.ts';
import { tokenInContext, type Decode } from './token-context.ts';

/** What the analysis needs from a model (a `DecoderModel` has it all). */
export interface AnalysableModel {
  readonly config: DecoderConfig;
  forward(ids: readonly (readonly number[])[], options?: ForwardOptions): ForwardResult;
  finalNorm(h: Tensor): Tensor;
  lmHead(h: Tensor): Tensor;
}

export interface AnalyseHooks {
  /** Called after every batch: `pass` 1 = statistics, 2 = per-token residuals. */
  onBatch?: (pass: 1 | 2, done: number, total: number) => void;
  /** Turns ids into text for the per-token view (ids are shown without it). */
  decode?: Decode;
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

/** The analysis as a generator that pauses after every batch of either pass. */
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
  const forwardOptions = (batch: TokenBatch): ForwardOptions => ({
    attentionMask: batch.attentionMask,
    outputHiddenStates: true,
    outputBlockParts: options.parts,
    lastTokenLogitsOnly: true,
  });

  const profile = new LinearityProfileAccumulator({
    dim: d,
    blocks: P,
    parts: options.parts,
    mlpInput: cfg.parallelResidual ? 'blockInput' : 'afterAttention',
    anisotropy: options.anisotropy,
  });
  const lens = options.logitLens
    ? new LogitLensAccumulator(L + 1, { finalNorm: (h) => model.finalNorm(h), unembed: (h) => model.lmHead(h) })
    : undefined;
  const firstRows = options.intrinsicDim ? Array.from({ length: P + 1 }, () => new FirstRows(options.idTokens, d)) : undefined;
  const timings: Timings = { forward: 0, statistics: 0, solve: 0, total: 0 };
  if (lens) timings.logitLens = 0;
  if (firstRows) timings.intrinsicDimension = 0;

  let pads = 0;
  for (let i = 0; i < batches.length; i++) {
    const batch = batches.at(i);
    let t = now();
    const out = model.forward(batch.ids, forwardOptions(batch));
    timings.forward += now() - t;
    const where = batchRows(batch);
    pads += where.pads;
    const states = residualStates(out, options.lastPair);
    t = now();
    profile.add({
      states,
      attnOutputs: options.parts ? out.attnOutputs!.slice(0, P) : undefined,
      mlpOutputs: options.parts ? out.mlpOutputs!.slice(0, P) : undefined,
      rows: where.rows,
    });
    timings.statistics += now() - t;
    if (firstRows && !firstRows[0].full) {
      t = now();
      states.forEach((s, k) => firstRows[k].add(s, where.rows));
      timings.intrinsicDimension! += now() - t;
    }
    if (lens) {
      t = now();
      const T = batch.ids[0].length;
      const targets = nextTokenTargets(batch.ids.flat(), T, batch.attentionMask.flat());
      lens.add([...out.hiddenStates!.slice(0, -1), out.preFinalNorm!], targets, where.rows);
      timings.logitLens! += now() - t;
    }
    hooks.onBatch?.(1, i + 1, batches.length);
    yield;
  }

  let t = now();
  const profileResult = profile.result({ ridge: options.ridge, rcond: options.rcond });
  timings.solve = now() - t;

  const pairs: PairResult[] = profileResult.blocks.map((b) => ({
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
      s.anisotropy = profileResult.anisotropy[i];
      s.meanCosine = profileResult.meanCosine[i];
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
    tokens: profileResult.tokens,
    sequences: sequences.length,
    padTokens: pads,
    batches: batches.length,
    pairs,
    states,
    sequencesHash: stableHashOfRows(sequences),
    timings,
    computedAt: new Date().toISOString(),
    cached: false,
  };
  if (lens) result.logitLens = lens.result();

  if (options.perToken > 0) {
    t = now();
    result.worstTokens = yield* worstTokensPass(model, profile, batches, sequences, options, hooks);
    timings.perToken = now() - t;
  }
  timings.total = now() - started;
  return result;
}

/** Second pass: the K tokens each pair's fitted map misses most, with their context. */
function* worstTokensPass(
  model: AnalysableModel,
  profile: LinearityProfileAccumulator,
  batches: LazyBatches,
  sequences: number[][],
  options: AnalysisOptions,
  hooks: AnalyseHooks,
): Generator<void, WorstTokenRecord[][], void> {
  const P = profile.blocks;
  const fits: (LinearFit | undefined)[] = Array.from({ length: P }, (_, p) => {
    try {
      return profile.fit(p, 'layer', { variant: options.perTokenVariant, solver: 'exact', rcond: options.rcond });
    } catch {
      return undefined; // a degenerate pair (zero variance): no map to miss with
    }
  });
  const keepers = fits.map(() => new WorstTokenKeeper(options.perToken));
  for (let i = 0; i < batches.length; i++) {
    const batch = batches.at(i);
    const out = model.forward(batch.ids, { attentionMask: batch.attentionMask, outputHiddenStates: true, lastTokenLogitsOnly: true });
    const states = residualStates(out, options.lastPair);
    const where: BatchRows = batchRows(batch);
    fits.forEach((fit, p) => {
      if (!fit) return;
      const r = profile.residuals(fit, { states, rows: where.rows }, p, 'layer');
      keepers[p].offer(r.residual, r.targetEnergy, where);
    });
    hooks.onBatch?.(2, i + 1, batches.length);
    yield;
  }
  return keepers.map((keeper) =>
    keeper.result().map((m) => {
      const ids = sequences[m.sequence];
      const shown = tokenInContext(ids, m.position, hooks.decode);
      return { sequence: m.sequence, position: m.position, token: ids[m.position], text: shown.text, context: shown.context, residual: m.residual, relative: m.relative };
    }),
  );
}
