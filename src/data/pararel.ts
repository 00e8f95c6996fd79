/**
 * ParaRel over LAMA T-REx: per-relation facts `{sub_label, obj_label, uuid}` (trex_lms_vocab/P*.jsonl)
 * and paraphrase templates `{pattern: "[X] is located in [Y] ."}` (patterns/P*.jsonl).
 *
 * A template serves as a next-token prompt only when `[Y]` comes last (after it, at most closing
 * punctuation) and a space precedes it: "[X] is located in [Y] ." → "Eibenstock is located in",
 * answer " Germany". Each fact becomes one `FactCase` whose `prompt` is built from the relation's
 * first usable template and whose `paraphrases` are the other usable templates (duplicates removed).
 */
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readJsonLinesFile } from './json-records.ts';
import { withLeadingSpace, type FactCase } from './types.ts';

/** Prompt prefix of a template whose `[Y]` is at the end, with `[X]` still in place; null when unusable. */
export function paraRelPrompt(pattern: string): string | null {
  const y = pattern.indexOf('[Y]');
  if (y < 0 || pattern.indexOf('[Y]', y + 1) >= 0) return null;
  if (!/^\s*[.?!]?\s*$/.test(pattern.slice(y + 3))) return null;
  const before = pattern.slice(0, y);
  if (!/\s$/.test(before)) return null;
  const prompt = before.trimEnd();
  if (prompt.split('[X]').length !== 2) return null;
  return prompt;
}

export interface ParaRelOptions {
  /** Only these relations (e.g. ["P17", "P36"]); default all relations that have usable templates. */
  relations?: readonly string[];
}

/**
 * Load ParaRel facts from a folder holding `trex_lms_vocab/` and `patterns/`. Relations without a
 * pattern file, or without a template ending in `[Y]`, are skipped. Case ids are the T-REx uuids.
 */
export async function loadParaRel(dir: string, opts: ParaRelOptions = {}): Promise<FactCase[]> {
  const factsDir = join(dir, 'trex_lms_vocab');
  const patternsDir = join(dir, 'patterns');
  const factFiles = (await readdir(factsDir).catch(() => {
    throw new Error(`${dir}: no trex_lms_vocab/ folder of ParaRel facts`);
  }))
    .filter((f) => f.endsWith('.jsonl'))
    .sort();
  const patternFiles = new Set(await readdir(patternsDir).catch(() => [] as string[]));
  const wanted = opts.relations ? new Set(opts.relations) : null;

  const cases: FactCase[] = [];
  for (const file of factFiles) {
    const relationId = basename(file, '.jsonl');
    if (wanted && !wanted.has(relationId)) continue;
    if (!patternFiles.has(file)) continue;
    const templates = unique(
      (await readJsonLinesFile(join(patternsDir, file)))
        .map((p) => (typeof p.pattern === 'string' ? paraRelPrompt(p.pattern) : null))
        .filter((p): p is string => p !== null),
    );
    if (templates.length === 0) continue;
    for (const fact of await readJsonLinesFile(join(factsDir, file))) {
      const subject = fact.sub_label;
      const object = fact.obj_label;
      if (typeof subject !== 'string' || typeof object !== 'string') {
        throw new Error(`${join(factsDir, file)}: fact without string sub_label/obj_label`);
      }
      const prompts = unique(templates.map((t) => t.replace('[X]', () => subject)));
      cases.push({
        id: typeof fact.uuid === 'string' ? fact.uuid : `${relationId}-${cases.length}`,
        prompt: prompts[0],
        subject,
        answer: withLeadingSpace(object),
        paraphrases: prompts.slice(1),
        relationId,
      });
    }
  }
  if (wanted) {
    const found = new Set(cases.map((c) => c.relationId));
    const missing = [...wanted].filter((r) => !found.has(r));
    if (missing.length > 0) throw new Error(`${dir}: no usable facts/templates for relation(s) ${missing.join(', ')}`);
  }
  return cases;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
