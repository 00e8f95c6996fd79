/**
 * Prompts and requests of a task, as lm-evaluation-harness builds them (lm_eval/api/task.py
 * ConfigurableTask.fewshot_context / build_qa_turn / multiple_input_context / construct_requests,
 * lm_eval/api/samplers.py ContextSampler; harness commit 4e7e0d47):
 *
 * - few-shot examples: one `random.Random(1234)` per task, drawn in document order (only the
 *   evaluated, --limit-ed documents advance it): `sample(pool, n)`, or — when the YAML has no
 *   test_split — `sample(pool, n + 1)` minus the evaluated doc, first n;
 * - an example reads  text + " " + answer + "\n\n"  (answer = choices[target] for an index target,
 *   else the target string); winogrande's example text is the correct option's context;
 * - the context is  examples + text;  multiple_choice requests are (context, " " + choice) per
 *   choice; winogrande's are (context_i, " " + target) per option; loglikelihood's is
 *   (context, target).
 */
import { PythonRandom } from './python-random.ts';
import { FEWSHOT_DELIMITER, TARGET_DELIMITER, type Doc, type TaskDefinition } from './task.ts';

export const FEWSHOT_SEED = 1234;

export interface Request {
  context: string;
  continuation: string;
}

export interface DocRequests {
  docId: number;
  doc: Doc;
  requests: Request[];
  /** Gold index (multiple choice) or -100 when the target is not among the choices. */
  gold: number;
  /** Choice texts (multiple choice), for acc_norm's lengths. */
  choices: string[];
  /** doc_to_target as the harness logs it. */
  target: string | number;
}

/** Deep equality of two documents (Python's dict ==). */
export function sameDoc(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameDoc((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function isMultipleInput(task: TaskDefinition, doc: Doc): boolean {
  return typeof task.docToText(doc) === 'number';
}

/** The text of one few-shot example, including the delimiter that follows it. */
export function fewshotExample(task: TaskDefinition, doc: Doc): string {
  const q = task.docToText(doc);
  const a = task.docToTarget(doc);
  if (typeof q === 'number') {
    const contexts = task.docToChoice!(doc);
    return contexts[q] + TARGET_DELIMITER + String(a) + FEWSHOT_DELIMITER;
  }
  const choices = task.docToChoice?.(doc);
  const answer = choices && typeof a === 'number' ? choices[a] : a;
  if (typeof answer !== 'string') throw new Error(`${task.name}: few-shot answer index ${String(a)} is out of range`);
  return q + TARGET_DELIMITER + answer + FEWSHOT_DELIMITER;
}

export interface BuildOptions {
  numFewshot: number;
  /** The few-shot pool (required when numFewshot > 0). */
  fewshotPool?: Doc[];
  seed?: number;
}

/** Requests of the given documents (already limited), in order. */
export function buildRequests(task: TaskDefinition, docs: readonly Doc[], opts: BuildOptions): DocRequests[] {
  const rnd = new PythonRandom(opts.seed ?? FEWSHOT_SEED);
  const n = opts.numFewshot;
  if (n > 0 && !opts.fewshotPool) throw new Error(`${task.name}: no few-shot pool`);
  return docs.map((doc, docId) => {
    let prefix = '';
    if (n > 0) {
      const pool = opts.fewshotPool!;
      const need = task.fewshotExcludesEvalDoc ? n + 1 : n;
      if (need > pool.length) throw new Error(`${task.name}: --num-fewshot ${n} needs ${need} examples but the few-shot split has ${pool.length}`);
      let shots = rnd.sample(pool, need);
      if (task.fewshotExcludesEvalDoc) shots = shots.filter((x) => !sameDoc(x, doc)).slice(0, n);
      prefix = shots.map((s) => fewshotExample(task, s)).join('');
    }
    const text = task.docToText(doc);
    const target = task.docToTarget(doc);
    if (task.outputType === 'loglikelihood') {
      if (typeof text !== 'string' || typeof target !== 'string') throw new Error(`${task.name}: loglikelihood task needs string text and target`);
      return { docId, doc, requests: [{ context: prefix + text, continuation: target }], gold: -100, choices: [], target };
    }
    const choices = task.docToChoice!(doc);
    if (isMultipleInput(task, doc)) {
      const gold = text as number;
      return {
        docId, doc, target, choices,
        requests: choices.map((c) => ({ context: prefix + c, continuation: TARGET_DELIMITER + String(target) })),
        gold: gold < choices.length ? gold : -100,
      };
    }
    let gold = typeof target === 'number' ? target : choices.indexOf(target);
    if (gold < 0 || gold >= choices.length) gold = -100;
    return {
      docId, doc, target, choices,
      requests: choices.map((c) => ({ context: prefix + (text as string), continuation: TARGET_DELIMITER + c })),
      gold,
    };
  });
}
