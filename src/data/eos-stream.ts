/**
 * Documents as one token stream in the layout of pretraining corpora: each document encoded without
 * special tokens and followed by EOS, d₁ EOS d₂ EOS … (used by `linscope pretrain`'s streams and by
 * evaluations that must see text the way such a model was trained).
 */
export interface DocumentEncoder {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
}

/** Appends the ids of d₁ EOS d₂ EOS … to `into` (default a new array) and returns it. */
export function eosJoinedIds(docs: Iterable<string>, tokenizer: DocumentEncoder, eosId: number, into: number[] = []): number[] {
  for (const doc of docs) {
    for (const id of tokenizer.encode(doc, { addSpecialTokens: false })) into.push(id);
    into.push(eosId);
  }
  return into;
}
