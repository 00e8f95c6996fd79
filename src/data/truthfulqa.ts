/**
 * TruthfulQA as LASER (Sharma et al., 2023) uses it: each (question, candidate answer) pair of the
 * multiple-choice set becomes a true/false statement. Matches pratyushasharma/laser @
 * d391375b0e49f9ed0133bed38f36570c2d1d2043, src/dataset_utils/truthfulqa.py and
 * src/intervention_llama2_truthfulqa.py (read, not copied):
 *
 * - for every question, in order, and every candidate of its `mc2_targets` (all true and false
 *   reference answers, in the file's order, which is the HF `truthful_qa` multiple_choice order):
 *   prompt = question + " " + candidate, a "." appended when it does not end in ".", then
 *   "Is this statement true or false? This statement is" (no space before "Is": LASER's text);
 *   answer " true" for a correct candidate, " false" otherwise. The case is correct when its
 *   answer is the more likely of " true"/" false" (`FactCase.choices`); top-k and log-loss are
 *   those of the answer. 817 questions give 5,882 statements.
 *
 * This is not lm-evaluation-harness's truthfulqa_mc1/mc2 (`linscope eval --tasks`), which scores
 * each candidate's log-likelihood after a six-shot QA prompt and asks whether the best one is true
 * (mc1) or how much probability mass the true ones get (mc2).
 */
import { readJsonArrayFile, stringField } from './json-records.ts';
import { TRUE_FALSE_CHOICES } from './fever.ts';
import type { FactCase } from './types.ts';

/** LASER's statement prompt for a question and one candidate answer. */
function truthfulQAPrompt(question: string, candidate: string): string {
  let text = question + ' ' + candidate;
  if (!text.endsWith('.')) text += '.';
  return text + 'Is this statement true or false? This statement is';
}

/** Load TruthfulQA's `mc_task.json` as LASER's pointwise statements; ids are "<question>.<candidate>". */
export async function loadTruthfulQA(path: string): Promise<FactCase[]> {
  const records = await readJsonArrayFile(path);
  const cases: FactCase[] = [];
  records.forEach((r, qi) => {
    const at = `${path}[${qi}]`;
    const question = stringField(r, 'question', at);
    const targets = r.mc2_targets;
    if (!targets || typeof targets !== 'object' || Array.isArray(targets)) throw new Error(`${at}: field "mc2_targets" missing or not an object`);
    const entries = Object.entries(targets as Record<string, unknown>);
    if (!entries.some(([, v]) => v === 1)) throw new Error(`${at}: mc2_targets has no correct answer`);
    entries.forEach(([candidate, label], j) => {
      if (label !== 0 && label !== 1) throw new Error(`${at}: mc2_targets label of ${JSON.stringify(candidate.slice(0, 40))} is not 0 or 1`);
      cases.push({
        id: `${qi}.${j}`,
        prompt: truthfulQAPrompt(question, candidate),
        subject: '',
        answer: label === 1 ? ' true' : ' false',
        paraphrases: [],
        choices: [...TRUE_FALSE_CHOICES],
      });
    });
  });
  return cases;
}
