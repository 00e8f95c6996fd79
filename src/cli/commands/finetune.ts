/** `linscope finetune --model DIR --task …`: fine-tune and report the linearity before and after (paper Table 1). */
import { printTable } from '../../report/table.ts';
import { FINETUNE_TASKS } from '../../train/finetune-tasks.ts';
import { linearityChangeTable, runFinetune } from '../../train/finetune.ts';
import { REGULARIZER_KINDS } from '../../train/regularizer.ts';
import { assertWritableDir } from '../../io/writable.ts';
import { defineCommand, parseOrExplain } from '../args.ts';
import { modelOptions, tokenizerOptions } from '../options.ts';

const spec = defineCommand({
  name: 'finetune',
  summary: 'Fine-tune a model and report how its linearity changes',
  description:
    'Fine-tunes a model of any supported architecture (HF folder, llama2.c .bin or hub id) on a task built from the shipped data, with ' +
    'the loss on answer tokens only, and reports the task metrics and the per-layer linearity score with and without ' +
    'the residual before and after (like the paper\'s Table 1). Tasks: source-id (which corpus a passage is from), ' +
    'cloze (TinyStories name completion), pararel (fact completion as instructions); the paper\'s Table 1 tasks boolq, cb, multirc ' +
    '(classification with the lm-evaluation-harness prompts, loss on the answer tokens, held-out accuracy = the harness\'s acc; CB and ' +
    'MultiRC train on the SuperGLUE training file and are scored on its validation file; BoolQ ships its validation file only, so it is ' +
    'split by a seeded shuffle, seed 1234: 20% held out) and reward-hh (pairwise reward modelling on HH-RLHF helpful-base, loss ' +
    '−log σ(r_chosen − r_rejected), reward = score.weight [1, d], no bias, times the final-norm hidden state of the last token, as HF\'s ' +
    '…ForSequenceClassification with one label; its test file is the only one shipped and is split the same seeded way; the model folder ' +
    'is saved as that class with the head, or not at all). For reward-hh --batch-size counts sequences (pairs = half).',
  options: {
    ...modelOptions,
    ...tokenizerOptions,
    task: { type: 'string', choices: FINETUNE_TASKS, description: 'Fine-tuning task', default: 'source-id' },
    out: { type: 'string', description: 'Output folder', default: 'out/finetune', valueName: 'dir', short: 'o' },
    steps: { type: 'integer', description: 'Optimiser steps', default: 200 },
    batchSize: { type: 'integer', description: 'Examples per step', default: 16 },
    lr: { type: 'number', description: 'Peak learning rate (warm-up 10%, cosine to lr/10)', default: 1e-3 },
    weightDecay: { type: 'number', description: 'AdamW weight decay', default: 0 },
    maxLen: { type: 'integer', description: 'Longest example in tokens (prompts are cut from the left)', default: 256 },
    trainExamples: { type: 'integer', description: 'Training examples', default: 2000 },
    evalExamples: { type: 'integer', description: 'Held-out evaluation examples (also the linearity data)', default: 200 },
    regularizer: { type: 'string', choices: REGULARIZER_KINDS, description: 'Hidden-state regulariser during fine-tuning', default: 'none' },
    lambda: { type: 'number', description: 'Regulariser weight λ', default: 0.5 },
    seed: { type: 'integer', description: 'Seed of the data split and example order (boolq/cb/multirc/reward-hh: of the example order and reward head only; their split is fixed)', default: 0 },
    dataDir: { type: 'string', description: 'Datasets folder of boolq/cb/multirc/reward-hh (default: ../shared/data/datasets)', valueName: 'dir' },
    json: { type: 'boolean', description: 'Print the result as JSON' },
    quiet: { type: 'boolean', description: 'No progress output' },
  },
  examples: [
    'linscope finetune --model ../shared/data/models/stories260K --task cloze --steps 200 --out out/ft-cloze',
    'linscope finetune --model out/p5m-baseline/model --task source-id',
    'linscope finetune --model out/p5m/model --task boolq --steps 40 --batch-size 8 --max-len 128 --out out/ft-boolq',
    'linscope finetune --model out/p5m/model --task reward-hh --steps 40 --batch-size 8 --max-len 128 --out out/ft-reward',
  ],
});

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const o = args.options;
  assertWritableDir(o.out, '--out');
  const r = await runFinetune({
    model: o.model, tokenizer: o.tokenizer, task: o.task, outDir: o.out, steps: o.steps, batchSize: o.batchSize, lr: o.lr, weightDecay: o.weightDecay,
    maxLen: o.maxLen, trainExamples: o.trainExamples, evalExamples: o.evalExamples, seed: o.seed, quiet: o.quiet, offline: o.offline,
    regularizer: { kind: o.regularizer, lambda: o.lambda }, datasetsDir: o.dataDir,
  });
  if (o.json) {
    console.log(JSON.stringify(r, null, 2));
    return 0;
  }
  const metric = (when: string, e: typeof r.before) =>
    'pairwiseAccuracy' in e
      ? { when, 'reward loss': e.loss, 'pairwise acc': e.pairwiseAccuracy, 'mean margin': e.meanMargin }
      : { when, 'answer loss': e.answerLoss, 'first-token acc': e.firstTokenAccuracy, 'label acc': e.choiceAccuracy ?? '' };
  printTable([metric('before', r.before), metric('after', r.after)]);
  console.log();
  printTable(linearityChangeTable(r.linearityBefore, r.linearityAfter));
  console.log(`\nmodel: ${r.modelDir}\nreport: ${o.out}/report.html`);
  return 0;
}
