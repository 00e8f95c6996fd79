/**
 * xstorycloze_en: lm_eval/tasks/xstorycloze/default_en.yaml (includes default_ar.yaml), harness
 * commit 4e7e0d47. Data: en_eval.jsonl / en_train.jsonl (HF juletxara/xstory_cloze "en": eval and
 * train splits, fairseq's split of the 2016 StoryCloze val CSV).
 *
 *   doc_to_text:   "{{[input_sentence_1, input_sentence_2, input_sentence_3, input_sentence_4]|join(' ')}}"
 *   doc_to_target: "{{answer_right_ending-1}}"
 *   doc_to_choice: "{{[sentence_quiz1, sentence_quiz2]}}"
 *   metrics: acc; version 1.0; validation_split: eval, training_split: train; no test_split
 */
import { readJsonl } from '../data.ts';
import { int, str, type TaskDefinition } from '../task.ts';

const toDoc = (r: Record<string, unknown>) => ({
  story_id: r.story_id, input_sentence_1: r.input_sentence_1, input_sentence_2: r.input_sentence_2, input_sentence_3: r.input_sentence_3,
  input_sentence_4: r.input_sentence_4, sentence_quiz1: r.sentence_quiz1, sentence_quiz2: r.sentence_quiz2, answer_right_ending: r.answer_right_ending,
});

export const xstoryclozeEn: TaskDefinition = {
  name: 'xstorycloze_en',
  version: 1.0,
  outputType: 'multiple_choice',
  yaml: 'lm_eval/tasks/xstorycloze/default_en.yaml',
  yamlConfig: {
    task: 'xstorycloze_en', dataset_path: 'juletxara/xstory_cloze', dataset_name: 'en', output_type: 'multiple_choice',
    training_split: 'train', validation_split: 'eval',
    doc_to_text: "{{[input_sentence_1, input_sentence_2, input_sentence_3, input_sentence_4]|join(' ')}}", doc_to_target: '{{answer_right_ending-1}}',
    doc_to_choice: '{{[sentence_quiz1, sentence_quiz2]}}', should_decontaminate: true,
    doc_to_decontamination_query: "{{[input_sentence_1, input_sentence_2, input_sentence_3, input_sentence_4]|join(' ')}}",
    metric_list: [{ metric: 'acc', aggregation: 'mean', higher_is_better: true }], metadata: { version: 1.0 },
  },
  files: ['xstorycloze-en/en_eval.jsonl', 'xstorycloze-en/en_train.jsonl'],
  evalDocs: (dir) => ({ split: 'eval', docs: readJsonl(dir, 'xstorycloze-en/en_eval.jsonl').map(toDoc) }),
  fewshotDocs: (dir) => ({ split: 'train', docs: readJsonl(dir, 'xstorycloze-en/en_train.jsonl').map(toDoc) }),
  fewshotExcludesEvalDoc: true,
  docToText: (doc) => [1, 2, 3, 4].map((i) => str(doc, `input_sentence_${i}`)).join(' '),
  docToTarget: (doc) => int(doc, 'answer_right_ending') - 1,
  docToChoice: (doc) => [str(doc, 'sentence_quiz1'), str(doc, 'sentence_quiz2')],
  metrics: ['acc'],
};
