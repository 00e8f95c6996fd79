/**
 * Load a factual-recall set by kind, for the command line: CounterFact (ROME or EasyEdit layout),
 * ROME's known_1000, ParaRel (T-REx facts + templates), a TinyStories cloze set, or LASER's other
 * sets built as in the authors' scripts: FEVER and TruthfulQA (true/false classification),
 * HotpotQA (closed book) and BIG-bench qa_wikidata.
 */
import type { FactCase, Tokenizer } from '../data/types.ts';
import { loadCounterFact, loadKnownFacts } from '../data/counterfact.ts';
import { loadParaRel } from '../data/pararel.ts';
import { loadTinyStoriesCloze } from '../data/cloze.ts';
import { loadFever } from '../data/fever.ts';
import { loadHotpotQA } from '../data/hotpotqa.ts';
import { loadTruthfulQA } from '../data/truthfulqa.ts';
import { loadBigBenchQAWikidata } from '../data/bigbench-qa-wikidata.ts';

export const FACT_SET_KINDS = ['counterfact', 'known1000', 'pararel', 'cloze', 'fever', 'hotpotqa', 'truthfulqa', 'bigbench_qa_wikidata'] as const;
export type FactSetKind = (typeof FACT_SET_KINDS)[number];

export interface FactSetOptions {
  /** Keep the first N cases (after loading, before splitting). */
  maxCases?: number;
  /** Cloze: answer kind and seed. */
  clozeKind?: 'name' | 'word' | 'any';
  seed?: number;
  /** HotpotQA: apply LASER's answer-length filter (≤ 15 tokens) in this tokenizer. */
  tokenizer?: Tokenizer;
}

export async function loadFactSet(kind: FactSetKind, path: string, opts: FactSetOptions = {}): Promise<FactCase[]> {
  let cases: FactCase[];
  switch (kind) {
    case 'counterfact':
      cases = await loadCounterFact(path);
      break;
    case 'known1000':
      cases = await loadKnownFacts(path);
      break;
    case 'pararel':
      cases = await loadParaRel(path);
      break;
    case 'cloze':
      cases = await loadTinyStoriesCloze(path, { kind: opts.clozeKind, seed: opts.seed, maxCases: opts.maxCases });
      break;
    case 'fever':
      cases = await loadFever(path);
      break;
    case 'hotpotqa':
      cases = await loadHotpotQA(path, { tokenizer: opts.tokenizer });
      break;
    case 'truthfulqa':
      cases = await loadTruthfulQA(path);
      break;
    case 'bigbench_qa_wikidata':
      cases = await loadBigBenchQAWikidata(path);
      break;
    default:
      throw new Error(`unknown fact set "${kind as string}" (one of ${FACT_SET_KINDS.join(', ')})`);
  }
  if (opts.maxCases !== undefined) cases = cases.slice(0, opts.maxCases);
  if (cases.length === 0) throw new Error(`${path}: no ${kind} cases were found`);
  return cases;
}
