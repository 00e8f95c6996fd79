/**
 * Factual-recall sets from the ROME line of work, normalised to `FactCase`:
 *
 * - CounterFact, original ROME layout (`counterfact.json`): `requested_rewrite.prompt` is a
 *   template with `{}` for the subject; 2 paraphrase and 10 neighborhood prompts per case.
 * - CounterFact, EasyEdit/MEND layout (`counterfact-{train,val,edit}.json`): the prompt has the
 *   subject filled in, one `rephrase_prompt`, one `locality_prompt`.
 * - `known_1000.json` (ROME's "known facts": prompts GPT-2-XL completes correctly).
 *
 * Answers get their leading space (" Paris"); ROME stores bare strings and adds the space when
 * tokenizing.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { withLeadingSpace, type FactCase } from './types.ts';
import { readJsonArrayFile } from './json-records.ts';


type Json = Record<string, unknown>;

/**
 * Load CounterFact from a ROME `counterfact.json`, one EasyEdit file, or a folder of EasyEdit files
 * (every `*.json` inside, merged). Cases come back sorted by case_id, i.e. in ROME's order, so the
 * EasyEdit train + val + edit files together reproduce the original sequence of 21,919 cases.
 */
export async function loadCounterFact(path: string): Promise<FactCase[]> {
  const info = await stat(path).catch(() => {
    throw new Error(`CounterFact not found: ${path}`);
  });
  const files = info.isDirectory()
    ? (await readdir(path)).filter((f) => f.endsWith('.json')).sort().map((f) => join(path, f))
    : [path];
  if (files.length === 0) throw new Error(`${path}: no .json files inside`);

  const cases: FactCase[] = [];
  for (const file of files) cases.push(...counterFactFromRecords(await readJsonArrayFile(file), file));
  cases.sort((a, b) => Number(a.id) - Number(b.id));
  for (let i = 1; i < cases.length; i++) {
    if (cases[i].id === cases[i - 1].id) throw new Error(`${path}: case_id ${cases[i].id} appears twice`);
  }
  return cases;
}

/** Normalise CounterFact records of either layout (detected per record). `where` names the source in errors. */
export function counterFactFromRecords(records: readonly unknown[], where = 'CounterFact'): FactCase[] {
  return records.map((record, i) => {
    const r = record as Json;
    if (r && typeof r === 'object' && 'requested_rewrite' in r) return fromRomeRecord(r, `${where}[${i}]`);
    if (r && typeof r === 'object' && 'ground_truth' in r) return fromEasyEditRecord(r, `${where}[${i}]`);
    throw new Error(`${where}[${i}]: neither ROME (requested_rewrite) nor EasyEdit (ground_truth) CounterFact layout`);
  });
}

function fromRomeRecord(r: Json, where: string): FactCase {
  const rewrite = field<Json>(r, 'requested_rewrite', 'object', where);
  const subject = field<string>(rewrite, 'subject', 'string', where);
  const template = field<string>(rewrite, 'prompt', 'string', where);
  if (!template.includes('{}')) throw new Error(`${where}: requested_rewrite.prompt has no {} for the subject`);
  const trueTarget = field<string>(field<Json>(rewrite, 'target_true', 'object', where), 'str', 'string', where);
  const newTarget = field<string>(field<Json>(rewrite, 'target_new', 'object', where), 'str', 'string', where);
  const relationId = rewrite.relation_id;
  return {
    id: String(field<number>(r, 'case_id', 'number', where)),
    prompt: template.replace('{}', () => subject),
    subject,
    answer: withLeadingSpace(trueTarget),
    paraphrases: stringList(r.paraphrase_prompts, `${where}.paraphrase_prompts`),
    ...(typeof relationId === 'string' ? { relationId } : {}),
    targetNew: withLeadingSpace(newTarget),
    neighborhood: stringList(r.neighborhood_prompts, `${where}.neighborhood_prompts`),
  };
}

function fromEasyEditRecord(r: Json, where: string): FactCase {
  const answer = field<string>(r, 'ground_truth', 'string', where);
  const rephrase = r.rephrase_prompt;
  const locality = r.locality_prompt;
  // A locality prompt counts as a neighbour only when its answer is this case's true answer (ROME's definition).
  const sameAnswer = typeof locality === 'string' && r.locality_ground_truth === answer;
  return {
    id: String(field<number>(r, 'case_id', 'number', where)),
    prompt: field<string>(r, 'prompt', 'string', where),
    subject: field<string>(r, 'subject', 'string', where),
    answer: withLeadingSpace(answer),
    paraphrases: typeof rephrase === 'string' ? [rephrase] : [],
    targetNew: withLeadingSpace(field<string>(r, 'target_new', 'string', where)),
    neighborhood: sameAnswer ? [locality] : [],
  };
}

/**
 * ROME's `known_1000.json`: `prompt` is the text just before the attribute in GPT-2-XL's
 * completion (the template, sometimes extended by a few generated words), `attribute` the answer.
 */
export async function loadKnownFacts(path: string): Promise<FactCase[]> {
  const records = await readJsonArrayFile(path);
  return records.map((record, i) => {
    const r = record as Json;
    const where = `${path}[${i}]`;
    const relationId = r.relation_id;
    return {
      id: String(field<number>(r, 'known_id', 'number', where)),
      prompt: field<string>(r, 'prompt', 'string', where),
      subject: field<string>(r, 'subject', 'string', where),
      answer: withLeadingSpace(field<string>(r, 'attribute', 'string', where)),
      paraphrases: [],
      ...(typeof relationId === 'string' ? { relationId } : {}),
    };
  });
}

function field<T>(r: Json, name: string, type: 'string' | 'number' | 'object', where: string): T {
  const value = r[name];
  if (typeof value !== type || value === null) throw new Error(`${where}: field "${name}" missing or not a ${type}`);
  return value as T;
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new Error(`${where}: expected a list of strings`);
  return value as string[];
}
