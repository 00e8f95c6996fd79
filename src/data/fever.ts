/**
 * FEVER 1.0 as LASER (Sharma et al., 2023) uses it: true/false classification of a claim without
 * evidence. Matches pratyushasharma/laser @ d391375b0e49f9ed0133bed38f36570c2d1d2043,
 * src/dataset_utils/fever.py and src/intervention_llama2_fever.py (read, not copied):
 *
 * - data: FEVER paper_dev followed by paper_test (together the shared-task dev set, 19,998
 *   claims). LASER's loader admits only the labels SUPPORTS (→ " true") and REFUTES (→ " false");
 *   NOT ENOUGH INFO claims are left out. Within each split a claim text that occurs with both
 *   labels is dropped and a repeated claim is kept once, at its first occurrence. The validation
 *   part of LASER's 20 % split is therefore the start of paper_dev.
 * - prompt: "Consider the following claim: <claim> Is this claim true or false. The claim is"
 *   (a "." is added after a claim that does not end in "." or "?"); the answer is " true" or
 *   " false" and the case is correct when the answer is the more likely of the two
 *   (`FactCase.choices`, scored in eval/factual-recall.ts). Top-k and log-loss are those of the
 *   answer, as for CounterFact.
 *
 * Input: a folder with `fever_labelled_dev.json` (id/claim/label records, the 19,998 claims) and
 * `paper_dev.jsonl` (the original FEVER layout, which says which claims are paper_dev), or one of
 * these files. Without paper_dev.jsonl the dev/test boundary is unknown and all claims form one
 * part, in file order.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readJsonArrayFile, readJsonLinesFile, stringField, type JsonRecord } from './json-records.ts';
import type { FactCase } from './types.ts';

/** The two answers of LASER's true/false prompts (FEVER, TruthfulQA), with their leading space. */
export const TRUE_FALSE_CHOICES: readonly string[] = [' true', ' false'];

const LABEL_ANSWER: Record<string, string> = { SUPPORTS: ' true', REFUTES: ' false' };

/** LASER's FEVER prompt for a claim. */
function feverPrompt(claim: string): string {
  const c = claim.trim();
  const end = c.endsWith('.') || c.endsWith('?') ? '' : '.';
  return `Consider the following claim: ${c}${end} Is this claim true or false. The claim is`;
}

/** Load FEVER from a folder or file (see the module comment). */
export async function loadFever(path: string): Promise<FactCase[]> {
  if (!existsSync(path)) throw new Error(`FEVER not found: ${path}`);
  const isDir = statSync(path).isDirectory();
  const dir = isDir ? path : dirname(path);
  const labelled = isDir ? join(dir, 'fever_labelled_dev.json') : path;
  const paperDev = join(dir, 'paper_dev.jsonl');
  if (isDir && !existsSync(labelled) && !existsSync(paperDev)) throw new Error(`${path}: neither fever_labelled_dev.json nor paper_dev.jsonl inside`);
  const read = (p: string) => (p.endsWith('.jsonl') ? readJsonLinesFile(p) : readJsonArrayFile(p));

  const records = await read(existsSync(labelled) ? labelled : paperDev);
  if (!existsSync(paperDev) || basename(labelled) === basename(paperDev)) return feverFromSplits([records], labelled);
  const devIds = new Set((await readJsonLinesFile(paperDev)).map((r) => r.id));
  const dev = records.filter((r) => devIds.has(r.id));
  const test = records.filter((r) => !devIds.has(r.id));
  return feverFromSplits([dev, test], labelled);
}

/**
 * FEVER records → cases, split by split (paper_dev first): labels other than SUPPORTS/REFUTES are
 * left out, then LASER's consistent-unique filter runs within each split.
 */
export function feverFromSplits(splits: readonly (readonly JsonRecord[])[], where = 'FEVER'): FactCase[] {
  const cases: FactCase[] = [];
  const seen = new Set<string>();
  for (const records of splits) {
    const byClaim = new Map<string, { id: string; labels: Set<string> }>();
    records.forEach((r, i) => {
      const at = `${where}[${i}]`;
      const claim = stringField(r, 'claim', at);
      const label = stringField(r, 'label', at);
      if (!(label in LABEL_ANSWER)) return;
      const entry = byClaim.get(claim);
      if (entry) entry.labels.add(label);
      else byClaim.set(claim, { id: String(r.id ?? i), labels: new Set([label]) });
    });
    for (const claim of byClaim.keys()) {
      if (seen.has(claim)) throw new Error(`${where}: the claim ${JSON.stringify(claim.slice(0, 60))} is in both paper_dev and paper_test`);
    }
    for (const [claim, { id, labels }] of byClaim) {
      seen.add(claim);
      if (labels.size !== 1) continue;
      const answer = LABEL_ANSWER[[...labels][0]];
      cases.push({ id, prompt: feverPrompt(claim), subject: '', answer, paraphrases: [], choices: [...TRUE_FALSE_CHOICES] });
    }
  }
  return cases;
}
