/**
 * The benchmark table of the linearity paper's pretraining experiment (Razzhigaev et al. 2024,
 * §5, the table comparing the baseline with the cosine-regularised model): zero-shot accuracy on
 * SuperGLUE (BoolQ, CB, COPA, MultiRC, RTE, WiC) and xStoryCloze-en, and their mean, one row per
 * run. Each task is scored with linscope's lm-evaluation-harness definitions (src/eval/harness;
 * RTE as the harness's SuperGLUE task `sglue_rte`), metric `acc`. ReCoRD, the paper's seventh
 * SuperGLUE task, is not shipped (SOURCES.md: above the data snapshot cap) and is left out — the
 * mean is over the seven tasks here.
 *
 * A task is marked "at chance" when every run's accuracy is within two standard errors of the
 * chance level (the expected accuracy of a uniform random choice on the same documents): such a
 * column cannot tell the runs apart.
 */
import { evaluateTask, type TaskResult } from '../eval/harness/evaluate.ts';
import { chanceLevel } from '../eval/harness/output.ts';
import { resolveTasks } from '../eval/harness/tasks/index.ts';
import { harnessMaxLength } from '../eval/harness/tokenize.ts';
import { openModelSource } from '../io/model-source.ts';
import { loadModel } from '../models/decoder.ts';

export const PRETRAINING_TABLE_TASKS = ['boolq', 'cb', 'copa', 'multirc', 'sglue_rte', 'wic', 'xstorycloze_en'] as const;
export const PAPER_TASK_NAMES: Record<string, string> = {
  boolq: 'BoolQ', cb: 'CB', copa: 'COPA', multirc: 'MultiRC', sglue_rte: 'RTE', wic: 'WiC', xstorycloze_en: 'xStoryCloze-en',
};
export const RECORD_NOTE = 'ReCoRD (in the paper\'s table) is not shipped with the datasets (above the snapshot size cap), so it is left out and the mean is over the other seven tasks';

/** The harness default; acc's standard error is closed-form, the bootstrap only serves perplexity (none here), and 0 would drop every stderr. */
const BOOTSTRAP_ITERS = 100000;

export interface TaskScore {
  acc: number;
  stderr: number;
  chance: number;
  docs: number;
}

export interface PretrainingTable {
  tasks: string[];
  runs: { name: string; model: string; scores: TaskScore[]; mean: number }[];
  /** Per task: every run within 2 standard errors of chance. */
  atChance: boolean[];
  limit?: number;
  note: string;
}

function scoreOf(r: TaskResult): TaskScore {
  const acc = r.aggregates.find((a) => a.metric === 'acc');
  if (!acc) throw new Error(`${r.task.name}: no acc`);
  return { acc: acc.value, stderr: typeof acc.stderr === 'number' ? acc.stderr : NaN, chance: chanceLevel(r, 'acc') ?? NaN, docs: r.effective };
}

export interface PretrainingTableOptions {
  datasetsDir: string;
  /** First n documents of each task (default: all). */
  limit?: number;
  batchSize?: number;
  log?: (line: string) => void;
}

/** Scores each run's model folder on the paper's tasks. */
export async function pretrainingTable(runs: readonly { name: string; model: string }[], o: PretrainingTableOptions): Promise<PretrainingTable> {
  const tasks = resolveTasks([...PRETRAINING_TABLE_TASKS]);
  const out: PretrainingTable['runs'] = [];
  for (const run of runs) {
    const source = await openModelSource(run.model);
    const tokenizer = await source.tokenizer();
    if (!tokenizer) throw new Error(`${run.model} has no tokenizer; the benchmark table needs one`);
    const model = await loadModel(source);
    const maxLength = harnessMaxLength(source.config as Record<string, unknown>);
    const padId = tokenizer.padId ?? tokenizer.eosId ?? 0;
    const scores = tasks.map((task) => {
      o.log?.(`${run.name}: ${task.name}`);
      return scoreOf(evaluateTask(model, tokenizer, task, { datasetsDir: o.datasetsDir, limit: o.limit, batchSize: o.batchSize ?? 16, maxLength, padId, bootstrapIters: BOOTSTRAP_ITERS }));
    });
    out.push({ name: run.name, model: run.model, scores, mean: scores.reduce((s, x) => s + x.acc, 0) / scores.length });
  }
  const atChance = tasks.map((_, i) => out.every((r) => Math.abs(r.scores[i].acc - r.scores[i].chance) <= 2 * r.scores[i].stderr));
  return { tasks: tasks.map((t) => t.name), runs: out, atChance, limit: o.limit, note: RECORD_NOTE };
}

/** Markdown in the paper's layout: runs as rows, tasks + mean as columns; † marks tasks where every run sits at chance. */
export function pretrainingTableMarkdown(t: PretrainingTable): string {
  const head = t.tasks.map((name, i) => `${PAPER_TASK_NAMES[name] ?? name}${t.atChance[i] ? ' †' : ''}`);
  const lines = [
    `| run | ${head.join(' | ')} | mean |`,
    `|---|${t.tasks.map(() => '---:').join('|')}|---:|`,
    ...t.runs.map((r) => `| ${r.name} | ${r.scores.map((s) => `${s.acc.toFixed(3)} ± ${s.stderr.toFixed(3)}`).join(' | ')} | ${r.mean.toFixed(3)} |`),
    `| chance | ${t.runs[0].scores.map((s) => s.chance.toFixed(3)).join(' | ')} | ${(t.runs[0].scores.reduce((a, s) => a + s.chance, 0) / t.tasks.length).toFixed(3)} |`,
    `| documents | ${t.runs[0].scores.map((s) => String(s.docs)).join(' | ')} | |`,
  ];
  const chance = t.atChance.some((x) => x) ? `\n† every run is within two standard errors of chance on this task: it does not separate the runs.` : '';
  return `${lines.join('\n')}\n${chance}\nacc (0-shot, lm-evaluation-harness definitions; RTE = sglue_rte) ± standard error. ${t.note}.\n`;
}
