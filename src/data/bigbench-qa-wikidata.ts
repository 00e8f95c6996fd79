/**
 * BIG-bench qa_wikidata as LASER (Sharma et al., 2023) uses it: a Wikidata fact as a sentence to
 * complete. Matches pratyushasharma/laser @ d391375b0e49f9ed0133bed38f36570c2d1d2043,
 * src/dataset_utils/bigbench.py ("qa_wikidata") and src/intervention_llama2_bbh_qa.py (read, not
 * copied): prompt = the task input (stripped), answer = " " + the single target (stripped); top-k
 * and log-loss of the answer as for CounterFact; LASER's accuracy is greedy generation that
 * contains the answer (`--generate`; LASER generates 10 new tokens and searches prompt +
 * generation, linscope |answer| + `--extra-tokens` new tokens and searches those only).
 *
 * Input: MosaicML's conversion (`bigbench_qa_wikidata.jsonl`, {context, continuation} per line,
 * 20,321 records), or records with BIG-bench's own `inputs`/`targets` fields (then, as in LASER,
 * only records with exactly one target are kept). LASER reads tasksource/bigbench's validation
 * split and then its train split; the MosaicML file's order is its own, so LASER's first-20 %
 * validation part cannot be reproduced case for case from it.
 */
import { readJsonLinesFile, stringField } from './json-records.ts';
import type { FactCase } from './types.ts';

/** Load qa_wikidata JSON Lines; ids are line positions among the records. */
export async function loadBigBenchQAWikidata(path: string): Promise<FactCase[]> {
  const records = await readJsonLinesFile(path);
  const cases: FactCase[] = [];
  records.forEach((r, i) => {
    const at = `${path}[${i}]`;
    let prompt: string;
    let answer: string;
    if ('context' in r) {
      prompt = stringField(r, 'context', at);
      answer = stringField(r, 'continuation', at);
    } else if ('inputs' in r) {
      const targets = r.targets;
      if (!Array.isArray(targets) || targets.some((t) => typeof t !== 'string')) throw new Error(`${at}: field "targets" missing or not a list of strings`);
      if (targets.length !== 1) return;
      prompt = stringField(r, 'inputs', at);
      answer = targets[0] as string;
    } else {
      throw new Error(`${at}: neither {context, continuation} nor BIG-bench {inputs, targets} fields`);
    }
    if (answer.trim() === '') throw new Error(`${at}: empty answer`);
    cases.push({ id: String(i), prompt: prompt.trim(), subject: '', answer: ' ' + answer.trim(), paraphrases: [] });
  });
  return cases;
}
