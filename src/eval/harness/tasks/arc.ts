/**
 * arc_easy / arc_challenge: lm_eval/tasks/arc/arc_easy.yaml (+ arc_challenge.yaml, which only
 * changes the name and subset), harness commit 4e7e0d47. Data: AI2's ARC-{Easy,Challenge}-Test.jsonl
 * (HF allenai/ai2_arc test split); the train split (few-shot source) is not shipped.
 *
 *   doc_to_text:   "Question: {{question}}\nAnswer:"
 *   doc_to_target: "{{choices.label.index(answerKey)}}"
 *   doc_to_choice: "{{choices.text}}"
 *   metrics: acc, acc_norm; version 1.0; test_split: test
 */
import { missingTrain, readJsonl } from '../data.ts';
import { str, type Doc, type TaskDefinition } from '../task.ts';

/** AI2's record {id, question: {stem, choices: [{text, label}]}, answerKey} → HF ai2_arc's doc. */
function toDoc(r: Record<string, unknown>): Doc {
  const q = r.question as { stem: string; choices: { text: string; label: string }[] };
  return {
    id: r.id,
    question: q.stem,
    choices: { text: q.choices.map((c) => c.text), label: q.choices.map((c) => c.label) },
    answerKey: r.answerKey,
  };
}

function arc(name: 'arc_easy' | 'arc_challenge', subset: 'ARC-Easy' | 'ARC-Challenge'): TaskDefinition {
  const file = `arc/${subset}-Test.jsonl`;
  return {
    name,
    version: 1.0,
    outputType: 'multiple_choice',
    yaml: name === 'arc_easy' ? 'lm_eval/tasks/arc/arc_easy.yaml' : 'lm_eval/tasks/arc/arc_challenge.yaml',
    yamlConfig: {
      task: name, tag: ['ai2_arc'], dataset_path: 'allenai/ai2_arc', dataset_name: subset, output_type: 'multiple_choice',
      training_split: 'train', validation_split: 'validation', test_split: 'test',
      doc_to_text: 'Question: {{question}}\nAnswer:', doc_to_target: '{{choices.label.index(answerKey)}}', doc_to_choice: '{{choices.text}}',
      should_decontaminate: true, doc_to_decontamination_query: 'Question: {{question}}\nAnswer:',
      metric_list: [{ metric: 'acc', aggregation: 'mean', higher_is_better: true }, { metric: 'acc_norm', aggregation: 'mean', higher_is_better: true }],
      metadata: { version: 1.0 },
    },
    files: [file],
    evalDocs: (dir) => ({ split: 'test', docs: readJsonl(dir, file).map(toDoc) }),
    fewshotDocs: () => missingTrain(name, 'train'),
    fewshotExcludesEvalDoc: false,
    docToText: (doc) => `Question: ${str(doc, 'question')}\nAnswer:`,
    docToTarget: (doc) => {
      const c = doc.choices as { label: string[] };
      const i = c.label.indexOf(str(doc, 'answerKey'));
      if (i < 0) throw new Error(`${name} ${String(doc.id)}: answerKey ${String(doc.answerKey)} is not among the labels ${c.label.join(',')}`);
      return i;
    },
    docToChoice: (doc) => (doc.choices as { text: string[] }).text,
    metrics: ['acc', 'acc_norm'],
  };
}

export const arcEasy = arc('arc_easy', 'ARC-Easy');
export const arcChallenge = arc('arc_challenge', 'ARC-Challenge');
