/** `linscope finetune --model DIR --task …`: fine-tune and report the linearity before and after (paper Table 1). */
import { printTable } from '../../report/table.ts';
import { FINETUNE_TASKS } from '../../train/finetune-tasks.ts';
import { linearityChangeTable, runFinetune } from '../../train/finetune.ts';
import { REGULARIZER_KINDS } from '../../train/regularizer.ts';
import { defineCommand, parseOrExplain } from '../args.ts';
import { modelOptions } from '../options.ts';

const spec = defineCommand({
  name: 'finetune',
  summary: 'Fine-tune a model and report how its linearity changes',
  description:
    'Fine-tunes a Llama-family model (HF folder, llama2.c .bin or hub id) on a task built from the shipped data, with ' +
    'the loss on answer tokens only, and reports the task metrics and the per-layer linearity score with and without ' +
    'the residual before and after (like the paper\'s Table 1). Tasks: source-id (which corpus a passage is from), ' +
    'cloze (TinyStories name completion), pararel (fact completion as instructions).',
  options: {
    ...modelOptions,
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
    seed: { type: 'integer', description: 'Seed of the data split and example order', default: 0 },
    json: { type: 'boolean', description: 'Print the result as JSON' },
    quiet: { type: 'boolean', description: 'No progress output' },
  },
  examples: [
    'linscope finetune --model ../shared/data/models/stories260K --task cloze --steps 200 --out out/ft-cloze',
    'linscope finetune --model out/p5m-baseline/model --task source-id',
  ],
});

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const o = args.options;
  const r = await runFinetune({
    model: o.model, task: o.task, outDir: o.out, steps: o.steps, batchSize: o.batchSize, lr: o.lr, weightDecay: o.weightDecay,
    maxLen: o.maxLen, trainExamples: o.trainExamples, evalExamples: o.evalExamples, seed: o.seed, quiet: o.quiet, offline: o.offline,
    regularizer: { kind: o.regularizer, lambda: o.lambda },
  });
  if (o.json) {
    console.log(JSON.stringify(r, null, 2));
    return 0;
  }
  const metric = (when: string, e: typeof r.before) => ({ when, 'answer loss': e.answerLoss, 'first-token acc': e.firstTokenAccuracy, 'label acc': e.choiceAccuracy ?? '' });
  printTable([metric('before', r.before), metric('after', r.after)]);
  console.log();
  printTable(linearityChangeTable(r.linearityBefore, r.linearityAfter));
  console.log(`\nmodel: ${r.modelDir}\nreport: ${o.out}/report.html`);
  return 0;
}
