/** A character-level stand-in for the real tokenizer: each UTF-16 code unit → its code + 10; BOS = 1. */
import type { Tokenizer } from '../../src/data/types.ts';

export const BOS = 1;

export const charTokenizer: Tokenizer = {
  bosId: BOS,
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    const ids = Array.from({ length: text.length }, (_, i) => text.charCodeAt(i) + 10);
    return opts.addSpecialTokens ?? true ? [BOS, ...ids] : ids;
  },
  decode(ids: number[]): string {
    return String.fromCharCode(...ids.filter((id) => id >= 10).map((id) => id - 10));
  },
};
