/**
 * The llama2.c tokenizer (`tokenizer.bin`, `tok512.bin`, …): a SentencePiece-derived BPE vocabulary
 * exported as, little-endian,
 *   int32 max_token_length, then per token: float32 score, int32 byte length, the bytes.
 * Id 0 is `<unk>`, 1 BOS, 2 EOS, 3…258 the byte-fallback pieces `<0x00>`…`<0xFF>`.
 *
 * Encoding follows llama2.c's `encode()`: optional BOS; a dummy-prefix " " token when the text is
 * non-empty; each UTF-8 character looked up whole, else spelled as byte tokens (id = byte + 3);
 * then repeatedly merge the adjacent pair whose concatenation is in the vocabulary with the highest
 * score (leftmost pair on ties). llama2.c rescans all pairs after every merge (quadratic); here a
 * heap over adjacent pairs makes the same choices in O(n log n) (score-merge.ts, shared with
 * SentencePiece BPE, which merges the same way).
 *
 * Decoding follows llama2.c's `decode()`: `<0xXX>` pieces are raw bytes, and the leading space of
 * the piece after BOS is dropped (that is the dummy prefix). As SentencePiece does, the leading
 * space of the very first piece is dropped too, so decode(encode(text)) === text. BOS and EOS are
 * control tokens and are never printed (llama2.c never prints them either).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from './input-error.ts';
import { mergeByScore } from './score-merge.ts';
import type { DecodeOptions, EncodeOptions, Tokenizer } from './tokenizer.ts';

const BOS = 1;
const EOS = 2;
const BYTE_OFFSET = 3;
const utf8 = new TextDecoder('utf-8');

/** A string with one char per byte (Latin-1), so that string concatenation is byte concatenation. */
function bytesKey(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

export class Llama2cTokenizer implements Tokenizer {
  readonly bosId = BOS;
  readonly eosId = EOS;
  readonly padId: number | undefined = undefined;
  readonly vocabSize: number;
  readonly maxTokenLength: number;
  /** Pieces as byte strings (one char per byte). */
  private readonly pieces: string[];
  private readonly scores: Float32Array;
  private readonly lookup = new Map<string, number>();
  /** Decoded bytes of each piece (byte-fallback pieces are the byte itself). */
  private readonly pieceBytes: Uint8Array[];

  constructor(pieces: Uint8Array[], scores: Float32Array, maxTokenLength: number) {
    this.vocabSize = pieces.length;
    this.maxTokenLength = maxTokenLength;
    this.pieces = pieces.map(bytesKey);
    this.scores = scores;
    this.pieces.forEach((p, id) => {
      if (!this.lookup.has(p)) this.lookup.set(p, id);
    });
    this.pieceBytes = this.pieces.map((p, id) => {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p);
      return m ? Uint8Array.of(parseInt(m[1], 16)) : pieces[id];
    });
  }

  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) return undefined;
    return utf8.decode(Uint8Array.from(this.pieces[id], (c) => c.charCodeAt(0)));
  }

  /** Score of a piece (SentencePiece log-probability or -merge rank). */
  score(id: number): number {
    return this.scores[id];
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const bytes = new TextEncoder().encode(text);
    const tokens: number[] = [];
    if (options.addSpecialTokens ?? true) tokens.push(BOS);
    if (bytes.length > 0) {
      // llama2.c looks up " "; a vocabulary without it gets the byte token for 0x20 instead.
      tokens.push(this.lookup.get(' ') ?? 0x20 + BYTE_OFFSET);
    }
    // Split into UTF-8 characters exactly as llama2.c does: a lead byte plus at most 3 continuation bytes.
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if ((bytes[i] & 0xc0) !== 0x80) start = i;
      const len = i - start + 1;
      const nextIsContinuation = i + 1 < bytes.length && (bytes[i + 1] & 0xc0) === 0x80;
      if (nextIsContinuation && len < 4) continue;
      const char = bytes.subarray(start, i + 1);
      const id = this.lookup.get(bytesKey(char));
      if (id !== undefined) tokens.push(id);
      else for (const b of char) tokens.push(b + BYTE_OFFSET);
      start = i + 1;
    }
    return this.mergePairs(tokens);
  }

  /** Apply llama2.c's greedy merges (best score first, leftmost on ties); see score-merge.ts. */
  private mergePairs(initial: number[]): number[] {
    return mergeByScore(initial, (id) => this.pieces[id], (text) => this.lookup.get(text), (id) => this.scores[id]);
  }

  decode(ids: ArrayLike<number>, _options: DecodeOptions = {}): string {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      if (id === BOS || id === EOS) continue;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new Error(`llama2.c tokenizer: id ${id} out of range [0, ${this.vocabSize})`);
      let bytes = this.pieceBytes[id];
      const atStart = k === 0 || ids[k - 1] === BOS;
      if (atStart && bytes.length > 0 && bytes[0] === 0x20 && this.pieces[id].length === bytes.length) bytes = bytes.subarray(1);
      chunks.push(bytes);
      total += bytes.length;
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return utf8.decode(all);
  }
}

/**
 * Read a llama2.c tokenizer file. `vocabSize` (from the model header) bounds the number of
 * records; without it, records are read to the end of the file.
 */
export function readLlama2cTokenizer(path: string, vocabSize?: number): Llama2cTokenizer {
  const buf = readFileSync(path);
  const fail = (msg: string) => new InputError(path, `not a llama2.c tokenizer: ${msg}`);
  if (buf.length < 4) throw fail('too short');
  const maxTokenLength = buf.readInt32LE(0);
  if (maxTokenLength <= 0 || maxTokenLength > 1 << 16) throw fail(`implausible max_token_length ${maxTokenLength}`);
  const pieces: Uint8Array[] = [];
  const scores: number[] = [];
  let at = 4;
  while (at < buf.length && (vocabSize === undefined || pieces.length < vocabSize)) {
    if (at + 8 > buf.length) throw fail(`record ${pieces.length} is cut off at byte ${at}`);
    const score = buf.readFloatLE(at);
    const len = buf.readInt32LE(at + 4);
    if (len < 0 || len > maxTokenLength || at + 8 + len > buf.length) throw fail(`record ${pieces.length} has bad length ${len} at byte ${at}`);
    pieces.push(new Uint8Array(buf.subarray(at + 8, at + 8 + len)));
    scores.push(score);
    at += 8 + len;
  }
  if (vocabSize !== undefined && pieces.length < vocabSize) throw fail(`holds ${pieces.length} tokens, the model needs ${vocabSize}`);
  if (pieces.length < BYTE_OFFSET + 256) throw fail(`only ${pieces.length} tokens (need at least the 3 specials and 256 byte pieces)`);
  // encode() spells unknown characters as byte tokens id = byte + 3, so those pieces must be <0xXX>
  for (let b = 0; b < 256; b++) {
    const want = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
    const got = pieces[BYTE_OFFSET + b];
    if (got.length !== want.length || String.fromCharCode(...got) !== want) {
      throw fail(`token ${BYTE_OFFSET + b} should be the byte piece ${want}, found ${JSON.stringify(utf8.decode(got))}`);
    }
  }
  return new Llama2cTokenizer(pieces, Float32Array.from(scores), maxTokenLength);
}

/**
 * The tokenizer file beside a llama2.c checkpoint in `dir`: `tok<vocabSize>.bin`, else
 * `tokenizer.bin`, else the only `tok*.bin`. Undefined when there is none.
 */
export function findLlama2cTokenizerFile(dir: string, vocabSize: number): string | undefined {
  for (const name of [`tok${vocabSize}.bin`, 'tokenizer.bin']) if (existsSync(join(dir, name))) return join(dir, name);
  const candidates = readdirSync(dir).filter((f) => /^tok.*\.bin$/.test(f));
  return candidates.length === 1 ? join(dir, candidates[0]) : undefined;
}
