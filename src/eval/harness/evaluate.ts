/**
 * Evaluate one model on harness tasks: documents → requests → tokens → log-likelihoods (scored
 * with shared contexts, score.ts) → per-document metrics → aggregates with standard errors.
 * The orchestration of lm_eval/evaluator.py evaluate() (harness commit 4e7e0d47), one task at a
 * time.
 */
import { aggregate, firstArgmax, pyLen, type StderrValue } from './metrics.ts';
import { buildRequests, FEWSHOT_SEED, type DocRequests } from './requests.ts';
import { scoreRequests, scoreRequestsPlain, type CachedLM, type PlainLM, type ScoreResult, type ScoreStats } from './score.ts';
import type { Doc, TaskDefinition } from './task.ts';
import { encodeRequest, type HarnessTokenizer } from './tokenize.ts';

export interface EvalOptions {
  datasetsDir: string;
  /** --num-fewshot (undefined: the task's default, 0 here). */
  numFewshot?: number;
  /** --limit: a count, or a fraction of the documents when < 1 (harness get_sample_size). */
  limit?: number;
  batchSize: number;
  maxLength: number;
  padId: number;
  bootstrapIters: number;
  /** Evaluate these documents instead of the task's split (e.g. a validation share for LASER's search). */
  docs?: Doc[];
  /** 'cached' (default: shared contexts, KV cache) or 'plain' (one forward per request; models without a cache). */
  scoring?: 'cached' | 'plain';
  /** Called with (task, requests done, requests total). */
  onProgress?: (task: string, done: number, total: number) => void;
  /** Warnings (e.g. a --num-fewshot the task ignores). */
  warn?: (message: string) => void;
}

export interface SampleRecord {
  docRequests: DocRequests;
  /** (loglikelihood, is_greedy) per request, in request order. */
  responses: ScoreResult[];
  /** Per-document metric values (what process_results returns). */
  metrics: Record<string, unknown>;
}

export interface TaskResult {
  task: TaskDefinition;
  numFewshot: number;
  /** Number of documents of the evaluated split / evaluated. */
  original: number;
  effective: number;
  /** "acc" → {value, stderr}, in the harness's metric order. */
  aggregates: { metric: string; value: number; stderr: StderrValue }[];
  samples: SampleRecord[];
  scoring: ScoreStats & { seconds: number; tokenizeSeconds: number };
}

/** harness get_sample_size: a fraction < 1 takes ceil(n·limit) documents. */
export function sampleSize(n: number, limit: number | undefined): number {
  if (limit === undefined) return n;
  if (!(limit > 0)) throw new Error(`--limit must be positive, got ${limit}`);
  return Math.min(n, limit < 1 ? Math.ceil(n * limit) : Math.floor(limit));
}

/** The effective number of few-shot examples and its pool, or one clear error. */
function fewshotSetup(task: TaskDefinition, opts: EvalOptions) {
  let k = opts.numFewshot ?? 0;
  if (task.fixedNumFewshot !== undefined && opts.numFewshot !== undefined && opts.numFewshot !== task.fixedNumFewshot) {
    opts.warn?.(`${task.name}: num_fewshot is fixed to ${task.fixedNumFewshot} in its YAML; --num-fewshot ${opts.numFewshot} is ignored (as in the harness)`);
  }
  if (task.fixedNumFewshot !== undefined) k = task.fixedNumFewshot;
  if (k === 0) return { k, pool: undefined };
  const fs = task.fewshotDocs(opts.datasetsDir);
  if ('missing' in fs) throw new Error(fs.missing);
  return { k, pool: fs.docs };
}

/** process_results for one document. */
function processResults(task: TaskDefinition, dr: DocRequests, res: ScoreResult[]): Record<string, unknown> {
  const lls = res.map((r) => r.logLikelihood);
  if (task.processResults) return task.processResults(dr.doc, lls);
  if (task.outputType === 'loglikelihood') return { perplexity: lls[0], acc: res[0].isGreedy ? 1 : 0 };
  const pred = firstArgmax(lls);
  const predNorm = firstArgmax(lls.map((ll, i) => ll / pyLen(dr.choices[i])));
  const out: Record<string, unknown> = {};
  for (const m of ['acc', 'f1', 'acc_norm'] as const) {
    if (!task.metrics.includes(m)) continue;
    if (m === 'acc') out.acc = pred === dr.gold ? 1 : 0;
    if (m === 'f1') out.f1 = [dr.gold, pred];
    if (m === 'acc_norm') out.acc_norm = predNorm === dr.gold ? 1 : 0;
  }
  return out;
}

export function evaluateTask(model: CachedLM | PlainLM, tokenizer: HarnessTokenizer, task: TaskDefinition, opts: EvalOptions): TaskResult {
  const docs = opts.docs ?? task.evalDocs(opts.datasetsDir).docs;
  const n = sampleSize(docs.length, opts.limit);
  const { k, pool } = fewshotSetup(task, opts);
  const t0 = performance.now();
  const docRequests = buildRequests(task, docs.slice(0, n), { numFewshot: k, fewshotPool: pool, seed: FEWSHOT_SEED });
  for (const dr of docRequests) if (dr.gold === -100 && task.outputType === 'multiple_choice') opts.warn?.(`${task.name} doc ${dr.docId}: the label is not among the choices`);
  const flat = docRequests.flatMap((dr) => dr.requests);
  const encoded = flat.map((r) => encodeRequest(tokenizer, r.context, r.continuation));
  const docOf = docRequests.flatMap((dr) => dr.requests.map(() => dr.docId));
  encoded.forEach((e, i) => {
    if (e.continuation.length > opts.maxLength) {
      throw new Error(`${task.name} doc ${docOf[i]}: a continuation of ${e.continuation.length} tokens is longer than the model's maximum length ${opts.maxLength} (the harness refuses it too)`);
    }
  });
  const t1 = performance.now();
  const scoreOptions = {
    maxLength: opts.maxLength, batchSize: opts.batchSize, padId: opts.padId,
    onProgress: (done: number, total: number) => opts.onProgress?.(task.name, done, total),
  };
  const { results, stats } = opts.scoring === 'plain' ? scoreRequestsPlain(model, encoded, scoreOptions) : scoreRequests(model as CachedLM, encoded, scoreOptions);
  const t2 = performance.now();
  let at = 0;
  const samples: SampleRecord[] = docRequests.map((dr) => {
    const responses = results.slice(at, at + dr.requests.length);
    at += dr.requests.length;
    return { docRequests: dr, responses, metrics: processResults(task, dr, responses) };
  });
  const metricNames = Object.keys(samples[0]?.metrics ?? {});
  const aggregates = metricNames.map((metric) => ({ metric, ...aggregate(metric, samples.map((s) => s.metrics[metric]), opts.bootstrapIters) }));
  return {
    task, numFewshot: k, original: docs.length, effective: samples.length, aggregates, samples,
    scoring: { ...stats, seconds: (t2 - t1) / 1000, tokenizeSeconds: (t1 - t0) / 1000 },
  };
}
