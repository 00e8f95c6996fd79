/**
 * Checks on a parsed `tokenizer.json` before `@huggingface/tokenizers` sees it. The library takes
 * time and memory linear in the largest token id (a damaged id of 2^31 never returns), so ids
 * must be integers within reach of the vocabulary: in [0, entries + 65536), where entries counts
 * the model vocabulary and the added tokens (real vocabularies are dense; a few holes are fine).
 */
import { InputError } from './input-error.ts';

const MAX_ID_SLACK = 65536;

/** Throw an `InputError` naming `path` when the token ids of `json` are not plausible. */
export function checkTokenizerJson(path: string, json: unknown): void {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new InputError(path, 'not a JSON object');
  const { model, added_tokens: added } = json as { model?: unknown; added_tokens?: unknown };
  if (!model || typeof model !== 'object') throw new InputError(path, 'has no "model" object');
  const ids: [string, unknown][] = [];
  const vocab = (model as { vocab?: unknown }).vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) ids.push(...Object.entries(vocab));
  if (added !== undefined && added !== null) {
    if (!Array.isArray(added)) throw new InputError(path, '"added_tokens" is not a list');
    for (const t of added) ids.push([String((t as { content?: unknown })?.content), (t as { id?: unknown })?.id]);
  }
  const limit = ids.length + MAX_ID_SLACK;
  for (const [token, id] of ids) {
    if (!(Number.isInteger(id) && (id as number) >= 0 && (id as number) < limit)) {
      throw new InputError(path, `token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, not an integer in [0, ${limit}) for a vocabulary of ${ids.length} entries (damaged file?)`);
    }
  }
}
