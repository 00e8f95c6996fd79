/**
 * Fine-tune a model of any supported architecture (src/train/trainable-model.ts) on a small task (finetune-tasks.ts) and measure how its linearity
 * changes, as the paper's Table 1 does for pretrained vs fine-tuned models: the per-layer linearity
 * score with and without the residual, before and after, plus the task metrics (answer loss,
 * first-token accuracy, label accuracy for classification).
 *
 * Training: answer-only cross-entropy (+ optional regulariser), AdamW, warm-up + cosine schedule,
 * examples in a fresh seeded order each epoch. Output: DIR/model (HF folder), finetune.json,
 * metrics.jsonl, report.html.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cosineWithWarmup, isNotMatrix, type Var } from '../autograd/index.ts';
import { createProgress } from '../report/progress.ts';
import { openModelSource } from '../io/model-source.ts';
import type { Tokenizer } from '../io/tokenizer.ts';
import { resolveTokenizer } from '../io/tokenizer-override.ts';
import { customParts } from '../export/custom-code.ts';
import { normalisedDepth, linearityProfileChart } from '../report/chart-specs.ts';
import { writeHtmlReport } from '../report/html.ts';
import { Rng } from '../tensor/random.ts';
import { CheckpointableAdamW } from '../autograd/optim/adam.ts';
import { buildTask, type FinetuneTask, type SftExample } from './finetune-tasks.ts';
import { saveHFModel } from './hf-folder.ts';
import { TrainableModel } from './trainable-model.ts';
import { measureLinearity, type LinearitySummary } from './linearity-probe.ts';
import { MetricsLog, readMetrics } from './metrics-log.ts';
import type { RegularizerOptions } from './regularizer.ts';
import { lossCurveChart } from './run-report.ts';
import { scoreRow, sftBatch, sftBatches, tokenizeExamples, tokenizePair, type SftBatch, type SftSequence } from './sft-batches.ts';
import { trainStep } from './train-step.ts';
import { datasetsDir } from './shipped-data.ts';
import { hhRewardData, type PreferencePair } from './reward-data.ts';
import { evaluateRewards, initRewardHead, loadRewardHead, pairBatch, REWARD_HEAD_TENSOR, rewardStep, rewardTokens, saveRewardModel, type RewardEval } from './reward-model.ts';

export interface FinetuneOptions {
  /** Model folder, llama2.c file or hub id (any supported architecture). */
  model: string;
  /** Tokenizer override: a tokenizer.json folder or a llama2.c tok*.bin (default: the model's). */
  tokenizer?: string;
  task: FinetuneTask;
  outDir: string;
  steps?: number;
  batchSize?: number;
  lr?: number;
  minLr?: number;
  warmupSteps?: number;
  weightDecay?: number;
  gradClip?: number;
  seed?: number;
  /** Longest training sequence in tokens (default: 256, capped by the model's context). */
  maxLen?: number;
  trainExamples?: number;
  evalExamples?: number;
  regularizer?: RegularizerOptions;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Never contact the Hugging Face hub (default: $HF_HUB_OFFLINE). */
  offline?: boolean;
  /** Datasets folder of the SuperGLUE and HH-RLHF tasks (default: ../shared/data/datasets). */
  datasetsDir?: string;
}

export interface SftEval {
  examples: number;
  /** Mean cross-entropy per answer token. */
  answerLoss: number;
  firstTokenAccuracy: number;
  /** Share of examples whose label scores highest among the task's labels (classification tasks). */
  choiceAccuracy?: number;
}

export interface FinetuneResult {
  task: FinetuneTask;
  model: string;
  modelDir: string;
  steps: number;
  parameters: number;
  trainExamples: number;
  evalExamples: number;
  /** Held-out metrics: SftEval for the text tasks, RewardEval for reward-hh. */
  before: SftEval | RewardEval;
  after: SftEval | RewardEval;
  linearityBefore: LinearitySummary;
  linearityAfter: LinearitySummary;
  seconds: number;
}

function evaluateSft(model: TrainableModel, evalSeqs: readonly SftSequence[], examples: readonly SftExample[], tokenizer: Tokenizer, maxLen: number, batchSize: number, padId: number): SftEval {
  let ll = 0, tokens = 0, first = 0;
  for (let i = 0; i < evalSeqs.length; i += batchSize) {
    const seqs = evalSeqs.slice(i, i + batchSize);
    const b = sftBatch(seqs, padId);
    const logits = model.evaluate(b.inputs, b.batch, b.seqLen).logits.value;
    seqs.forEach((s, r) => {
      const sc = scoreRow(logits, s, r);
      ll += sc.logLikelihood;
      tokens += sc.answerTokens;
      if (sc.firstTokenCorrect) first++;
    });
  }
  const out: SftEval = { examples: evalSeqs.length, answerLoss: -ll / tokens, firstTokenAccuracy: first / evalSeqs.length };
  if (examples.every((e) => e.choices && e.choices.length > 1)) {
    let correct = 0;
    const flat: { example: number; choice: string; seq: SftSequence }[] = [];
    examples.forEach((e, k) => e.choices!.forEach((c) => flat.push({ example: k, choice: c, seq: tokenizePair(tokenizer, e.prompt, c, maxLen) })));
    const scores = new Float64Array(flat.length);
    for (let i = 0; i < flat.length; i += batchSize) {
      const part = flat.slice(i, i + batchSize);
      const b = sftBatch(part.map((p) => p.seq), padId);
      const logits = model.evaluate(b.inputs, b.batch, b.seqLen).logits.value;
      part.forEach((p, r) => (scores[i + r] = scoreRow(logits, p.seq, r).logLikelihood));
    }
    examples.forEach((e, k) => {
      let best = -Infinity, pick = '';
      flat.forEach((f, i) => {
        if (f.example === k && scores[i] > best) {
          best = scores[i];
          pick = f.choice;
        }
      });
      if (pick === e.answer) correct++;
    });
    out.choiceAccuracy = correct / examples.length;
  }
  return out;
}

function linearityOn(model: TrainableModel, batches: readonly { inputs: Int32Array; batch: number; seqLen: number; realRows: Int32Array }[]): LinearitySummary {
  return measureLinearity(batches, (b) => ({ states: model.evaluate(b.inputs, b.batch, b.seqLen).states.map((s) => s.value), rows: b.realRows }));
}

/** The optimiser, schedule and seeded example order every fine-tuning task shares. */
function trainingLoop(o: FinetuneOptions, params: Iterable<Var>, count: number, steps: number, batchSize: number, seed: number) {
  const lr = o.lr ?? 1e-3;
  const opt = new CheckpointableAdamW(params, { lr, betas: [0.9, 0.95], weightDecay: o.weightDecay ?? 0, noDecay: isNotMatrix });
  const schedule = cosineWithWarmup({ baseLr: lr, warmupSteps: o.warmupSteps ?? Math.floor(steps / 10), totalSteps: steps, minLr: o.minLr ?? lr / 10 });
  const rng = new Rng(seed);
  let order: number[] = [];
  let cursor = 0;
  /** The example indices of the next step: a fresh seeded order each epoch. */
  const nextBatch = (): number[] => {
    const picked: number[] = [];
    while (picked.length < batchSize) {
      if (cursor >= order.length) {
        order = rng.shuffle(Array.from({ length: count }, (_, i) => i));
        cursor = 0;
      }
      picked.push(order[cursor++]);
    }
    return picked;
  };
  return { opt, schedule, nextBatch, rng };
}

const describeEval = (e: SftEval | RewardEval) =>
  'pairwiseAccuracy' in e
    ? `reward loss ${e.loss.toFixed(4)}, pairwise accuracy ${e.pairwiseAccuracy.toFixed(3)}, mean margin ${e.meanMargin.toFixed(4)}`
    : `answer loss ${e.answerLoss.toFixed(4)}, first-token accuracy ${e.firstTokenAccuracy.toFixed(3)}${e.choiceAccuracy !== undefined ? `, label accuracy ${e.choiceAccuracy.toFixed(3)}` : ''}`;

/** The held-out accuracy a task reports: label accuracy (classification), pairwise accuracy (reward), else first-token accuracy. */
export function heldOutAccuracy(e: SftEval | RewardEval): number {
  return 'pairwiseAccuracy' in e ? e.pairwiseAccuracy : e.choiceAccuracy ?? e.firstTokenAccuracy;
}

export async function runFinetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const t0 = performance.now();
  const say = (s: string) => (o.log ? o.log(s) : o.quiet ? undefined : process.stderr.write(`${s}\n`));
  const source = await openModelSource(o.model, { offline: o.offline });
  const custom = customParts(source.config);
  if (custom.length > 0) throw new Error(`${o.model} holds ${custom.join(' and ')}, which fine-tuning does not train; fine-tune the model it was exported from`);
  const tokenizer = await resolveTokenizer(source, o.tokenizer);
  const model = TrainableModel.fromSource(source);
  const steps = o.steps ?? 200, batchSize = o.batchSize ?? 16, seed = o.seed ?? 0;
  const maxLen = Math.min(o.maxLen ?? 256, model.config.maxPositions ?? Infinity);
  const padId = tokenizer.padId ?? tokenizer.eosId ?? 0;
  const reward = o.task === 'reward-hh';
  const existingHead = loadRewardHead(source, model);
  if (existingHead && !reward) {
    throw new Error(`${o.model} is a reward model (it holds "${REWARD_HEAD_TENSOR}"); fine-tuning it on ${o.task} would export it without that head: fine-tune the model it was trained from, or use --task reward-hh`);
  }

  // the task's data, its evaluation, and one training step on a batch of example indices
  let description: string, trainCount: number, evalCount: number;
  let evaluate: () => SftEval | RewardEval;
  let linearityBatches: { inputs: Int32Array; batch: number; seqLen: number; realRows: Int32Array }[];
  let params: Var[] = [...model.params.values()];
  let step: (picked: number[], lr: number) => { result: ReturnType<typeof trainStep>; tokens: number };
  let save: (dir: string) => void;
  let perStep = batchSize;
  const evalOptions = { trainExamples: o.trainExamples, evalExamples: o.evalExamples, seed };
  if (reward) {
    const data = hhRewardData(o.datasetsDir ?? datasetsDir(), o.trainExamples ?? 2000, o.evalExamples ?? 200);
    const tok = (p: PreferencePair) => ({ chosen: rewardTokens(tokenizer, p.chosen, maxLen), rejected: rewardTokens(tokenizer, p.rejected, maxLen) });
    const trainPairs = data.train.map(tok);
    const evalPairs = data.eval.map(tok);
    const head = existingHead ?? initRewardHead(model, new Rng(seed + 0x5eed));
    params = [...params, head];
    const pairsPerBatch = Math.max(1, Math.floor(batchSize / 2));
    perStep = pairsPerBatch;
    const evalBatches = Array.from({ length: Math.ceil(evalPairs.length / pairsPerBatch) }, (_, i) => pairBatch(evalPairs.slice(i * pairsPerBatch, (i + 1) * pairsPerBatch), padId));
    description = data.description + `; reward = ${REWARD_HEAD_TENSOR} [1, ${model.config.hiddenSize}] (no bias) · final-norm hidden state of the last token; ${batchSize} sequences (${pairsPerBatch} pairs) per step`;
    trainCount = trainPairs.length;
    evalCount = evalPairs.length;
    evaluate = () => evaluateRewards(model, head, evalBatches);
    linearityBatches = evalBatches;
    step = (picked, lr) => {
      const b = pairBatch(picked.map((i) => trainPairs[i]), padId);
      return { result: rewardStep(model, head, opt(), b, lr, o.gradClip ?? 1), tokens: b.realRows.length };
    };
    save = (dir) => {
      const padding = saveRewardModel(dir, model, head, o.tokenizer ?? source.dir, [...trainPairs, ...evalPairs].flatMap((p) => [p.chosen, p.rejected]), { linscope_finetune_task: o.task });
      say(`export: ${padding.reason}`);
    };
  } else {
    const data = await buildTask(o.task, { ...evalOptions, datasetsDir: o.datasetsDir ?? datasetsDir() });
    const trainSeqs = tokenizeExamples(data.train, tokenizer, maxLen);
    const evalSeqs = tokenizeExamples(data.eval, tokenizer, maxLen);
    description = data.description;
    trainCount = trainSeqs.length;
    evalCount = evalSeqs.length;
    evaluate = () => evaluateSft(model, evalSeqs, data.eval, tokenizer, maxLen, batchSize, padId);
    linearityBatches = sftBatches(evalSeqs, batchSize, padId);
    step = (picked, lr) => {
      const b = sftBatch(picked.map((i) => trainSeqs[i]), padId);
      return { result: trainStep(model, opt(), b, { regularizer: o.regularizer ?? { kind: 'none', lambda: 0 }, lr, gradClip: o.gradClip ?? 1 }), tokens: b.realRows.length };
    };
    save = (dir) => saveHFModel(dir, model, o.tokenizer ?? source.dir, { linscope_finetune_task: o.task }); // copies the tokenizer files it finds
  }
  if (trainCount === 0 || evalCount === 0) throw new Error(`${o.task}: no ${trainCount === 0 ? 'training' : 'evaluation'} examples (check --train-examples / --eval-examples)`);
  if (reward && o.regularizer && o.regularizer.kind !== 'none') throw new Error('--regularizer is not supported with --task reward-hh');
  say(`finetune ${o.task} on ${o.model}: ${model.parameterCount.toLocaleString('en-US')} parameters, ${trainCount} training / ${evalCount} evaluation ${reward ? 'pairs' : 'examples'}, ${steps} steps × ${batchSize}`);

  const before = evaluate();
  const linearityBefore = linearityOn(model, linearityBatches);
  say(`before: ${describeEval(before)}; linearity ${linearityBefore.meanWithResidual.toFixed(4)} / ${linearityBefore.meanWithoutResidual.toFixed(4)} (with / without residual)`);

  mkdirSync(o.outDir, { recursive: true });
  const metrics = new MetricsLog(join(o.outDir, 'metrics.jsonl'));
  const loop = trainingLoop(o, params, trainCount, steps, perStep, seed);
  const opt = () => loop.opt;
  const progress = createProgress({ label: `finetune ${o.task}`, total: steps, unit: 'step', quiet: o.quiet || o.log !== undefined });
  let tokens = 0;
  for (let s = 0; s < steps; s++) {
    const s0 = performance.now();
    const r = step(loop.nextBatch(), loop.schedule(s));
    tokens += r.tokens;
    metrics.write({ type: 'train', step: s + 1, ...r.result, tokens, tokensPerSecond: r.tokens / ((performance.now() - s0) / 1000), elapsedSeconds: (performance.now() - t0) / 1000 });
    progress.tick();
  }
  progress.stop();
  const after = evaluate();
  const linearityAfter = linearityOn(model, linearityBatches);
  const afterLoss = 'pairwiseAccuracy' in after ? after.loss : after.answerLoss;
  metrics.write({ type: 'eval', step: steps, valLoss: afterLoss, valPerplexity: Math.exp(afterLoss), valCosinePenalty: NaN, tokens: 0 });
  say(`after:  ${describeEval(after)}; linearity ${linearityAfter.meanWithResidual.toFixed(4)} / ${linearityAfter.meanWithoutResidual.toFixed(4)}`);

  const modelDir = join(o.outDir, 'model');
  save(modelDir);
  const result: FinetuneResult = {
    task: o.task, model: o.model, modelDir, steps, parameters: model.parameterCount, trainExamples: trainCount, evalExamples: evalCount,
    before, after, linearityBefore, linearityAfter, seconds: (performance.now() - t0) / 1000,
  };
  writeFileSync(join(o.outDir, 'finetune.json'), `${JSON.stringify({ ...result, description, options: { ...o, log: undefined } }, null, 2)}\n`);
  await writeFinetuneReport(o.outDir, result, description);
  return result;
}

/** Table 1 style rows: per layer and the mean, linearity with/without residual before and after. */
export function linearityChangeTable(before: LinearitySummary, after: LinearitySummary): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = before.layers.map((l, i) => ({
    layer: String(l.block),
    'with residual, before': l.withResidual, 'with residual, after': after.layers[i].withResidual,
    'without residual, before': l.withoutResidual, 'without residual, after': after.layers[i].withoutResidual,
  }));
  rows.push({
    layer: 'mean',
    'with residual, before': before.meanWithResidual, 'with residual, after': after.meanWithResidual,
    'without residual, before': before.meanWithoutResidual, 'without residual, after': after.meanWithoutResidual,
  });
  return rows;
}

async function writeFinetuneReport(outDir: string, r: FinetuneResult, description: string): Promise<void> {
  const profile = (l: LinearitySummary) => l.layers.map((x) => ({ layer: x.block, depth: normalisedDepth(x.block, l.layers.length), score: x.withResidual, scoreNoResidual: x.withoutResidual }));
  const metricsRow = (when: string, e: SftEval | RewardEval) =>
    'pairwiseAccuracy' in e
      ? { when, 'reward loss': e.loss, 'pairwise accuracy': e.pairwiseAccuracy, 'mean margin': e.meanMargin }
      : { when, 'answer loss': e.answerLoss, 'first-token accuracy': e.firstTokenAccuracy, ...(e.choiceAccuracy !== undefined ? { 'label accuracy': e.choiceAccuracy } : {}) };
  await writeHtmlReport(join(outDir, 'report.html'), {
    title: `Fine-tuning — ${r.task}`,
    subtitle: description,
    meta: { model: r.model, parameters: r.parameters, steps: r.steps, seconds: Math.round(r.seconds) },
    sections: [
      { title: 'Task metrics', blocks: [{ kind: 'table', rows: [metricsRow('before', r.before), metricsRow('after', r.after)] }] },
      {
        title: 'Linearity before and after',
        blocks: [
          { kind: 'table', rows: linearityChangeTable(r.linearityBefore, r.linearityAfter), caption: 'Linearity score per layer (exact solver) on the evaluation examples' },
          { kind: 'chart', spec: linearityProfileChart([{ model: 'before', points: profile(r.linearityBefore) }, { model: 'after', points: profile(r.linearityAfter) }], { title: 'Linearity profile', subtitle: 'solid: with residual, dashed: without', yLabel: 'linearity score', withResidual: true }) },
        ],
      },
      { title: 'Training loss', blocks: [{ kind: 'chart', spec: lossCurveChart([{ name: r.task, records: readMetrics(join(outDir, 'metrics.jsonl')) }], 'Answer loss during fine-tuning') }] },
    ],
    results: r,
  });
}
