/**
 * Results in lm-evaluation-harness's layout (lm_eval/evaluator_utils.py EvalAcc._to_eval_results,
 * lm_eval/evaluator.py simple_evaluate's "config", lm_eval/loggers/evaluation_tracker.py
 * save_results_samples; harness commit 4e7e0d47), plus chance levels and a readable table.
 *
 * results.json:  results{task: {name, alias, sample_len, "acc,none", "acc_stderr,none", …}},
 *   group_subtasks, configs, versions, n-shot, higher_is_better, n-samples{original, effective},
 *   config{model, batch_size, limit, bootstrap_iters, seeds…}, date; and a "linscope" section
 *   (harness commit followed, chance levels, scoring statistics).
 * samples_<task>.jsonl: one line per document — doc_id, doc, target, arguments
 *   {gen_args_i: {arg_0: context, arg_1: continuation}}, resps / filtered_resps with the
 *   (loglikelihood, is_greedy) pairs written as Python str() of the values (as the harness's
 *   sanitize_list does), filter "none", metrics, doc_hash, prompt_hash, target_hash and the metric values.
 */
import { createHash } from 'node:crypto';
import type { TaskResult } from './evaluate.ts';
import { pyLen } from './metrics.ts';
import type { TaskDefinition } from './task.ts';

export const HARNESS_VERSION = '0.4.13.dev0';
export const HARNESS_COMMIT = '4e7e0d47f33bc71070c1d38394bafbb52b117163';

const HIGHER_IS_BETTER: Record<string, boolean> = { acc: true, acc_norm: true, f1: true, perplexity: false };

/** Python repr() of a float (shortest round trip; exponent form below 1e-4 and from 1e16). */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const ax = Math.abs(x);
  if (ax >= 1e16 || ax < 1e-4) {
    const [mant, exp] = x.toExponential().split('e');
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(x);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

function sha256(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/**
 * Chance level of a metric on the evaluated documents: the expected score of a uniform random
 * choice (acc, acc_norm: mean of 1/#choices; mc2: mean share of true answers). Undefined where no
 * such level exists (perplexity, lambada's acc, cb's f1).
 */
export function chanceLevel(r: TaskResult, metric: string): number | undefined {
  if (r.task.outputType !== 'multiple_choice' || metric === 'f1') return undefined;
  if (r.samples.length === 0) return undefined;
  let s = 0;
  for (const sample of r.samples) {
    const n = sample.docRequests.requests.length;
    if (r.task.name === 'truthfulqa_mc2') {
      const labels = (sample.docRequests.doc.mc2_targets as { labels: number[] }).labels;
      s += labels.filter((l) => l === 1).length / n;
    } else s += 1 / n;
  }
  return s / r.samples.length;
}

/** The TaskConfig the harness dumps: the YAML plus the defaults it fills in. */
function dumpConfig(task: TaskDefinition, numFewshot: number): Record<string, unknown> {
  return {
    ...task.yamlConfig,
    description: '',
    target_delimiter: ' ',
    fewshot_delimiter: '\n\n',
    fewshot_config: { sampler: 'default' },
    num_fewshot: numFewshot,
    output_type: task.outputType,
    repeats: 1,
    unsafe_code: false,
  };
}

export interface RunInfo {
  model: string;
  batchSize: number;
  limit: number | undefined;
  bootstrapIters: number;
  maxLength: number;
  datasetsDir: string;
  date: number;
}

export function resultsJson(results: readonly TaskResult[], info: RunInfo): Record<string, unknown> {
  const byName = <T>(f: (r: TaskResult) => T) => Object.fromEntries([...results].sort((a, b) => a.task.name.localeCompare(b.task.name)).map((r) => [r.task.name, f(r)]));
  const out: Record<string, unknown> = {
    results: Object.fromEntries(results.map((r) => {
      const m: Record<string, unknown> = { name: r.task.name, alias: r.task.name, sample_len: r.effective };
      for (const a of r.aggregates) {
        m[`${a.metric},none`] = a.value;
        m[`${a.metric}_stderr,none`] = a.stderr;
      }
      return [r.task.name, m];
    })),
    group_subtasks: {},
    configs: byName((r) => dumpConfig(r.task, r.numFewshot)),
    versions: byName((r) => r.task.version),
    'n-shot': byName((r) => r.numFewshot),
    higher_is_better: byName((r) => Object.fromEntries(r.aggregates.map((a) => [a.metric, HIGHER_IS_BETTER[a.metric]]))),
    'n-samples': Object.fromEntries(results.map((r) => [r.task.name, { original: r.original, effective: r.effective }])),
    config: {
      model: info.model, model_args: null, batch_size: info.batchSize, batch_sizes: [], device: 'cpu', use_cache: null, limit: info.limit ?? null,
      bootstrap_iters: info.bootstrapIters, gen_kwargs: null, random_seed: 0, numpy_seed: 1234, torch_seed: 1234, fewshot_seed: 1234,
    },
    date: info.date,
    linscope: {
      protocol: `lm-evaluation-harness ${HARNESS_VERSION} (commit ${HARNESS_COMMIT}) task definitions, re-implemented`,
      max_length: info.maxLength,
      datasets_dir: info.datasetsDir,
      chance: Object.fromEntries(results.map((r) => [r.task.name, Object.fromEntries(r.aggregates.map((a) => [a.metric, chanceLevel(r, a.metric) ?? null]))])),
      scoring: Object.fromEntries(results.map((r) => [r.task.name, r.scoring])),
    },
  };
  return out;
}

/** One samples_<task>.jsonl line per document. */
export function sampleLines(r: TaskResult): string[] {
  return r.samples.map((s) => {
    const dr = s.docRequests;
    const pairs = s.responses.map((x) => [pyFloat(x.logLikelihood), x.isGreedy ? 'True' : 'False']);
    const target = typeof dr.target === 'number' ? String(dr.target) : dr.target;
    const rec: Record<string, unknown> = {
      doc_id: dr.docId,
      doc: dr.doc,
      target,
      arguments: Object.fromEntries(dr.requests.map((q, i) => [`gen_args_${i}`, { arg_0: q.context, arg_1: q.continuation }])),
      resps: pairs.map((p) => [p]),
      filtered_resps: pairs,
      filter: 'none',
      metrics: Object.keys(s.metrics),
      doc_hash: sha256(JSON.stringify(dr.doc, null, 2)),
      prompt_hash: sha256(dr.requests[0].context),
      target_hash: sha256(target),
      ...s.metrics,
    };
    return JSON.stringify(rec);
  });
}

const fmt = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(4));

/** The harness's make_table, with a chance column. */
export function resultsTable(results: readonly TaskResult[]): string {
  const header = ['Tasks', 'Version', 'Filter', 'n-shot', 'Metric', '', 'Value', '', 'Stderr', 'Chance'];
  const rows: string[][] = [];
  for (const r of results) {
    r.aggregates.forEach((a, i) => {
      rows.push([
        i === 0 ? r.task.name : '', i === 0 ? String(r.task.version) : '', i === 0 ? 'none' : '', i === 0 ? String(r.numFewshot) : '',
        a.metric, HIGHER_IS_BETTER[a.metric] ? '↑' : '↓', a.value.toFixed(4), '±', a.stderr === 'N/A' ? 'N/A' : a.stderr.toFixed(4), fmt(chanceLevel(r, a.metric)),
      ]);
    });
  }
  const right = new Set([1, 3, 6, 8, 9]);
  const widths = header.map((h, c) => Math.max(pyLen(h), ...rows.map((row) => pyLen(row[c]))));
  const line = (cells: string[]) => '|' + cells.map((s, c) => (right.has(c) ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join('|') + '|';
  const rule = '|' + widths.map((w, c) => (right.has(c) ? '-'.repeat(Math.max(1, w - 1)) + ':' : '-'.repeat(w))).join('|') + '|';
  return [line(header), rule, ...rows.map(line)].join('\n');
}
