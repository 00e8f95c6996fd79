/**
 * Small supervised fine-tuning tasks built from the shipped data, each a list of (prompt, answer)
 * examples whose loss is taken on the answer tokens only:
 *
 * - `source-id`: text classification — a passage from one of the four shipped corpora, then
 *   "\nSource:" and the label (" story", " play", " novel", " encyclopedia"); scored by picking the
 *   label with the highest likelihood among the four.
 * - `cloze`: TinyStories name completion (src/data/cloze): the story up to a character's name
 *   mention, answer the name.
 * - `pararel`: ParaRel fact completion as instructions: "Complete the fact: <prompt>" → " <object>".
 * - `boolq`, `cb`, `multirc`: the linearity paper's Table 1 tasks, with the lm-evaluation-harness
 *   prompts and answers (harness-finetune-data.ts), scored like the harness's `acc`.
 * - `reward-hh`: pairwise reward modelling on HH-RLHF helpful-base — not prompt/answer examples; its
 *   data and loss are in reward-data.ts and reward-model.ts (finetune.ts runs it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTinyStoriesCloze } from '../data/cloze.ts';
import { loadParaRel } from '../data/pararel.ts';
import { Rng } from '../tensor/random.ts';
import { harnessFinetuneData } from './harness-finetune-data.ts';
import { datasetsDir } from './shipped-data.ts';

export const FINETUNE_TASKS = ['source-id', 'cloze', 'pararel', 'boolq', 'cb', 'multirc', 'reward-hh'] as const;
export type FinetuneTask = (typeof FINETUNE_TASKS)[number];

export interface SftExample {
  prompt: string;
  /** With its leading space. */
  answer: string;
  /** For classification tasks: every label the answer is chosen from. */
  choices?: readonly string[];
}

export interface TaskData {
  task: FinetuneTask;
  train: SftExample[];
  eval: SftExample[];
  description: string;
}

export interface TaskOptions {
  /** Examples in the training split (default 2000) and the evaluation split (default 200). */
  trainExamples?: number;
  evalExamples?: number;
  seed?: number;
  /** Longest passage/prompt in characters (default 400). */
  maxPromptChars?: number;
  /** Datasets folder (default: ../shared/data/datasets). */
  datasetsDir?: string;
}

const SOURCE_LABELS: { label: string; file: string[]; }[] = [
  { label: ' story', file: ['tinystories-valid-subset', 'tinystories_val.txt'] },
  { label: ' play', file: ['tinyshakespeare', 'input.txt'] },
  { label: ' novel', file: ['war-and-peace', 'war-and-peace.txt'] },
  { label: ' encyclopedia', file: ['wikitext-2', 'valid.txt'] },
];

/** Passages of one corpus: blank-line paragraphs of 80+ characters, cut to `maxChars` at a word boundary. */
function passages(text: string, maxChars: number): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p.length >= 80 && !p.startsWith('='))
    .map((p) => (p.length <= maxChars ? p : p.slice(0, p.lastIndexOf(' ', maxChars))));
}

/** Splits a shuffled list into train/eval parts of the requested sizes. */
function splitExamples<T>(items: T[], rng: Rng, train: number, evalCount: number): { train: T[]; eval: T[] } {
  rng.shuffle(items);
  const e = Math.min(evalCount, Math.floor(items.length / 5));
  return { eval: items.slice(0, e), train: items.slice(e, e + train) };
}

async function sourceId(o: Required<TaskOptions>): Promise<TaskData> {
  const rng = new Rng(o.seed);
  const labels = SOURCE_LABELS.map((s) => s.label);
  const perClass = SOURCE_LABELS.map((s) => {
    const text = readFileSync(join(datasetsDir(), ...s.file), 'utf8');
    return passages(text, o.maxPromptChars).map((p) => ({ prompt: `${p}\nSource:`, answer: s.label, choices: labels }));
  });
  // balanced: the same number of train and eval examples from every class
  const parts = perClass.map((items) => splitExamples(items, rng, Math.ceil(o.trainExamples / 4), Math.ceil(o.evalExamples / 4)));
  const train = rng.shuffle(parts.flatMap((p) => p.train)).slice(0, o.trainExamples);
  const evalSet = parts.flatMap((p) => p.eval).slice(0, o.evalExamples);
  return { task: 'source-id', train, eval: evalSet, description: 'which corpus a passage comes from: story (TinyStories), play (Shakespeare), novel (War and Peace), encyclopedia (WikiText-2)' };
}

async function cloze(o: Required<TaskOptions>): Promise<TaskData> {
  const cases = await loadTinyStoriesCloze(join(datasetsDir(), 'tinystories-valid-subset', 'tinystories_val.txt'), { seed: o.seed, maxPromptChars: o.maxPromptChars });
  const items = cases.map((c) => ({ prompt: c.prompt, answer: c.answer }));
  const { train, eval: evalSet } = splitExamples(items, new Rng(o.seed), o.trainExamples, o.evalExamples);
  return { task: 'cloze', train, eval: evalSet, description: 'TinyStories name completion (story prefix → the next mention of a character)' };
}

async function pararel(o: Required<TaskOptions>): Promise<TaskData> {
  const facts = await loadParaRel(join(datasetsDir(), 'pararel-trex'));
  const items = facts.map((f) => ({ prompt: `Complete the fact: ${f.prompt}`, answer: f.answer }));
  const { train, eval: evalSet } = splitExamples(items, new Rng(o.seed), o.trainExamples, o.evalExamples);
  return { task: 'pararel', train, eval: evalSet, description: 'ParaRel (T-REx) fact completion, phrased as an instruction' };
}

/** Builds the train/eval examples of a task from the shipped data. */
export async function buildTask(task: FinetuneTask, opts: TaskOptions = {}): Promise<TaskData> {
  const o: Required<TaskOptions> = { trainExamples: 2000, evalExamples: 200, seed: 0, maxPromptChars: 400, datasetsDir: datasetsDir(), ...opts };
  switch (task) {
    case 'boolq':
    case 'cb':
    case 'multirc':
      return { task, ...harnessFinetuneData(task, o.datasetsDir, o.trainExamples, o.evalExamples) };
    case 'reward-hh':
      throw new Error('reward-hh is pairwise reward modelling, not prompt/answer examples (see reward-data.ts)');
    case 'source-id':
      return sourceId(o);
    case 'cloze':
      return cloze(o);
    case 'pararel':
      return pararel(o);
    default:
      throw new Error(`unknown fine-tuning task "${task as string}" (choose ${FINETUNE_TASKS.join(', ')})`);
  }
}
