/**
 * Fine-tuning data for the linearity paper's Table 1 tasks (BoolQ, CB, MultiRC), built from the
 * lm-evaluation-harness task definitions linscope evaluates with (src/eval/harness/tasks/superglue.ts,
 * one definition of each prompt): an example's prompt is the task's `doc_to_text`, its answer the
 * target delimiter " " + the gold choice, and its label set every " " + choice — so the loss is
 * taken on the answer tokens and accuracy is the harness's `acc` (the highest-likelihood choice).
 *
 * Splits: CB and MultiRC train on the shipped SuperGLUE training file and hold out the validation
 * file. BoolQ's training file is not shipped (SOURCES.md: above the snapshot cap), so its validation
 * file (3,270 questions) is split by a seeded shuffle (seed SPLIT_SEED, independent of the training
 * seed): the first 20% are held out, the rest are the training pool. Subsets of a pool (trainExamples,
 * evalExamples) are the first n of the pool after the same seeded shuffle, so every training seed is
 * scored on the same held-out examples.
 */
import { boolq, cb, multirc } from '../eval/harness/tasks/superglue.ts';
import { TARGET_DELIMITER, type Doc, type TaskDefinition } from '../eval/harness/task.ts';
import { Rng } from '../tensor/random.ts';
import type { SftExample } from './finetune-tasks.ts';

/** The seed of every data split and subset of these tasks (not the training seed). */
export const SPLIT_SEED = 1234;
/** Share of a validation-only set held out for evaluation. */
export const HOLDOUT_FRACTION = 0.2;

export const HARNESS_FINETUNE_TASKS = { boolq, cb, multirc } as const;
export type HarnessFinetuneTask = keyof typeof HARNESS_FINETUNE_TASKS;

/** A harness document as a classification example (prompt, gold answer, every answer). */
export function harnessExample(task: TaskDefinition, doc: Doc): SftExample {
  const text = task.docToText(doc);
  const target = task.docToTarget(doc);
  const choices = task.docToChoice?.(doc);
  if (typeof text !== 'string' || typeof target !== 'number' || !choices || !(target >= 0 && target < choices.length)) {
    throw new Error(`${task.name}: only multiple-choice tasks with a text prompt and an index target can be fine-tuned as classification`);
  }
  const labels = choices.map((c) => TARGET_DELIMITER + c);
  return { prompt: text, answer: labels[target], choices: labels };
}

/** A seeded shuffle of a copy (Fisher–Yates with the project's Rng). */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  return new Rng(seed).shuffle([...items]);
}

/** A validation-only set split in two: held out (first ⌈fraction·n⌉ after the shuffle) and training pool. */
export function seededHoldout<T>(items: readonly T[], seed = SPLIT_SEED, fraction = HOLDOUT_FRACTION): { train: T[]; eval: T[] } {
  const shuffled = seededShuffle(items, seed);
  const e = Math.ceil(items.length * fraction);
  return { eval: shuffled.slice(0, e), train: shuffled.slice(e) };
}

export interface HarnessTaskData {
  train: SftExample[];
  eval: SftExample[];
  description: string;
}

export function harnessFinetuneData(name: HarnessFinetuneTask, datasetsDir: string, trainExamples: number, evalExamples: number): HarnessTaskData {
  const task = HARNESS_FINETUNE_TASKS[name];
  const val = task.evalDocs(datasetsDir).docs;
  let trainDocs: Doc[], evalDocs: Doc[], how: string;
  if (name === 'boolq') {
    const split = seededHoldout(val);
    trainDocs = split.train;
    evalDocs = split.eval;
    how = `BoolQ ships its validation split only: seeded split (seed ${SPLIT_SEED}) of its ${val.length} questions, ${evalDocs.length} held out, ${trainDocs.length} to train on`;
  } else {
    const fs = task.fewshotDocs(datasetsDir);
    if ('missing' in fs) throw new Error(fs.missing);
    trainDocs = seededShuffle(fs.docs, SPLIT_SEED);
    evalDocs = seededShuffle(val, SPLIT_SEED);
    how = `SuperGLUE ${name === 'cb' ? 'CB' : 'MultiRC'} train (${fs.docs.length}) → validation (${val.length}), seeded subsets (seed ${SPLIT_SEED})`;
  }
  const train = trainDocs.slice(0, trainExamples).map((d) => harnessExample(task, d));
  const evalSet = evalDocs.slice(0, evalExamples).map((d) => harnessExample(task, d));
  return {
    train, eval: evalSet,
    description: `${name}: the lm-evaluation-harness prompt (${task.yaml}) as classification among ${train[0]?.choices?.length ?? '?'} answers, loss on the answer tokens; ${how}; ${train.length} training / ${evalSet.length} held-out examples`,
  };
}
