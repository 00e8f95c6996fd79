/**
 * A whole pretraining run: data (split, tokenizer, token streams), model, AdamW with warm-up +
 * cosine schedule, the training loop with validation loss every N steps, a linearity profile every
 * M steps, checkpoints every K steps, and at the end the model as an HF folder plus a report.
 *
 * Output folder:
 *   pretrain-config.json   the resolved config (a resume must use the same one)
 *   run.json               seeds, parameter count, backend, timings
 *   tokenizer/             tokenizer.json + tokenizer_config.json
 *   data/                  train.bin / validation.bin token streams, corpus.json, inputs.json (the sources' content
 *                          fingerprints: a resume refuses when they changed)
 *   checkpoints/           step-NNNNNN/ (HF model + optimizer.safetensors + trainer-state.json), latest.json
 *   metrics.jsonl          train / eval / linearity records
 *   model/                 the final model (HF folder of the config's architecture, model.arch)
 *   loss.svg, report.html  loss curves, linearity profile
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { cosineWithWarmup, isNotMatrix } from '../autograd/index.ts';
import { backend } from '../backend/index.ts';
import { createProgress } from '../report/progress.ts';
import { InterruptedError, interruptRequested, yieldToSignals } from '../util/interrupt.ts';
import { loadHFTokenizer, type HFTokenizer } from '../io/tokenizer.ts';
import { stableHash } from '../report/cache.ts';
import { Rng } from '../tensor/random.ts';
import { trainByteLevelBpe, writeTokenizerFiles } from '../tokenizer-train/train.ts';
import { CheckpointableAdamW } from '../autograd/optim/adam.ts';
import { validationBatches, WindowSampler } from './batches.ts';
import { loadCheckpoint, resumeCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.ts';
import { checkSourcesUnchanged, saveSourceFingerprints, sourceFingerprints } from './data-fingerprint.ts';
import { loadCorpus, saveCorpus, splitSources, tokenizeSplit, type TokenCorpus } from './corpus.ts';
import { saveHFModel, TOKENIZER_FILES } from './hf-folder.ts';
import { hfConfig, type ModelShape } from './model-shape.ts';
import { TrainableModel } from './trainable-model.ts';
import { measureLinearity, type LinearitySummary } from './linearity-probe.ts';
import { MetricsLog } from './metrics-log.ts';
import type { PretrainConfig } from './pretrain-config.ts';
import { writeRunReport } from './run-report.ts';
import { defaultPretrainSources, type NamedSource } from './shipped-data.ts';
import { evaluateLoss, trainStep, type EvalResult } from './train-step.ts';

export interface PretrainOptions {
  outDir: string;
  /** Continue from the newest checkpoint in outDir (the config must be the one it started with). */
  resume?: boolean;
  /** Data sources instead of the config's (or the shipped texts). */
  sources?: NamedSource[];
  /** Stop after this many steps in this invocation (a checkpoint is written there); for tests and time budgets. */
  stopAfterSteps?: number;
  /** Stop (with a checkpoint) once this many seconds of training have passed in this invocation. */
  timeBudgetSeconds?: number;
  quiet?: boolean;
  /** Where progress lines go (default stderr through the progress reporter). */
  log?: (line: string) => void;
  /** Label for progress and reports (default the regulariser). */
  label?: string;
  /** Skip the HTML report and loss chart (tests). */
  noReport?: boolean;
}

export interface PretrainResult {
  outDir: string;
  modelDir: string;
  steps: number;
  /** True when the run reached config.steps (false when stopped early). */
  finished: boolean;
  parameters: number;
  finalEval: EvalResult;
  linearity?: LinearitySummary;
  tokensPerSecond: number;
  trainSeconds: number;
  wallSeconds: number;
}

/** The config part that defines the run (a resume must match it exactly). */
function configHash(config: PretrainConfig): string {
  return stableHash(config);
}

async function prepareData(config: PretrainConfig, o: PretrainOptions, say: (s: string) => void): Promise<{ corpus: TokenCorpus; tokenizer: HFTokenizer; tokenizerDir: string }> {
  const tokenizerDir = join(o.outDir, 'tokenizer');
  const dataDir = join(o.outDir, 'data');
  const sources = o.sources ?? config.data.sources ?? defaultPretrainSources();
  // the streams are reused only when built from the same sources, split and tokenizer settings
  const inputs = sourceFingerprints(sources);
  const key = stableHash({ sources, inputs, validationFraction: config.data.validationFraction, tokenizer: config.tokenizer, seqLen: config.seqLen });
  let corpus = loadCorpus(dataDir);
  if (o.resume && corpus) checkSourcesUnchanged(dataDir, inputs);
  if (!corpus || corpus.key !== key || !existsSync(join(tokenizerDir, 'tokenizer.json'))) {
    say(`data: reading ${sources.map((s) => s.name).join(', ')}`);
    const split = await splitSources(sources, config.data.validationFraction);
    if (config.tokenizer.path) {
      mkdirSync(tokenizerDir, { recursive: true });
      for (const f of TOKENIZER_FILES) if (existsSync(join(config.tokenizer.path, f))) cpSync(join(config.tokenizer.path, f), join(tokenizerDir, f));
      if (!existsSync(join(tokenizerDir, 'tokenizer.json'))) throw new Error(`tokenizer.path ${config.tokenizer.path} has no tokenizer.json`);
    } else {
      const t0 = performance.now();
      const trained = trainByteLevelBpe(split.flatMap((s) => s.train), { vocabSize: config.tokenizer.vocabSize, minFrequency: config.tokenizer.minFrequency, modelMaxLength: config.seqLen });
      writeTokenizerFiles(tokenizerDir, trained);
      say(`tokenizer: byte-level BPE, ${trained.stats.merges} merges over ${trained.stats.distinctPieces} distinct pieces (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    const tok = loadHFTokenizer(tokenizerDir)!;
    const eos = tok.eosId;
    if (eos === undefined) throw new Error(`${tokenizerDir}: the tokenizer has no EOS token to separate documents`);
    const t0 = performance.now();
    corpus = { ...tokenizeSplit(split, tok, eos), key };
    saveCorpus(dataDir, corpus);
    saveSourceFingerprints(dataDir, inputs);
    say(`data: ${corpus.train.length.toLocaleString('en-US')} training and ${corpus.validation.length.toLocaleString('en-US')} validation tokens (${((performance.now() - t0) / 1000).toFixed(1)} s to tokenise)`);
  }
  return { corpus, tokenizer: loadHFTokenizer(tokenizerDir)!, tokenizerDir };
}

/** The model shape: config sizes, vocabulary from the tokenizer, context from seqLen. */
export function modelShape(config: PretrainConfig, tokenizer: { vocabSize: number; bosId?: number; eosId?: number }): ModelShape {
  const vocabSize = config.model.vocabSize ?? tokenizer.vocabSize;
  if (vocabSize < tokenizer.vocabSize) throw new Error(`model.vocabSize ${vocabSize} is smaller than the tokenizer's ${tokenizer.vocabSize} tokens`);
  return {
    ...config.model,
    vocabSize,
    maxPositions: config.model.maxPositions ?? config.seqLen,
    bosTokenId: tokenizer.bosId,
    eosTokenId: tokenizer.eosId,
  };
}

export async function runPretraining(config: PretrainConfig, o: PretrainOptions): Promise<PretrainResult> {
  const wall0 = performance.now();
  const label = o.label ?? `pretrain (${config.regularizer.kind === 'none' ? 'no regulariser' : `${config.regularizer.kind} λ=${config.regularizer.lambda}`})`;
  const progressLines: string[] = [];
  const say = (s: string) => {
    progressLines.push(s);
    if (o.log) o.log(s);
    else if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  mkdirSync(o.outDir, { recursive: true });
  const configPath = join(o.outDir, 'pretrain-config.json');
  const hash = configHash(config);
  const ckptRoot = join(o.outDir, 'checkpoints');
  const resumePoint = o.resume ? resumeCheckpoint(ckptRoot) : undefined;
  for (const note of resumePoint?.notes ?? []) say(note);
  const resumeFrom = resumePoint?.dir;
  if (o.resume && existsSync(configPath)) {
    const saved = JSON.parse(readFileSync(configPath, 'utf8')) as PretrainConfig;
    if (configHash(saved) !== hash) throw new Error(`${o.outDir}: --resume with a config different from the one this run started with (${configPath})`);
  }
  if (!resumeFrom && existsSync(join(ckptRoot, 'latest.json')) && !o.resume) {
    throw new Error(`${o.outDir} already holds checkpoints of a run; pass --resume to continue it or choose another --out`);
  }
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);

  const { corpus, tokenizer, tokenizerDir } = await prepareData(config, o, say);
  let model: TrainableModel;
  let state: TrainerState;
  let restore: ((opt: CheckpointableAdamW) => void) | undefined;
  if (resumeFrom) {
    const ck = await loadCheckpoint(resumeFrom);
    if (ck.state.configHash !== hash) throw new Error(`${resumeFrom}: checkpoint was written under a different config`);
    model = ck.model;
    state = ck.state;
    restore = ck.restoreOptimizer;
    say(`resuming from ${resumeFrom} (step ${state.step})`);
  } else {
    model = TrainableModel.initialize(hfConfig(modelShape(config, tokenizer)), new Rng(config.seed));
    state = { step: 0, samplesSeen: 0, tokensSeen: 0, seed: config.seed, elapsedSeconds: 0, configHash: hash };
  }
  const opt = new CheckpointableAdamW(model.params.values(), {
    lr: config.optimizer.lr, betas: config.optimizer.betas, eps: config.optimizer.eps, weightDecay: config.optimizer.weightDecay, noDecay: isNotMatrix,
  });
  restore?.(opt);
  const schedule = cosineWithWarmup({ baseLr: config.optimizer.lr, warmupSteps: config.optimizer.warmupSteps, totalSteps: config.steps, minLr: config.optimizer.minLr });
  const sampler = new WindowSampler(corpus.train, config.seqLen, config.seed);
  const valBatches = validationBatches(corpus.validation, config.seqLen, config.batchSize, config.eval.batches);
  const linBatches = valBatches.slice(0, config.linearity.batches);
  const metrics = new MetricsLog(join(o.outDir, 'metrics.jsonl'), resumeFrom ? state.step : undefined);
  const tokensPerStep = config.batchSize * config.seqLen;
  const runInfo = {
    seed: config.seed, initSeed: config.seed, dataSeed: config.seed,
    parameters: model.parameterCount, tokensPerStep,
    trainTokens: corpus.train.length, validationTokens: corpus.validation.length,
    epochsAtEnd: (config.steps * config.batchSize) / sampler.windows,
    backend: backend().name, threads: backend().threads(), node: process.version,
  };
  writeFileSync(join(o.outDir, 'run.json'), `${JSON.stringify({ ...runInfo, startedAt: new Date().toISOString(), resumedFrom: state.step || undefined }, null, 2)}\n`);
  say(`${label}: ${model.parameterCount.toLocaleString('en-US')} parameters, ${config.steps} steps × ${tokensPerStep} tokens (${runInfo.epochsAtEnd.toFixed(2)} epochs), seed ${config.seed}`);

  let lastEvalStep = -1;
  const evaluate = (record = true) => {
    const e = evaluateLoss(model, valBatches);
    lastEvalStep = state.step;
    if (record) metrics.write({ type: 'eval', step: state.step, valLoss: e.loss, valPerplexity: e.perplexity, valCosinePenalty: e.cosinePenalty, tokens: e.tokens });
    return e;
  };
  const linearity = () => {
    const l = measureLinearity(linBatches, (b) => ({ states: model.evaluate(b.inputs, b.batch, b.seqLen).states.map((s) => s.value) }));
    metrics.write({ type: 'linearity', step: state.step, ...l });
    return l;
  };
  let savedStep = -1;
  const checkpoint = () => {
    savedStep = state.step;
    return saveCheckpoint(ckptRoot, model, opt, state, tokenizerDir, config.checkpoint.keep);
  };

  let lastEval: EvalResult | undefined;
  let lastLinearity: LinearitySummary | undefined;
  if (state.step === 0 && config.eval.every > 0) lastEval = evaluate();
  if (state.step === 0 && config.linearity.every > 0) lastLinearity = linearity();

  const remaining = config.steps - state.step;
  const limit = Math.min(remaining, o.stopAfterSteps ?? Infinity);
  const progress = createProgress({ label, total: limit * tokensPerStep, unit: 'tok', quiet: o.quiet || o.log !== undefined });
  let trainSeconds = 0;
  let cpuSeconds = 0;
  const startStep = state.step;
  let smoothed: number | undefined;
  while (state.step < config.steps && state.step - startStep < limit) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const batch = sampler.batchForStep(state.step, config.batchSize);
    const r = trainStep(model, opt, batch, { regularizer: config.regularizer, lr: schedule(state.step), gradClip: config.optimizer.gradClip });
    const dt = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    cpuSeconds += (cpu.user + cpu.system) / 1e6;
    trainSeconds += dt;
    state.step++;
    state.samplesSeen += config.batchSize;
    state.tokensSeen += tokensPerStep;
    state.elapsedSeconds += dt;
    if (!Number.isFinite(r.loss)) throw new Error(`training diverged at step ${state.step}: loss ${r.loss} (try a lower optimizer.lr or a gradClip)`);
    smoothed = smoothed === undefined ? r.loss : 0.9 * smoothed + 0.1 * r.loss;
    metrics.write({ type: 'train', step: state.step, ...r, tokens: state.tokensSeen, tokensPerSecond: tokensPerStep / dt, elapsedSeconds: state.elapsedSeconds });
    progress.tick(tokensPerStep);
    if (state.step % config.logEvery === 0) {
      say(`step ${state.step}/${config.steps}  loss ${r.loss.toFixed(4)} (ce ${r.ce.toFixed(4)}${config.regularizer.kind !== 'none' ? `, R ${r.reg.toFixed(4)}` : ''})  lr ${r.lr.toExponential(2)}  |g| ${r.gradNorm.toFixed(3)}  ${Math.round((state.step - startStep) * tokensPerStep / trainSeconds)} tok/s`);
    }
    const done = state.step === config.steps;
    if (config.eval.every > 0 && (state.step % config.eval.every === 0 || done)) {
      lastEval = evaluate();
      say(`eval step ${state.step}: validation loss ${lastEval.loss.toFixed(4)} (ppl ${lastEval.perplexity.toFixed(2)}), cosine penalty ${lastEval.cosinePenalty.toFixed(4)}`);
    }
    if (config.linearity.every > 0 && (state.step % config.linearity.every === 0 || done)) {
      lastLinearity = linearity();
      say(`linearity step ${state.step}: mean ${lastLinearity.meanWithResidual.toFixed(4)} with residual, ${lastLinearity.meanWithoutResidual.toFixed(4)} without`);
    }
    const outOfTime = o.timeBudgetSeconds !== undefined && trainSeconds >= o.timeBudgetSeconds;
    const stopping = state.step - startStep >= limit || outOfTime;
    if ((config.checkpoint.every > 0 && state.step % config.checkpoint.every === 0) || (stopping && !done)) checkpoint();
    if (outOfTime && !done) {
      say(`time budget of ${o.timeBudgetSeconds} s reached at step ${state.step}; resume with --resume`);
      break;
    }
    // Ctrl-C (see src/util/interrupt.ts): keep the steps done so far and say how to continue
    await yieldToSignals();
    if (interruptRequested() && !done) {
      progress.stop();
      const saved = savedStep === state.step ? join(ckptRoot, `step-${String(state.step).padStart(6, '0')}`) : checkpoint();
      throw new InterruptedError(`stopped at step ${state.step} of ${config.steps}; checkpoint saved in ${saved}. Continue with: linscope pretrain --out ${o.outDir} --resume`);
    }
  }
  progress.stop();
  const finished = state.step === config.steps;
  // a resumed run that was already complete re-evaluates for the result without logging a duplicate
  const finalEval = lastEval && lastEvalStep === state.step ? lastEval : evaluate(state.step > startStep || startStep === 0);
  const modelDir = join(o.outDir, 'model');
  if (finished) {
    saveHFModel(modelDir, model, tokenizerDir, { linscope_steps: String(state.step) });
    if (config.checkpoint.every > 0 && state.step % config.checkpoint.every !== 0) checkpoint();
  }
  const tokensPerSecond = trainSeconds > 0 ? ((state.step - startStep) * tokensPerStep) / trainSeconds : 0;
  const wallSeconds = (performance.now() - wall0) / 1000;
  const summary = {
    ...runInfo, steps: state.step, finished, finalValLoss: finalEval.loss, finalValPerplexity: finalEval.perplexity,
    tokensPerSecond, tokensPerCpuSecond: cpuSeconds > 0 ? ((state.step - startStep) * tokensPerStep) / cpuSeconds : 0,
    trainSecondsThisInvocation: trainSeconds, cpuSecondsThisInvocation: cpuSeconds, trainSecondsTotal: state.elapsedSeconds, wallSeconds,
    linearity: lastLinearity,
  };
  writeFileSync(join(o.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  if (!o.noReport) await writeRunReport(o.outDir, label);
  return { outDir: o.outDir, modelDir, steps: state.step, finished, parameters: model.parameterCount, finalEval, linearity: lastLinearity, tokensPerSecond, trainSeconds, wallSeconds };
}
