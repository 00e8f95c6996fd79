/**
 * What one benchmark task is, in lm-evaluation-harness's terms (lm_eval/api/task.py,
 * ConfigurableTask, at EleutherAI/lm-evaluation-harness 0.4.13.dev0, commit
 * 4e7e0d47f33bc71070c1d38394bafbb52b117163): documents in the Hugging Face dataset's field layout,
 * `doc_to_text`, `doc_to_target`, `doc_to_choice`, the output type, the metrics, and which splits
 * the harness evaluates on and draws few-shot examples from.
 *
 * Each task file under tasks/ transcribes one YAML (+ utils.py) of lm_eval/tasks/<task>/ into these
 * functions; the harness's Jinja templates become plain string code with the same output.
 */

/** One document, with the field names of the Hugging Face dataset the harness loads. */
export type Doc = Record<string, unknown>;

export type OutputType = 'multiple_choice' | 'loglikelihood';

/** Metrics the harness computes for these tasks (lm_eval/api/metrics.py and the tasks' own). */
export type MetricName = 'acc' | 'acc_norm' | 'f1' | 'perplexity';

/** Documents of one split, read from the shipped official files. */
export interface SplitData {
  /** The harness's split name (train / validation / test). */
  split: string;
  docs: Doc[];
}

export interface TaskDefinition {
  /** Task name as the harness spells it. */
  name: string;
  /** `metadata.version` of the YAML. */
  version: number;
  outputType: OutputType;
  /** Where the YAML lives in the harness repository (for the record). */
  yaml: string;
  /** The YAML's own fields, as the harness dumps them into `configs` (templates as written). */
  yamlConfig: Record<string, unknown>;
  /** Files (relative to the datasets folder) this task reads. */
  files: string[];
  /** The evaluated split (the harness evaluates on test when the YAML names one, else validation). */
  evalDocs(datasetsDir: string): SplitData;
  /**
   * The split the harness samples few-shot examples from (training, else validation, else test),
   * or an explanation of why it is not available here.
   */
  fewshotDocs(datasetsDir: string): SplitData | { missing: string };
  /**
   * The harness passes the evaluated document to the sampler (which then draws n+1 and drops it)
   * exactly when the YAML has no `test_split` (fewshot_split None == test_split None).
   */
  fewshotExcludesEvalDoc: boolean;
  /** `num_fewshot` fixed in the YAML (truthfulqa: 0; a command-line value is then ignored). */
  fixedNumFewshot?: number;
  /** `doc_to_text`: the prompt, or (winogrande) the index of the correct input. */
  docToText(doc: Doc): string | number;
  /** `doc_to_target`: an index into the choices, or a string. */
  docToTarget(doc: Doc): string | number;
  /** `doc_to_choice` (multiple_choice tasks). */
  docToChoice?(doc: Doc): string[];
  /** Metrics in the order of the YAML's metric_list. */
  metrics: MetricName[];
  /** A `process_results` of the task's own (truthfulqa_mc2): per-doc metric values from the log-likelihoods. */
  processResults?(doc: Doc, logLikelihoods: number[]): Record<string, number>;
}

/** The harness target delimiter and few-shot delimiter (TaskConfig defaults; no task here overrides them). */
export const TARGET_DELIMITER = ' ';
export const FEWSHOT_DELIMITER = '\n\n';

/** Python's `str.strip()` whitespace set is Unicode whitespace; JavaScript's trim() agrees for text. */
export function pyStrip(s: string): string {
  return s.trim();
}

/** A field that must be a string. */
export function str(doc: Doc, field: string): string {
  const v = doc[field];
  if (typeof v !== 'string') throw new Error(`document field "${field}" is not a string: ${JSON.stringify(v)?.slice(0, 80)}`);
  return v;
}

/** A field that must be an integer. */
export function int(doc: Doc, field: string): number {
  const v = doc[field];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`document field "${field}" is not an integer: ${JSON.stringify(v)?.slice(0, 80)}`);
  return v;
}
