/**
 * piqa: lm_eval/tasks/piqa/piqa.yaml, harness commit 4e7e0d47. Data: the official PIQA dev.jsonl
 * with its labels in dev-labels.lst (HF baber/piqa validation split); the train split (few-shot
 * source) is not shipped.
 *
 *   doc_to_text:   "Question: {{goal}}\nAnswer:"
 *   doc_to_target: label
 *   doc_to_choice: "{{[sol1, sol2]}}"
 *   metrics: acc, acc_norm; version 1.0; test_split: null (few-shot sampling excludes the doc)
 */
import { missingTrain, readJsonl, readLines } from '../data.ts';
import { int, str, type TaskDefinition } from '../task.ts';

export const piqa: TaskDefinition = {
  name: 'piqa',
  version: 1.0,
  outputType: 'multiple_choice',
  yaml: 'lm_eval/tasks/piqa/piqa.yaml',
  yamlConfig: {
    task: 'piqa', dataset_path: 'baber/piqa', output_type: 'multiple_choice', training_split: 'train', validation_split: 'validation',
    doc_to_text: 'Question: {{goal}}\nAnswer:', doc_to_target: 'label', doc_to_choice: '{{[sol1, sol2]}}',
    should_decontaminate: true, doc_to_decontamination_query: 'goal',
    metric_list: [{ metric: 'acc', aggregation: 'mean', higher_is_better: true }, { metric: 'acc_norm', aggregation: 'mean', higher_is_better: true }],
    metadata: { version: 1.0 },
  },
  files: ['piqa/dev.jsonl', 'piqa/dev-labels.lst'],
  evalDocs: (dir) => {
    const rows = readJsonl(dir, 'piqa/dev.jsonl');
    const labels = readLines(dir, 'piqa/dev-labels.lst');
    if (labels.length !== rows.length) throw new Error(`piqa: dev.jsonl has ${rows.length} questions but dev-labels.lst ${labels.length} labels`);
    return { split: 'validation', docs: rows.map((r, i) => ({ goal: r.goal, sol1: r.sol1, sol2: r.sol2, label: Number(labels[i]) })) };
  },
  fewshotDocs: () => missingTrain('piqa', 'train'),
  fewshotExcludesEvalDoc: true,
  docToText: (doc) => `Question: ${str(doc, 'goal')}\nAnswer:`,
  docToTarget: (doc) => int(doc, 'label'),
  docToChoice: (doc) => [str(doc, 'sol1'), str(doc, 'sol2')],
  metrics: ['acc', 'acc_norm'],
};
