/**
 * `linscope eval -m M --tasks arc_easy,piqa,… [--num-fewshot k] [--limit n] [--batch-size b]
 * [--log-samples] -o DIR`: zero/few-shot benchmarks with lm-evaluation-harness's task
 * definitions (src/eval/harness/), results in the harness's JSON layout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { evaluateTask, type TaskResult } from '../../eval/harness/evaluate.ts';
import { resultsJson, resultsTable, sampleLines } from '../../eval/harness/output.ts';
import { TASK_NAMES, resolveTasks } from '../../eval/harness/tasks/index.ts';
import { harnessMaxLength } from '../../eval/harness/tokenize.ts';
import { writeFileAtomicSync } from '../../io/atomic-file.ts';
import { loadModel } from '../../models/decoder.ts';
import { writeJson } from '../../report/json.ts';
import { defineCommand, parseOrExplain } from '../args.ts';
import { applyThreads, modelOptions, openModel, quietOptions, threadsOptions } from '../options.ts';
import { createProgress, type Progress } from '../../report/progress.ts';
import { benchmarkDatasetsDir } from '../../train/shipped-data.ts';

const spec = defineCommand({
  name: 'eval',
  summary: 'Benchmarks (ARC, PIQA, Winogrande, LAMBADA, SuperGLUE, …) with lm-evaluation-harness task definitions',
  description:
    'Each task reproduces lm-evaluation-harness 0.4.13.dev0 (commit 4e7e0d47): prompts, target delimiter, few-shot sampling ' +
    '(seed 1234), request tokenization, metrics and stderrs. Results are written in the harness JSON layout. ' +
    `Tasks: ${TASK_NAMES.join(', ')}.`,
  options: {
    ...modelOptions,
    ...threadsOptions,
    tasks: { type: 'string', description: 'Comma-separated task names (harness spelling)', required: true, valueName: 'a,b,…' },
    numFewshot: { type: 'integer', description: 'Few-shot examples per prompt (default 0)' },
    limit: { type: 'number', description: 'Evaluate the first n documents of each task (a fraction < 1: that share)' },
    batchSize: { type: 'integer', description: 'Sequences per forward call', default: 16 },
    logSamples: { type: 'boolean', description: 'Also write samples_<task>.jsonl with every request and its log-likelihood' },
    output: { type: 'string', description: 'Output folder', required: true, short: 'o', valueName: 'dir' },
    dataDir: { type: 'string', description: 'Datasets folder (default: $LINSCOPE_DATASETS or ../shared/data/datasets)', valueName: 'dir' },
    bootstrapIters: { type: 'integer', description: 'Bootstrap resamples for perplexity stderr (harness default; 0 = no stderrs)', default: 100000 },
    maxLength: { type: 'integer', description: 'Maximum sequence length (default: from config.json as the harness resolves it)' },
    ...quietOptions,
  },
  examples: [
    'linscope eval -m out/p5m/model --tasks arc_easy,piqa,boolq -o runs/eval',
    'linscope eval -m stories260K.bin --tasks cb,copa --num-fewshot 5 --limit 50 --log-samples -o runs/eval-5shot',
  ],
});

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const o = args.options;
  applyThreads(o);
  const tasks = resolveTasks(o.tasks.split(','));
  if (o.numFewshot !== undefined && o.numFewshot < 0) throw new Error(`--num-fewshot must be ≥ 0, got ${o.numFewshot}`);
  if (o.batchSize < 1) throw new Error(`--batch-size must be ≥ 1, got ${o.batchSize}`);
  if (o.bootstrapIters < 0) throw new Error(`--bootstrap-iters must be ≥ 0, got ${o.bootstrapIters}`);
  const datasetsDir = resolve(o.dataDir ?? benchmarkDatasetsDir());
  // A few-shot request a task cannot honour is a usage error: refuse it before any work.
  if ((o.numFewshot ?? 0) > 0) {
    for (const task of tasks) {
      if (task.fixedNumFewshot !== undefined) continue;
      const fs = task.fewshotDocs(datasetsDir);
      if ('missing' in fs) throw new Error(fs.missing);
    }
  }
  const source = await openModel(o);
  const tokenizer = await source.tokenizer();
  if (!tokenizer) throw new Error(`${o.model} has no tokenizer (tokenizer.json or tok*.bin); eval needs one`);
  const model = await loadModel(source);
  const maxLength = o.maxLength ?? harnessMaxLength(source.config as Record<string, unknown>);
  const padId = tokenizer.padId ?? tokenizer.eosId ?? 0;
  mkdirSync(o.output, { recursive: true });
  const results: TaskResult[] = [];
  const failed: Record<string, string> = {};
  for (const task of tasks) {
    let bar: Progress | undefined;
    let r: TaskResult;
    try {
      r = evaluateTask(model, tokenizer, task, {
        datasetsDir, numFewshot: o.numFewshot, limit: o.limit, batchSize: o.batchSize, maxLength, padId, bootstrapIters: o.bootstrapIters,
        onProgress: (_name, done, total) => {
          bar ??= createProgress({ label: `eval ${task.name}`, total, unit: 'request', quiet: o.quiet });
          bar.update(done);
        },
        warn: (m) => console.error(`linscope eval: warning: ${m}`),
      });
    } catch (e) {
      // One task that cannot run (e.g. a continuation longer than the model's window, which the
      // harness refuses too) must not cost the others: record it, go on, exit 1 at the end.
      bar?.stop();
      failed[task.name] = (e as Error).message;
      console.error(`linscope eval: ${task.name} not scored: ${(e as Error).message}`);
      continue;
    }
    bar?.stop();
    results.push(r);
    if (o.logSamples) writeFileAtomicSync(join(o.output, `samples_${task.name}.jsonl`), sampleLines(r).join('\n') + '\n');
    // Write after every task so that a long run keeps what it has finished.
    const info = { model: o.model, batchSize: o.batchSize, limit: o.limit, bootstrapIters: o.bootstrapIters, maxLength, datasetsDir, date: Date.now() / 1000 };
    writeJson(join(o.output, 'results.json'), { ...resultsJson(results, info), ...(Object.keys(failed).length ? { failed } : {}) });
  }
  const table = resultsTable(results);
  writeFileSync(join(o.output, 'results.md'), table + '\n');
  console.log(table);
  const scored = results.reduce((s, r) => s + r.scoring.tokens, 0);
  const seconds = results.reduce((s, r) => s + r.scoring.seconds, 0);
  console.error(`${scored} tokens scored in ${seconds.toFixed(1)} s (${(scored / Math.max(seconds, 1e-9)).toFixed(0)} tokens/s); results in ${o.output}`);
  if (Object.keys(failed).length > 0) {
    console.error(`linscope eval: ${Object.keys(failed).length} task(s) not scored: ${Object.keys(failed).join(', ')} (see "failed" in results.json)`);
    return 1;
  }
  return 0;
}
