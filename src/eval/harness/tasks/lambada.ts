/**
 * lambada_openai: lm_eval/tasks/lambada/lambada_openai.yaml, harness commit 4e7e0d47. Data:
 * OpenAI's lambada_test.jsonl layout ({"text"}; HF EleutherAI/lambada_openai default test split).
 *
 *   output_type: loglikelihood (one request per doc: context, " " + last word)
 *   doc_to_text:   "{{text.split(' ')[:-1]|join(' ')}}"
 *   doc_to_target: "{{' '+text.split(' ')[-1]}}"
 *   metrics: perplexity (exp of minus the mean log-likelihood of the last word), acc (the last
 *   word is the greedy continuation); version 1.0
 *
 * Few-shot: the YAML has only a test split, so the harness draws examples from the test docs; it
 * names test_split "test", so the sampler is *not* told to skip the evaluated doc (harness quirk,
 * kept). A few-shot example reads text + " " + target, i.e. two spaces before the last word.
 */
import { readJsonl } from '../data.ts';
import { str, type TaskDefinition } from '../task.ts';

const FILE = 'lambada-openai/lambada_test.jsonl';

export const lambadaOpenai: TaskDefinition = {
  name: 'lambada_openai',
  version: 1.0,
  outputType: 'loglikelihood',
  yaml: 'lm_eval/tasks/lambada/lambada_openai.yaml',
  yamlConfig: {
    task: 'lambada_openai', tag: ['lambada'], dataset_path: 'EleutherAI/lambada_openai', dataset_name: 'default', output_type: 'loglikelihood',
    test_split: 'test', doc_to_text: "{{text.split(' ')[:-1]|join(' ')}}", doc_to_target: "{{' '+text.split(' ')[-1]}}",
    should_decontaminate: true, doc_to_decontamination_query: '{{text}}',
    metric_list: [{ metric: 'perplexity', aggregation: 'perplexity', higher_is_better: false }, { metric: 'acc', aggregation: 'mean', higher_is_better: true }],
    metadata: { version: 1.0 },
  },
  files: [FILE],
  evalDocs: (dir) => ({ split: 'test', docs: readJsonl(dir, FILE).map((r) => ({ text: r.text })) }),
  fewshotDocs: (dir) => ({ split: 'test', docs: readJsonl(dir, FILE).map((r) => ({ text: r.text })) }),
  fewshotExcludesEvalDoc: false,
  docToText: (doc) => str(doc, 'text').split(' ').slice(0, -1).join(' '),
  docToTarget: (doc) => ' ' + str(doc, 'text').split(' ').at(-1)!,
  metrics: ['perplexity', 'acc'],
};
