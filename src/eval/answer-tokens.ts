/**
 * Splitting prompt + answer into prompt tokens and answer tokens.
 *
 * Like the LASER authors we tokenize the joined text `prompt + answer` once (so the answer is
 * tokenized exactly as it would appear in running text) and then find which trailing tokens are
 * the answer: when the prompt's own tokens are a prefix of the joined tokens (the usual case with
 * a leading-space answer), the answer tokens are the rest. Otherwise (a merge across the boundary)
 * we fall back to the authors' rule: the shortest suffix whose decoded text, stripped, equals the
 * answer stripped; and when no suffix decodes to the answer (a token spans both sides), the answer
 * tokens start where the joined tokenization first departs from the prompt's.
 */
import type { EvalTokenizer } from './model-api.ts';

export interface PromptAnswerTokens {
  /** Context tokens (BOS included when the tokenizer adds it). */
  prompt: number[];
  /** Answer tokens; prompt ++ answer is the joined tokenization. */
  answer: number[];
}

export function splitPromptAnswer(tokenizer: EvalTokenizer, prompt: string, answer: string, addSpecialTokens?: boolean): PromptAnswerTokens {
  const opts = addSpecialTokens === undefined ? undefined : { addSpecialTokens };
  const full = tokenizer.encode(prompt + answer, opts);
  const promptIds = tokenizer.encode(prompt, opts);
  let cut = -1;
  if (promptIds.length < full.length && promptIds.every((id, i) => full[i] === id)) {
    cut = promptIds.length;
  } else {
    const target = answer.trim();
    for (let start = full.length - 1; start >= 1; start--) {
      if (tokenizer.decode(full.slice(start)).trim() === target) {
        cut = start;
        break;
      }
    }
    if (cut < 1) {
      cut = 0;
      while (cut < promptIds.length && cut < full.length - 1 && full[cut] === promptIds[cut]) cut++;
    }
  }
  if (cut < 1) {
    throw new Error(`cannot find the answer ${JSON.stringify(answer)} at the end of the tokenized prompt ${JSON.stringify(prompt.slice(-60))}`);
  }
  return { prompt: full.slice(0, cut), answer: full.slice(cut) };
}
