/**
 * The linearity paper's Table 1 protocol (Razzhigaev et al. 2024, "Your Transformer is Secretly
 * Linear", §3 / Table 1): fine-tune one pretrained model on each task, with several seeds, and
 * report how the mean linearity score *without the residual* changes, Δ = after − before, as
 * mean ± standard deviation over the seeds (sample standard deviation, n − 1), beside the task's
 * held-out accuracy before and after. Each (task, seed) is one `finetune` run (finetune.ts) in
 * DIR/<task>/seed-<s>; a run whose finetune.json was written with the same options is reused, so an
 * interrupted table completes without training again.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stableHash } from '../report/cache.ts';
import { heldOutAccuracy, runFinetune, type FinetuneOptions, type FinetuneResult } from './finetune.ts';
import type { FinetuneTask } from './finetune-tasks.ts';

export const TABLE1_TASKS: readonly FinetuneTask[] = ['boolq', 'cb', 'multirc', 'reward-hh'];

export type Table1RunOptions = Omit<FinetuneOptions, 'task' | 'outDir' | 'seed' | 'log' | 'quiet'>;

export interface Table1Options {
  outDir: string;
  tasks: readonly FinetuneTask[];
  seeds: readonly number[];
  run: Table1RunOptions;
  log?: (line: string) => void;
}

export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n − 1); NaN for one seed. */
  std: number;
}

export interface Table1Row {
  task: string;
  /** 'label accuracy' or 'pairwise accuracy'. */
  metric: string;
  seeds: number;
  trainExamples: number;
  evalExamples: number;
  accuracyBefore: MeanStd;
  accuracyAfter: MeanStd;
  linearityBefore: MeanStd;
  linearityAfter: MeanStd;
  /** Δ mean linearity without residual, after − before. */
  delta: MeanStd;
}

export function meanStd(xs: readonly number[]): MeanStd {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : NaN;
  return { mean, std };
}

/** One table row from the runs of a task (one per seed). */
export function table1Row(task: string, runs: readonly FinetuneResult[]): Table1Row {
  const reward = 'pairwiseAccuracy' in runs[0].after;
  return {
    task, metric: reward ? 'pairwise accuracy' : 'label accuracy', seeds: runs.length,
    trainExamples: runs[0].trainExamples, evalExamples: runs[0].evalExamples,
    accuracyBefore: meanStd(runs.map((r) => heldOutAccuracy(r.before))),
    accuracyAfter: meanStd(runs.map((r) => heldOutAccuracy(r.after))),
    linearityBefore: meanStd(runs.map((r) => r.linearityBefore.meanWithoutResidual)),
    linearityAfter: meanStd(runs.map((r) => r.linearityAfter.meanWithoutResidual)),
    delta: meanStd(runs.map((r) => r.linearityAfter.meanWithoutResidual - r.linearityBefore.meanWithoutResidual)),
  };
}

const pm = (m: MeanStd, digits: number) => `${m.mean.toFixed(digits)} ± ${Number.isNaN(m.std) ? '—' : m.std.toFixed(digits)}`;

/** The table as Markdown, Table 1 layout: one row per task. */
export function table1Markdown(rows: readonly Table1Row[]): string {
  const lines = [
    '| task | train / held-out | seeds | linearity w/o residual, pretrained | fine-tuned | **Δ linearity** | held-out accuracy, pretrained | fine-tuned |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.task} | ${r.trainExamples} / ${r.evalExamples} | ${r.seeds} | ${pm(r.linearityBefore, 4)} | ${pm(r.linearityAfter, 4)} | **${r.delta.mean >= 0 ? '+' : ''}${pm(r.delta, 4)}** | ${pm(r.accuracyBefore, 3)} | ${pm(r.accuracyAfter, 3)} |`),
  ];
  return `${lines.join('\n')}\n`;
}

function reusable(dir: string, key: string): FinetuneResult | undefined {
  const path = join(dir, 'finetune.json');
  if (!existsSync(path)) return undefined;
  const saved = JSON.parse(readFileSync(path, 'utf8')) as FinetuneResult & { table1Key?: string };
  return saved.table1Key === key ? saved : undefined;
}

export async function runTable1(o: Table1Options): Promise<{ rows: Table1Row[]; markdown: string; seconds: number }> {
  if (o.seeds.length === 0) throw new Error('--seeds: give at least one seed');
  const t0 = performance.now();
  const rows: Table1Row[] = [];
  for (const task of o.tasks) {
    const runs: FinetuneResult[] = [];
    for (const seed of o.seeds) {
      const dir = join(o.outDir, task, `seed-${seed}`);
      const key = stableHash({ task, seed, ...o.run });
      let r = reusable(dir, key);
      if (r) {
        o.log?.(`${task} seed ${seed}: reusing ${dir}`);
      } else {
        o.log?.(`${task} seed ${seed}: fine-tuning`);
        r = await runFinetune({ ...o.run, task, seed, outDir: dir, quiet: true, log: o.log ? (s) => o.log!(`  ${s}`) : () => {} });
        const path = join(dir, 'finetune.json');
        writeFileSync(path, `${JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), table1Key: key }, null, 2)}\n`);
      }
      runs.push(r);
    }
    rows.push(table1Row(task, runs));
  }
  const markdown = table1Markdown(rows);
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(join(o.outDir, 'table1.json'), `${JSON.stringify({ rows, options: o.run, tasks: o.tasks, seeds: o.seeds }, null, 2)}\n`);
  writeFileSync(join(o.outDir, 'table1.md'), markdown);
  return { rows, markdown, seconds };
}
