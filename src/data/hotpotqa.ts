/**
 * HotpotQA as LASER (Sharma et al., 2023) uses it: the question alone, closed book. Matches
 * pratyushasharma/laser @ d391375b0e49f9ed0133bed38f36570c2d1d2043, src/dataset_utils/hotpot.py
 * and src/intervention_llama2_hotpot.py (read, not copied):
 *
 * - prompt: the question (stripped) + " The answer is", with "?" inserted first when the question
 *   ends in neither "?" nor "."; answer: " " + the answer (stripped). Top-k and log-loss of the
 *   answer as for CounterFact; LASER's accuracy is greedy generation that contains the answer
 *   (`--generate`). LASER generates 15 new tokens and searches the decoded prompt + generation;
 *   linscope generates |answer| + `--extra-tokens` and searches the new text only.
 * - LASER keeps answers of at most 15 tokens (Llama tokenizer, BOS counted, for every model it
 *   evaluates); with a tokenizer we apply the same rule with it (`encode(answer)` with its default
 *   special tokens), so the kept questions equal LASER's only for Llama's tokenizer. The CLI passes
 *   the evaluated model's tokenizer (stories260K keeps 5,333 of the 7,405).
 * - LASER's set is the first 7,405 train questions followed by the 7,405 validation questions
 *   (fullwiki). Only the dev/validation questions are shipped here
 *   (`hotpot_dev_v1_simplified.json`: question/answer/type, no contexts, no supporting facts), so
 *   both the 20 % validation part and the test part come from the dev questions, and no model
 *   sees the paragraphs: this is closed-book question answering.
 */
import { readJsonArrayFile, stringField } from './json-records.ts';
import type { FactCase, Tokenizer } from './types.ts';

/** LASER's answer-length limit in tokens (BOS included, as the Llama tokenizer counts). */
const HOTPOT_MAX_ANSWER_TOKENS = 15;

/** LASER's HotpotQA prompt for a question. */
function hotpotPrompt(question: string): string {
  const q = question.trim();
  return q.endsWith('?') || q.endsWith('.') ? `${q} The answer is` : `${q}? The answer is`;
}

export interface HotpotOptions {
  /** Drop answers longer than HOTPOT_MAX_ANSWER_TOKENS in this tokenizer (LASER's filter). */
  tokenizer?: Tokenizer;
}

/** Load `hotpot_dev_v1_simplified.json` (or any JSON array of {question, answer}); ids are file positions. */
export async function loadHotpotQA(path: string, opts: HotpotOptions = {}): Promise<FactCase[]> {
  const records = await readJsonArrayFile(path);
  const cases: FactCase[] = [];
  records.forEach((r, i) => {
    const at = `${path}[${i}]`;
    const question = stringField(r, 'question', at);
    const answer = stringField(r, 'answer', at).trim();
    if (answer === '') throw new Error(`${at}: empty answer`);
    if (opts.tokenizer && opts.tokenizer.encode(answer).length > HOTPOT_MAX_ANSWER_TOKENS) return;
    cases.push({ id: String(i), prompt: hotpotPrompt(question), subject: '', answer: ' ' + answer, paraphrases: [] });
  });
  return cases;
}
