/**
 * Fine-tune a Llama-family model on a small task (finetune-tasks.ts) and measure how its linearity
 * changes, as the paper's Table 1 does for pretrained vs fine-tuned models: the per-layer linearity
 * score with and without the residual, before and after, plus the task metrics (answer loss,
 * first-token accuracy, label accuracy for classification).
 *
 * Training: answer-only cross-entropy (+ optional regulariser), AdamW, warm-up + cosine schedule,
 * examples in a fresh seeded order each epoch. Output: DIR/model (HF folder), finetune.json,
 * metrics.jsonl, report.html.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cosineWithWarmup, isNotMatrix } from '../autograd/index.ts';
import { createProgress } from '../report/progress.ts';
import { openModelSource } from '../io/model-source.ts';
import type { Tokenizer } from '../io/tokenizer.ts';
import { normalisedDepth, linearityProfileChart } from '../report/chart-specs.ts';
import { writeHtmlReport } from '../report/html.ts';
import { Rng } from '../tensor/random.ts';
import { CheckpointableAdamW } from '../autograd/optim/adam.ts';
import { buildTask, type FinetuneTask, type SftExample } from './finetune-tasks.ts';
import { saveHFModel } from './hf-folder.ts';
import { TrainableLlama } from './llama-trainable.ts';
import { measureLinearity, type LinearitySummary } from './linearity-probe.ts';
import { MetricsLog, readMetrics } from './metrics-log.ts';
import type { RegularizerOptions } from './regularizer.ts';
import { lossCurveChart } from './run-report.ts';
import { scoreRow, sftBatch, sftBatches, tokenizeExamples, tokenizePair, type SftBatch, type SftSequence } from './sft-batches.ts';
import { trainStep } from './train-step.ts';

export interface FinetuneOptions {
  /** Model folder, llama2.c file or hub id (Llama family). */
  model: string;
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
  before: SftEval;
  after: SftEval;
  linearityBefore: LinearitySummary;
  linearityAfter: LinearitySummary;
  seconds: number;
}

function evaluateSft(model: TrainableLlama, evalSeqs: readonly SftSequence[], examples: readonly SftExample[], tokenizer: Tokenizer, maxLen: number, batchSize: number, padId: number): SftEval {
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

function linearityOn(model: TrainableLlama, batches: readonly SftBatch[]): LinearitySummary {
  return measureLinearity(batches, (b) => ({ states: model.evaluate(b.inputs, b.batch, b.seqLen).states.map((s) => s.value), rows: b.realRows }));
}

export async function runFinetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const t0 = performance.now();
  const say = (s: string) => (o.log ? o.log(s) : o.quiet ? undefined : process.stderr.write(`${s}\n`));
  const source = await openModelSource(o.model, { offline: o.offline });
  const tokenizer = await source.tokenizer();
  if (!tokenizer) throw new Error(`${o.model}: the model has no tokenizer (tokenizer.json or a llama2.c tok*.bin), which fine-tuning needs`);
  const model = TrainableLlama.fromSource(source);
  const steps = o.steps ?? 200, batchSize = o.batchSize ?? 16, seed = o.seed ?? 0;
  const maxLen = Math.min(o.maxLen ?? 256, model.config.maxPositions ?? Infinity);
  const padId = tokenizer.padId ?? tokenizer.eosId ?? 0;
  const data = await buildTask(o.task, { trainExamples: o.trainExamples, evalExamples: o.evalExamples, seed });
  const trainSeqs = tokenizeExamples(data.train, tokenizer, maxLen);
  const evalSeqs = tokenizeExamples(data.eval, tokenizer, maxLen);
  const evalBatches = sftBatches(evalSeqs, batchSize, padId);
  say(`finetune ${o.task} on ${o.model}: ${model.parameterCount.toLocaleString('en-US')} parameters, ${trainSeqs.length} training / ${evalSeqs.length} evaluation examples, ${steps} steps × ${batchSize}`);

  const before = evaluateSft(model, evalSeqs, data.eval, tokenizer, maxLen, batchSize, padId);
  const linearityBefore = linearityOn(model, evalBatches);
  say(`before: answer loss ${before.answerLoss.toFixed(4)}, first-token accuracy ${before.firstTokenAccuracy.toFixed(3)}${before.choiceAccuracy !== undefined ? `, label accuracy ${before.choiceAccuracy.toFixed(3)}` : ''}; linearity ${linearityBefore.meanWithResidual.toFixed(4)} / ${linearityBefore.meanWithoutResidual.toFixed(4)} (with / without residual)`);

  mkdirSync(o.outDir, { recursive: true });
  const metrics = new MetricsLog(join(o.outDir, 'metrics.jsonl'));
  const opt = new CheckpointableAdamW(model.params.values(), { lr: o.lr ?? 1e-3, betas: [0.9, 0.95], weightDecay: o.weightDecay ?? 0, noDecay: isNotMatrix });
  const schedule = cosineWithWarmup({ baseLr: o.lr ?? 1e-3, warmupSteps: o.warmupSteps ?? Math.floor(steps / 10), totalSteps: steps, minLr: o.minLr ?? (o.lr ?? 1e-3) / 10 });
  const rng = new Rng(seed);
  let order: number[] = [];
  let cursor = 0;
  const progress = createProgress({ label: `finetune ${o.task}`, total: steps, unit: 'step', quiet: o.quiet || o.log !== undefined });
  let tokens = 0;
  for (let step = 0; step < steps; step++) {
    const picked: SftSequence[] = [];
    while (picked.length < batchSize) {
      if (cursor >= order.length) {
        order = rng.shuffle(Array.from({ length: trainSeqs.length }, (_, i) => i));
        cursor = 0;
      }
      picked.push(trainSeqs[order[cursor++]]);
    }
    const b = sftBatch(picked, padId);
    const s0 = performance.now();
    const r = trainStep(model, opt, b, { regularizer: o.regularizer ?? { kind: 'none', lambda: 0 }, lr: schedule(step), gradClip: o.gradClip ?? 1 });
    tokens += b.realRows.length;
    metrics.write({ type: 'train', step: step + 1, ...r, tokens, tokensPerSecond: b.realRows.length / ((performance.now() - s0) / 1000), elapsedSeconds: (performance.now() - t0) / 1000 });
    progress.tick();
  }
  progress.stop();
  const after = evaluateSft(model, evalSeqs, data.eval, tokenizer, maxLen, batchSize, padId);
  const linearityAfter = linearityOn(model, evalBatches);
  metrics.write({ type: 'eval', step: steps, valLoss: after.answerLoss, valPerplexity: Math.exp(after.answerLoss), valCosinePenalty: NaN, tokens: 0 });
  say(`after:  answer loss ${after.answerLoss.toFixed(4)}, first-token accuracy ${after.firstTokenAccuracy.toFixed(3)}${after.choiceAccuracy !== undefined ? `, label accuracy ${after.choiceAccuracy.toFixed(3)}` : ''}; linearity ${linearityAfter.meanWithResidual.toFixed(4)} / ${linearityAfter.meanWithoutResidual.toFixed(4)}`);

  const modelDir = join(o.outDir, 'model');
  saveHFModel(modelDir, model, existsSync(join(source.dir, 'tokenizer.json')) ? source.dir : undefined, { linscope_finetune_task: o.task });
  const result: FinetuneResult = {
    task: o.task, model: o.model, modelDir, steps, parameters: model.parameterCount,
    before, after, linearityBefore, linearityAfter, seconds: (performance.now() - t0) / 1000,
  };
  writeFileSync(join(o.outDir, 'finetune.json'), `${JSON.stringify({ ...result, description: data.description, options: { ...o, log: undefined } }, null, 2)}\n`);
  await writeFinetuneReport(o.outDir, result, data.description);
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
  const metricsRow = (when: string, e: SftEval) => ({ when, 'answer loss': e.answerLoss, 'first-token accuracy': e.firstTokenAccuracy, ...(e.choiceAccuracy !== undefined ? { 'label accuracy': e.choiceAccuracy } : {}) });
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
