/**
 * GPT-2's byte-level alphabet and pre-tokenisation, as Hugging Face's `ByteLevel` pre-tokenizer
 * applies them: text is split by the GPT-2 regex, and each piece's UTF-8 bytes are written with
 * one printable character per byte, so every string is representable with 256 base symbols.
 */

/** The reversible byte → printable character table (bytes that print as themselves keep their code point). */
export function byteAlphabet(): string[] {
  const keeps = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = new Array(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keeps(b) ? b : 256 + shifted++);
  return table;
}

/** GPT-2's pre-tokenisation pattern: contractions, letters, digits, other symbols, whitespace runs. */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const encoder = new TextEncoder();

/** Splits `text` as the ByteLevel pre-tokenizer does and returns the pieces in byte-alphabet form. */
export function byteLevelPieces(text: string, alphabet: readonly string[], addPrefixSpace = false): string[] {
  const source = addPrefixSpace && !text.startsWith(' ') ? ` ${text}` : text;
  const pieces: string[] = [];
  for (const m of source.matchAll(GPT2_SPLIT)) {
    let s = '';
    for (const byte of encoder.encode(m[0])) s += alphabet[byte];
    pieces.push(s);
  }
  return pieces;
}
