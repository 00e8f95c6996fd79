/**
 * Special and added tokens of slow (file-based) tokenizers, as transformers handles them: their
 * text (from tokenizer_config.json's `added_tokens_decoder` and its bos/eos/unk/pad entries) is
 * cut out of the input before the model's own encoding, longest match first, and each becomes its
 * one id; the text between them is encoded on its own.
 */
import { specialTokenText } from './tokenizer.ts';

/** Token text → id for the added tokens a tokenizer_config.json declares (ids from added_tokens_decoder). */
export function configAddedTokens(config: Record<string, unknown>): Map<string, number> {
  const out = new Map<string, number>();
  const decoder = config.added_tokens_decoder;
  if (decoder && typeof decoder === 'object') {
    for (const [id, entry] of Object.entries(decoder as Record<string, unknown>)) {
      const text = specialTokenText(entry);
      if (text !== undefined && Number.isSafeInteger(Number(id))) out.set(text, Number(id));
    }
  }
  return out;
}

/** The special-token texts tokenizer_config.json names (bos, eos, unk, pad), when set. */
export function configSpecialTexts(config: Record<string, unknown>): string[] {
  return ['bos_token', 'eos_token', 'unk_token', 'pad_token']
    .map((k) => specialTokenText(config[k]))
    .filter((t): t is string => t !== undefined && t.length > 0);
}

/** Split `text` into plain segments and special tokens (longest match first, scanning left to right). */
export function splitOnTokens(text: string, tokens: Iterable<string>): ({ text: string } | { token: string })[] {
  const list = [...new Set(tokens)].filter((t) => t.length > 0).sort((a, b) => b.length - a.length);
  if (list.length === 0) return text.length > 0 ? [{ text }] : [];
  const firsts = new Set(list.map((t) => t[0]));
  const out: ({ text: string } | { token: string })[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const hit = firsts.has(text[i]) ? list.find((t) => text.startsWith(t, i)) : undefined;
    if (!hit) {
      i++;
      continue;
    }
    if (i > start) out.push({ text: text.slice(start, i) });
    out.push({ token: hit });
    i += hit.length;
    start = i;
  }
  if (start < text.length) out.push({ text: text.slice(start) });
  return out;
}
