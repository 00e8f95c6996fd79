/**
 * winogrande: lm_eval/tasks/winogrande/default.yaml + preprocess_winogrande.py, harness commit
 * 4e7e0d47. Data: winogrande_1.1 dev.jsonl (HF allenai/winogrande winogrande_xl validation); the
 * train split (few-shot source) is not shipped.
 *
 * Partial scoring ("multiple inputs"): doc_to_text returns the index of the right option, each
 * choice is a *context* — the sentence up to the blank with the option filled in — and the scored
 * continuation is the rest of the sentence after the blank (stripped), the same for both options.
 *   doc_to_text(doc)   = {"1": 0, "2": 1}[answer]
 *   doc_to_target(doc) = sentence[sentence.index("_") + 1:].strip()
 *   doc_to_choice(doc) = [sentence[:idx] + option1, sentence[:idx] + option2]
 *   metrics: acc; version 1.0; no test_split (few-shot sampling excludes the doc)
 */
import { missingTrain, readJsonl } from '../data.ts';
import { pyStrip, str, type Doc, type TaskDefinition } from '../task.ts';

function blank(doc: Doc): number {
  const s = str(doc, 'sentence');
  const i = s.indexOf('_');
  if (i < 0) throw new Error(`winogrande: sentence has no blank "_": ${s}`);
  return i;
}

export const winogrande: TaskDefinition = {
  name: 'winogrande',
  version: 1.0,
  outputType: 'multiple_choice',
  yaml: 'lm_eval/tasks/winogrande/default.yaml',
  yamlConfig: {
    task: 'winogrande', dataset_path: 'allenai/winogrande', dataset_name: 'winogrande_xl', output_type: 'multiple_choice',
    training_split: 'train', validation_split: 'validation',
    doc_to_text: 'preprocess_winogrande.doc_to_text', doc_to_target: 'preprocess_winogrande.doc_to_target', doc_to_choice: 'preprocess_winogrande.doc_to_choice',
    should_decontaminate: true, doc_to_decontamination_query: 'sentence',
    metric_list: [{ metric: 'acc', aggregation: 'mean', higher_is_better: true }],
    metadata: { version: 1.0 },
  },
  files: ['winogrande/dev.jsonl'],
  evalDocs: (dir) => ({
    split: 'validation',
    docs: readJsonl(dir, 'winogrande/dev.jsonl').map((r) => ({ sentence: r.sentence, option1: r.option1, option2: r.option2, answer: r.answer })),
  }),
  fewshotDocs: () => missingTrain('winogrande', 'train'),
  fewshotExcludesEvalDoc: true,
  docToText: (doc) => {
    const a = str(doc, 'answer');
    if (a !== '1' && a !== '2') throw new Error(`winogrande: answer must be "1" or "2", got ${JSON.stringify(a)}`);
    return a === '1' ? 0 : 1;
  },
  docToTarget: (doc) => pyStrip(str(doc, 'sentence').slice(blank(doc) + 1)),
  docToChoice: (doc) => {
    const head = str(doc, 'sentence').slice(0, blank(doc));
    return [head + str(doc, 'option1'), head + str(doc, 'option2')];
  },
  metrics: ['acc'],
};
