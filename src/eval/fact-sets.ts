/**
 * Load a factual-recall set by kind, for the command line: CounterFact (ROME or EasyEdit layout),
 * ROME's known_1000, ParaRel (T-REx facts + templates) or a TinyStories cloze set.
 */
import type { FactCase } from '../data/types.ts';
import { loadCounterFact, loadKnownFacts } from '../data/counterfact.ts';
import { loadParaRel } from '../data/pararel.ts';
import { loadTinyStoriesCloze } from '../data/cloze.ts';

export const FACT_SET_KINDS = ['counterfact', 'known1000', 'pararel', 'cloze'] as const;
export type FactSetKind = (typeof FACT_SET_KINDS)[number];

export interface FactSetOptions {
  /** Keep the first N cases (after loading, before splitting). */
  maxCases?: number;
  /** Cloze: answer kind and seed. */
  clozeKind?: 'name' | 'word' | 'any';
  seed?: number;
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
    default:
      throw new Error(`unknown fact set "${kind as string}" (one of ${FACT_SET_KINDS.join(', ')})`);
  }
  if (opts.maxCases !== undefined) cases = cases.slice(0, opts.maxCases);
  if (cases.length === 0) throw new Error(`${path}: no ${kind} cases were found`);
  return cases;
}
