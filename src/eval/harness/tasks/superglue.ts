/**
 * SuperGLUE tasks as the harness defines them (lm_eval/tasks/super_glue/<task>/default.yaml,
 * copa/utils.py, cb/aggregate.py; GLUE's RTE: lm_eval/tasks/glue/rte/default.yaml), harness commit
 * 4e7e0d47. Data: the official SuperGLUE v2 jsonl files, turned into the HF `super_glue` docs
 * (string labels → class indices in HF's label order, booleans → 0/1, MultiRC flattened to one
 * doc per answer). None of these YAMLs names a test split, so the few-shot sampler skips the
 * evaluated doc (it draws n + 1 from the train split and drops the doc if present).
 *
 *   boolq    "{{passage}}\nQuestion: {{question}}?\nAnswer:"            ["no", "yes"]             acc          v2.0
 *   cb       "{{premise}}\nQuestion: {{hypothesis}}. True, False, or Neither?\nAnswer:"
 *                                                                       ['True','False','Neither'] acc, f1 (macro over 3 classes)  v1.0
 *   copa     premise without its final period + " because"/" therefore"; choices " " + lower-cased first letter
 *                                                                                                  acc          v1.0
 *   rte      (GLUE) "{{sentence1}}\nQuestion: {{sentence2}} True or False?\nAnswer:"  ["True","False"]  acc  v1.0
 *   sglue_rte (SuperGLUE) same text from premise/hypothesis                                         acc          v0.0
 *   wic      "Sentence 1: {{sentence1}}\nSentence 2: {{sentence2}}\nQuestion: Is the word '{{sentence1[start1:end1]}}'
 *            used in the same way in the two sentences above?\nAnswer:"  ['no','yes']             acc          v1.0
 *   multirc  "{{paragraph}}\nQuestion: {{question}}\nAnswer:"; choices "{{answer}}\nIs the answer correct? yes" / "… no";
 *            target = label (so the correct choice is "… no" when label = 1: the harness's own order, kept)
 *                                                                                                  acc          v2.0
 *
 * GLUE's RTE and SuperGLUE's RTE are the same sentence pairs (SuperGLUE reuses the GLUE data);
 * `rte` here reads the shipped SuperGLUE files under GLUE's field names, in their order.
 */
import { readJsonl } from '../data.ts';
import { int, str, type Doc, type SplitData, type TaskDefinition } from '../task.ts';

const sg = (name: string) => `lm_eval/tasks/super_glue/${name}/default.yaml`;
const accOnly = [{ metric: 'acc' }];

function labelIndex(classes: readonly string[], v: unknown, task: string): number {
  const i = typeof v === 'string' ? classes.indexOf(v) : -1;
  if (i < 0) throw new Error(`${task}: unknown label ${JSON.stringify(v)} (expected one of ${classes.join(', ')})`);
  return i;
}

function boolLabel(v: unknown, task: string): number {
  if (typeof v !== 'boolean' && v !== 0 && v !== 1) throw new Error(`${task}: label must be a boolean, got ${JSON.stringify(v)}`);
  return v ? 1 : 0;
}

function splits(folder: string, toDoc: (r: Record<string, unknown>) => Doc | Doc[]) {
  const load = (dir: string, file: string, split: string): SplitData => ({ split, docs: readJsonl(dir, `superglue/${folder}/${file}`).flatMap((r): Doc[] => { const d = toDoc(r); return Array.isArray(d) ? d : [d]; }) });
  return {
    evalDocs: (dir: string) => load(dir, 'val.jsonl', 'validation'),
    fewshotDocs: (dir: string) => load(dir, 'train.jsonl', 'train'),
  };
}

export const boolq: TaskDefinition = {
  name: 'boolq',
  version: 2.0,
  outputType: 'multiple_choice',
  yaml: sg('boolq'),
  yamlConfig: {
    task: 'boolq', tag: ['super-glue-lm-eval-v1'], dataset_path: 'aps/super_glue', dataset_name: 'boolq', output_type: 'multiple_choice',
    training_split: 'train', validation_split: 'validation', doc_to_text: '{{passage}}\nQuestion: {{question}}?\nAnswer:', doc_to_target: 'label',
    doc_to_choice: ['no', 'yes'], should_decontaminate: true, doc_to_decontamination_query: 'passage', metric_list: accOnly, metadata: { version: 2.0 },
  },
  files: ['superglue/BoolQ/val.jsonl'],
  evalDocs: (dir) => ({
    split: 'validation',
    docs: readJsonl(dir, 'superglue/BoolQ/val.jsonl').map((r) => ({ question: r.question, passage: r.passage, idx: r.idx, label: boolLabel(r.label, 'boolq') })),
  }),
  fewshotDocs: () => ({ missing: 'boolq: the harness draws few-shot examples from the train split, which is not shipped (BoolQ train is above the data snapshot size cap); only --num-fewshot 0 is exact' }),
  fewshotExcludesEvalDoc: true,
  docToText: (doc) => `${str(doc, 'passage')}\nQuestion: ${str(doc, 'question')}?\nAnswer:`,
  docToTarget: (doc) => int(doc, 'label'),
  docToChoice: () => ['no', 'yes'],
  metrics: ['acc'],
};

const CB_CLASSES = ['entailment', 'contradiction', 'neutral'];
export const cb: TaskDefinition = {
  name: 'cb',
  version: 1.0,
  outputType: 'multiple_choice',
  yaml: sg('cb'),
  yamlConfig: {
    task: 'cb', tag: ['super-glue-lm-eval-v1'], dataset_path: 'aps/super_glue', dataset_name: 'cb', output_type: 'multiple_choice',
    training_split: 'train', validation_split: 'validation',
    doc_to_text: '{{premise}}\nQuestion: {{hypothesis}}. True, False, or Neither?\nAnswer:', doc_to_target: 'label',
    doc_to_choice: ['True', 'False', 'Neither'], metric_list: [{ metric: 'acc' }, { metric: 'f1', aggregation: 'aggregate.cb_multi_fi' }], metadata: { version: 1.0 },
  },
  files: ['superglue/CB/val.jsonl', 'superglue/CB/train.jsonl'],
  ...splits('CB', (r) => ({ premise: r.premise, hypothesis: r.hypothesis, idx: r.idx, label: labelIndex(CB_CLASSES, r.label, 'cb') })),
  fewshotExcludesEvalDoc: true,
  docToText: (doc) => `${str(doc, 'premise')}\nQuestion: ${str(doc, 'hypothesis')}. True, False, or Neither?\nAnswer:`,
  docToTarget: (doc) => int(doc, 'label'),
  docToChoice: () => ['True', 'False', 'Neither'],
  metrics: ['acc', 'f1'],
};

/** copa/utils.py convert_choice: lower-case the first character. */
function convertChoice(choice: string): string {
  return choice.slice(0, 1).toLowerCase() + choice.slice(1);
}

export const copa: TaskDefinition = {
  name: 'copa',
  version: 1.0,
  outputType: 'multiple_choice',
  yaml: sg('copa'),
  yamlConfig: {
    task: 'copa', tag: ['super-glue-lm-eval-v1'], dataset_path: 'aps/super_glue', dataset_name: 'copa', output_type: 'multiple_choice',
    training_split: 'train', validation_split: 'validation', doc_to_text: 'utils.doc_to_text', doc_to_target: 'utils.doc_to_target',
    doc_to_choice: 'utils.doc_to_choice', metric_list: accOnly, metadata: { version: 1.0 },
  },
  files: ['superglue/COPA/val.jsonl', 'superglue/COPA/train.jsonl'],
  ...splits('COPA', (r) => ({ premise: r.premise, choice1: r.choice1, choice2: r.choice2, question: r.question, idx: r.idx, label: r.label })),
  fewshotExcludesEvalDoc: true,
  docToText: (doc) => {
    const q = str(doc, 'question');
    const connector = q === 'cause' ? 'because' : q === 'effect' ? 'therefore' : undefined;
    if (!connector) throw new Error(`copa: question must be "cause" or "effect", got ${JSON.stringify(q)}`);
    return str(doc, 'premise').trim().slice(0, -1) + ` ${connector}`;
  },
  // utils.doc_to_target returns the correct choice as a string; the harness finds its index among the choices.
  docToTarget: (doc) => ' ' + convertChoice(int(doc, 'label') === 0 ? str(doc, 'choice1') : str(doc, 'choice2')),
  docToChoice: (doc) => [' ' + convertChoice(str(doc, 'choice1')), ' ' + convertChoice(str(doc, 'choice2'))],
  metrics: ['acc'],
};

const RTE_CLASSES = ['entailment', 'not_entailment'];
export const rte: TaskDefinition = {
  name: 'rte',
  version: 1.0,
  outputType: 'multiple_choice',
  yaml: 'lm_eval/tasks/glue/rte/default.yaml',
  yamlConfig: {
    task: 'rte', tag: 'glue', dataset_path: 'nyu-mll/glue', dataset_name: 'rte', output_type: 'multiple_choice', training_split: 'train',
    validation_split: 'validation', doc_to_text: '{{sentence1}}\nQuestion: {{sentence2}} True or False?\nAnswer:', doc_to_target: 'label',
    doc_to_choice: ['True', 'False'], metric_list: accOnly, metadata: { version: 1.0 },
  },
  files: ['superglue/RTE/val.jsonl', 'superglue/RTE/train.jsonl'],
  ...splits('RTE', (r) => ({ sentence1: r.premise, sentence2: r.hypothesis, label: labelIndex(RTE_CLASSES, r.label, 'rte'), idx: r.idx })),
  fewshotExcludesEvalDoc: true,
  docToText: (doc) => `${str(doc, 'sentence1')}\nQuestion: ${str(doc, 'sentence2')} True or False?\nAnswer:`,
  docToTarget: (doc) => int(doc, 'label'),
  docToChoice: () => ['True', 'False'],
  metrics: ['acc'],
};

export const sglueRte: TaskDefinition = {
  name: 'sglue_rte',
  version: 0.0,
  outputType: 'multiple_choice',
  yaml: sg('rte'),
  yamlConfig: {
    task: 'sglue_rte', tag: ['super-glue-lm-eval-v1'], dataset_path: 'aps/super_glue', dataset_name: 'rte', output_type: 'multiple_choice',
    training_split: 'train', validation_split: 'validation', doc_to_text: '{{premise}}\nQuestion: {{hypothesis}} True or False?\nAnswer:',
    doc_to_target: 'label', doc_to_choice: ['True', 'False'], metric_list: accOnly, metadata: { version: 0.0 },
  },
  files: ['superglue/RTE/val.jsonl', 'superglue/RTE/train.jsonl'],
  ...splits('RTE', (r) => ({ premise: r.premise, hypothesis: r.hypothesis, idx: r.idx, label: labelIndex(RTE_CLASSES, r.label, 'sglue_rte') })),
  fewshotExcludesEvalDoc: true,
  docToText: (doc) => `${str(doc, 'premise')}\nQuestion: ${str(doc, 'hypothesis')} True or False?\nAnswer:`,
  docToTarget: (doc) => int(doc, 'label'),
  docToChoice: () => ['True', 'False'],
  metrics: ['acc'],
};

/** Python slicing s[a:b] counts code points, not UTF-16 units. */
function pySlice(s: string, a: number, b: number): string {
  return Array.from(s).slice(a, b).join('');
}

export const wic: TaskDefinition = {
  name: 'wic',
  version: 1.0,
  outputType: 'multiple_choice',
  yaml: sg('wic'),
  yamlConfig: {
    task: 'wic', tag: ['super-glue-lm-eval-v1'], dataset_path: 'aps/super_glue', dataset_name: 'wic', output_type: 'multiple_choice',
    training_split: 'train', validation_split: 'validation',
    doc_to_text: "Sentence 1: {{sentence1}}\nSentence 2: {{sentence2}}\nQuestion: Is the word '{{sentence1[start1:end1]}}' used in the same way in the two sentences above?\nAnswer:",
    doc_to_target: 'label', doc_to_choice: ['no', 'yes'], metric_list: accOnly, metadata: { version: 1.0 },
  },
  files: ['superglue/WiC/val.jsonl', 'superglue/WiC/train.jsonl'],
  ...splits('WiC', (r) => ({
    word: r.word, sentence1: r.sentence1, sentence2: r.sentence2, start1: r.start1, start2: r.start2, end1: r.end1, end2: r.end2, idx: r.idx,
    label: boolLabel(r.label, 'wic'),
  })),
  fewshotExcludesEvalDoc: true,
  docToText: (doc) =>
    `Sentence 1: ${str(doc, 'sentence1')}\nSentence 2: ${str(doc, 'sentence2')}\nQuestion: Is the word '${pySlice(str(doc, 'sentence1'), int(doc, 'start1'), int(doc, 'end1'))}' used in the same way in the two sentences above?\nAnswer:`,
  docToTarget: (doc) => int(doc, 'label'),
  docToChoice: () => ['no', 'yes'],
  metrics: ['acc'],
};

interface MultiRCRecord {
  idx: number;
  passage: { text: string; questions: { question: string; idx: number; answers: { text: string; idx: number; label: number }[] }[] };
}

/** HF super_glue's MultiRC generator: one doc per (paragraph, question, answer), in file order. */
function multircDocs(r: Record<string, unknown>): Doc[] {
  const rec = r as unknown as MultiRCRecord;
  const out: Doc[] = [];
  for (const q of rec.passage.questions) {
    for (const a of q.answers) {
      out.push({
        paragraph: rec.passage.text, question: q.question, answer: a.text,
        idx: { paragraph: rec.idx, question: q.idx, answer: a.idx }, label: boolLabel(a.label, 'multirc'),
      });
    }
  }
  return out;
}

export const multirc: TaskDefinition = {
  name: 'multirc',
  version: 2.0,
  outputType: 'multiple_choice',
  yaml: sg('multirc'),
  yamlConfig: {
    task: 'multirc', tag: ['super-glue-lm-eval-v1'], dataset_path: 'aps/super_glue', dataset_name: 'multirc', output_type: 'multiple_choice',
    training_split: 'train', validation_split: 'validation', doc_to_text: '{{paragraph}}\nQuestion: {{question}}\nAnswer:', doc_to_target: 'label',
    doc_to_choice: "['''{{answer}}\\nIs the answer correct? yes''', '''{{answer}}\\nIs the answer correct? no''']", metric_list: accOnly, metadata: { version: 2.0 },
  },
  files: ['superglue/MultiRC/val.jsonl', 'superglue/MultiRC/train.jsonl'],
  ...splits('MultiRC', multircDocs),
  fewshotExcludesEvalDoc: true,
  docToText: (doc) => `${str(doc, 'paragraph')}\nQuestion: ${str(doc, 'question')}\nAnswer:`,
  docToTarget: (doc) => int(doc, 'label'),
  docToChoice: (doc) => [`${str(doc, 'answer')}\nIs the answer correct? yes`, `${str(doc, 'answer')}\nIs the answer correct? no`],
  metrics: ['acc'],
};
