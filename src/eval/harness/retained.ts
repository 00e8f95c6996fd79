/**
 * Benchmark scores of an original model and its compressed variants side by side: each task's
 * accuracy ("acc,none"; truthfulqa_mc2: its probability mass), the chance level, and the
 * "retained performance" of each variant, pruned acc / original acc, with its mean over tasks —
 * the summary depth-pruning papers report (over the tasks where the original scores above 0). Near
 * chance, a ratio says little: the chance column is there to show it.
 */
import { evaluateTask, type EvalOptions } from './evaluate.ts';
import { chanceLevel } from './output.ts';
import type { CachedLM, PlainLM } from './score.ts';
import type { TaskDefinition } from './task.ts';
import type { HarnessTokenizer } from './tokenize.ts';

export interface ModelVariant {
  name: string;
  model: CachedLM | PlainLM;
  /** 'plain' for models without a KV cache (e.g. pruned models). */
  scoring: 'cached' | 'plain';
}

export interface RetainedRow {
  task: string;
  docs: number;
  chance: number | undefined;
  /** acc per variant, in the order given (the first is the reference). */
  acc: number[];
  stderr: (number | 'N/A')[];
  /** acc / reference acc per variant (the reference's is 1); undefined when the reference scores 0. */
  retained: (number | undefined)[];
}

export function compareOnTasks(
  variants: readonly ModelVariant[],
  tokenizer: HarnessTokenizer,
  tasks: readonly TaskDefinition[],
  opts: Omit<EvalOptions, 'scoring'>,
): { rows: RetainedRow[]; meanRetained: (number | undefined)[] } {
  const rows: RetainedRow[] = tasks.map((task) => {
    const results = variants.map((v) => evaluateTask(v.model, tokenizer, task, { ...opts, scoring: v.scoring }));
    const acc = results.map((r) => r.aggregates.find((a) => a.metric === 'acc')!.value);
    return {
      task: task.name,
      docs: results[0].effective,
      chance: chanceLevel(results[0], 'acc'),
      acc,
      stderr: results.map((r) => r.aggregates.find((a) => a.metric === 'acc')!.stderr),
      retained: acc.map((a) => (acc[0] > 0 ? a / acc[0] : undefined)),
    };
  });
  // Mean over the tasks where the ratio exists (reference acc > 0).
  const meanRetained = variants.map((_, v) => {
    const xs = rows.map((r) => r.retained[v]).filter((x): x is number => x !== undefined);
    return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : undefined;
  });
  return { rows, meanRetained };
}
