/**
 * Shapes shared by the data loaders.
 *
 * `Tokenizer` is declared here, structurally, so the data layer needs no model code: the real
 * tokenizer (src/io/tokenizer.ts) has the same method names and satisfies it, and tests can use a
 * stub that maps characters to codes.
 */

/** The part of a tokenizer the data layer relies on. */
export interface Tokenizer {
  /** Text → token ids. `addSpecialTokens` (default per tokenizer) controls BOS/EOS insertion. */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** Token ids → text. */
  decode(ids: number[]): string;
  /** Beginning-of-sequence id, when the vocabulary has one. */
  bosId?: number;
}

/**
 * One factual-recall probe: a prompt whose correct continuation is `answer`.
 *
 * `answer` always carries its leading space (" Paris"), because in BPE vocabularies the word after
 * a prompt is tokenized together with the space that precedes it; prompts never end in a space.
 */
export interface FactCase {
  /** Stable identifier, unique within one loaded dataset (e.g. the CounterFact case_id). */
  id: string;
  /** Prompt with the subject filled in, e.g. "The Eiffel Tower is located in". */
  prompt: string;
  /** The subject as it appears in the prompt (used to locate subject tokens). */
  subject: string;
  /** The true target with its leading space, e.g. " Paris". */
  answer: string;
  /** Other prompts with the same true answer for the same subject. */
  paraphrases: string[];
  /** Wikidata relation id such as "P17", when the source records it. */
  relationId?: string;
  /** CounterFact's counterfactual target (leading space included), when present. */
  targetNew?: string;
  /** Prompts about other subjects whose true answer is also `answer` (CounterFact neighborhood). */
  neighborhood?: string[];
  /**
   * Candidate answers of a classification case (leading space included), `answer` among them, e.g.
   * [" true", " false"] for LASER's FEVER and TruthfulQA. The case is classified correctly when the
   * answer's log-probability exceeds every other candidate's (factual-recall.ts, `choiceCorrect`).
   */
  choices?: string[];
}

/** Prefix a word with the single space a next-token answer needs (" Paris"); idempotent. */
export function withLeadingSpace(answer: string): string {
  return answer.startsWith(' ') ? answer : ' ' + answer;
}
