/**
 * openbookqa: lm_eval/tasks/openbookqa/openbookqa.yaml, harness commit 4e7e0d47. Data: AI2's
 * OpenBookQA Main/test.jsonl (HF allenai/openbookqa main test split); the train split (few-shot
 * source) is not shipped.
 *
 *   doc_to_text:   question_stem            (the bare question, no "Question:" prefix)
 *   doc_to_target: "{{choices.label.index(answerKey.lstrip())}}"
 *   doc_to_choice: "{{choices.text}}"
 *   metrics: acc, acc_norm; version 1.0; test_split: test
 */
import { missingTrain, readJsonl } from '../data.ts';
import { str, type Doc, type TaskDefinition } from '../task.ts';

const FILE = 'openbookqa/test.jsonl';

function toDoc(r: Record<string, unknown>): Doc {
  const q = r.question as { stem: string; choices: { text: string; label: string }[] };
  return {
    id: r.id,
    question_stem: q.stem,
    choices: { text: q.choices.map((c) => c.text), label: q.choices.map((c) => c.label) },
    answerKey: r.answerKey,
  };
}

export const openbookqa: TaskDefinition = {
  name: 'openbookqa',
  version: 1.0,
  outputType: 'multiple_choice',
  yaml: 'lm_eval/tasks/openbookqa/openbookqa.yaml',
  yamlConfig: {
    task: 'openbookqa', dataset_path: 'allenai/openbookqa', dataset_name: 'main', output_type: 'multiple_choice',
    training_split: 'train', validation_split: 'validation', test_split: 'test',
    doc_to_text: 'question_stem', doc_to_target: '{{choices.label.index(answerKey.lstrip())}}', doc_to_choice: '{{choices.text}}',
    should_decontaminate: true, doc_to_decontamination_query: 'question_stem',
    metric_list: [{ metric: 'acc', aggregation: 'mean', higher_is_better: true }, { metric: 'acc_norm', aggregation: 'mean', higher_is_better: true }],
    metadata: { version: 1.0 },
  },
  files: [FILE],
  evalDocs: (dir) => ({ split: 'test', docs: readJsonl(dir, FILE).map(toDoc) }),
  fewshotDocs: () => missingTrain('openbookqa', 'train'),
  fewshotExcludesEvalDoc: false,
  docToText: (doc) => str(doc, 'question_stem'),
  docToTarget: (doc) => {
    const labels = (doc.choices as { label: string[] }).label;
    const key = str(doc, 'answerKey').replace(/^\s+/, '');
    const i = labels.indexOf(key);
    if (i < 0) throw new Error(`openbookqa ${String(doc.id)}: answerKey ${key} is not among the labels ${labels.join(',')}`);
    return i;
  },
  docToChoice: (doc) => (doc.choices as { text: string[] }).text,
  metrics: ['acc', 'acc_norm'],
};
