/**
 * SentencePiece encoding and decoding, as the sentencepiece library (v0.1.9x) does it:
 *  - normalizer (normalizer.cc, identity rule): with remove_extra_whitespaces, leading, trailing
 *    and repeated spaces go; add_dummy_prefix puts a space in front; escape_whitespaces writes
 *    every space as ▁ (U+2581);
 *  - BPE (bpe_model.cc): start from characters (user-defined symbols whole), repeatedly merge the
 *    adjacent pair whose concatenation is a piece with the highest score (leftmost on ties;
 *    score-merge.ts); pieces of type UNUSED are split back along the merges that made them;
 *  - unigram (unigram_model.cc, EncodeOptimized): Viterbi over the pieces that start at each
 *    character, path scores stored as float32 (piece candidates compared in double, as there),
 *    first-found best kept; a character no piece covers is an unknown node scored
 *    min(normal scores) − 10; user-defined pieces score (UTF-8 length)·max − 0.1;
 *  - unknown pieces become their UTF-8 bytes (<0xXX>) with byte_fallback, otherwise consecutive
 *    unknowns merge into one <unk> (sentencepiece_processor.cc).
 * Decoding joins pieces, assembles byte pieces into UTF-8, turns ▁ back into spaces and drops the
 * dummy-prefix space of the first piece; control pieces vanish and <unk> reads as unk_surface.
 */
import { mergeByScore } from './score-merge.ts';
import type { SentencePieceModel } from './sentencepiece-model.ts';

const SPACE = '\u2581';
const UNK_PENALTY = 10;
const f32 = Math.fround;
const utf8Length = (s: string) => new TextEncoder().encode(s).length;

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Piece id ending here, −1 when none. */
  id: number;
}

export class SentencePieceCodec {
  readonly model: SentencePieceModel;
  /** Pieces that encoding may produce (normal, user-defined, unused), by text. */
  private readonly ids = new Map<string, number>();
  private readonly userDefined: string[] = [];
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly minScore: number;
  private readonly maxScore: number;
  /** Prefix tree of the pieces unigram segmentation may use (normal and user-defined), by character. */
  private readonly trie: TrieNode = { children: new Map(), id: -1 };

  constructor(model: SentencePieceModel, where: string) {
    this.model = model;
    if (model.modelType !== 'bpe' && model.modelType !== 'unigram') {
      throw new Error(`${where}: SentencePiece model type "${model.modelType}" is not supported (only bpe and unigram)`);
    }
    if (model.normalizer.charsmapBytes > 0) {
      throw new Error(`${where}: SentencePiece normalization "${model.normalizer.name}" (a precompiled character map) is not supported; ` +
        'linscope reads identity-normalized models (Llama, Mistral, Gemma) — use the model\'s tokenizer.json');
    }
    if (model.treatWhitespaceAsSuffix) throw new Error(`${where}: SentencePiece treat_whitespace_as_suffix is not supported`);
    let min = Infinity;
    let max = -Infinity;
    model.pieces.forEach((p, id) => {
      if (p.type === 'normal' || p.type === 'user_defined' || p.type === 'unused') {
        if (!this.ids.has(p.piece)) this.ids.set(p.piece, id);
      }
      if ((p.type === 'normal' || p.type === 'user_defined') && p.piece.length > 0) {
        let node = this.trie;
        for (const ch of p.piece) {
          let next = node.children.get(ch);
          if (!next) node.children.set(ch, (next = { children: new Map(), id: -1 }));
          node = next;
        }
        if (node.id < 0) node.id = id;
      }
      if (p.type === 'user_defined') this.userDefined.push(p.piece);
      if (p.type === 'normal') {
        min = Math.min(min, p.score);
        max = Math.max(max, p.score);
      }
      if (p.type === 'byte') {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p.piece);
        if (m) this.byteIds[Number.parseInt(m[1], 16)] = id;
      }
    });
    this.userDefined.sort((a, b) => b.length - a.length);
    this.minScore = min;
    this.maxScore = max;
    if (model.byteFallback && this.byteIds.some((id) => id < 0)) throw new Error(`${where}: SentencePiece byte_fallback is on but some <0xXX> byte pieces are missing`);
    if (!(model.unkId >= 0 && model.unkId < model.pieces.length)) throw new Error(`${where}: SentencePiece unk_id ${model.unkId} is not a piece`);
  }

  /** normalizer.cc with the identity rule. */
  /** @param addDummyPrefix override the model's add_dummy_prefix (transformers' non-legacy Llama turns it off) */
  normalize(text: string, addDummyPrefix = this.model.normalizer.addDummyPrefix): string {
    const n = this.model.normalizer;
    let s = text;
    if (n.removeExtraWhitespaces) s = s.replace(/^ +/, '').replace(/ +$/, '').replace(/ {2,}/g, ' ');
    if (s.length === 0) return '';
    if (addDummyPrefix) s = ` ${s}`;
    return n.escapeWhitespaces ? s.replaceAll(' ', SPACE) : s;
  }

  /** Initial symbols: user-defined pieces whole, otherwise one Unicode character each. */
  private symbols(s: string): string[] {
    const out: string[] = [];
    let i = 0;
    while (i < s.length) {
      const ud = this.userDefined.find((u) => s.startsWith(u, i));
      const cp = s.codePointAt(i)!;
      const piece = ud ?? String.fromCodePoint(cp);
      out.push(piece);
      i += piece.length;
    }
    return out;
  }

  private encodeBpe(s: string): { piece: string; id: number }[] {
    const pieces = this.model.pieces;
    // symbols outside the vocabulary get placeholder ids past its end
    const extra: string[] = [];
    const initial = this.symbols(s).map((sym) => this.ids.get(sym) ?? pieces.length + extra.push(sym) - 1);
    const text = (id: number) => (id < pieces.length ? pieces[id].piece : extra[id - pieces.length]);
    const revMerge = new Map<number, [number, number]>();
    const merged = mergeByScore(initial, text, (t) => this.ids.get(t), (id) => pieces[id].score, (m, l, r) => {
      if (pieces[m].type === 'unused') revMerge.set(m, [l, r]);
    });
    const out: { piece: string; id: number }[] = [];
    const resegment = (id: number) => {
      const split = revMerge.get(id);
      if (split) {
        resegment(split[0]);
        resegment(split[1]);
      } else {
        out.push({ piece: text(id), id: id < pieces.length ? id : -1 });
      }
    };
    for (const id of merged) resegment(id);
    return out;
  }

  private encodeUnigram(s: string): { piece: string; id: number }[] {
    const chars = [...s];
    const n = chars.length;
    const best = new Float32Array(n + 1).fill(0);
    const from = new Int32Array(n + 1).fill(-1);
    const ids = new Int32Array(n + 1).fill(-1);
    const found = new Uint8Array(n + 1);
    found[0] = 1;
    const unkScore = this.minScore - UNK_PENALTY;
    for (let start = 0; start < n; start++) {
      if (!found[start]) continue;
      const base = best[start];
      let singleNode = false;
      let node: TrieNode | undefined = this.trie;
      for (let len = 1; start + len <= n; len++) {
        node = node.children.get(chars[start + len - 1]);
        if (!node) break;
        const id = node.id;
        if (id < 0) continue;
        const p = this.model.pieces[id];
        // In sentencepiece this sum is a double (the user-defined branch makes `score` double),
        // compared with the float stored path score, and stored rounded to float.
        const score = p.type === 'user_defined' ? utf8Length(p.piece) * this.maxScore - 0.1 : p.score;
        const cand = base + score;
        const end = start + len;
        if (!found[end] || cand > best[end]) {
          best[end] = cand;
          from[end] = start;
          ids[end] = id;
          found[end] = 1;
        }
        if (len === 1) singleNode = true;
      }
      if (!singleNode) {
        const cand = f32(base + unkScore);
        const end = start + 1;
        if (!found[end] || cand > best[end]) {
          best[end] = cand;
          from[end] = start;
          ids[end] = -1;
          found[end] = 1;
        }
      }
    }
    const out: { piece: string; id: number }[] = [];
    for (let end = n; end > 0; end = from[end]) out.push({ piece: chars.slice(from[end], end).join(''), id: ids[end] });
    return out.reverse();
  }

  /** Ids of `text` (no BOS/EOS). */
  encode(text: string, addDummyPrefix?: boolean): number[] {
    const s = this.normalize(text, addDummyPrefix);
    if (s.length === 0) return [];
    const raw = this.model.modelType === 'bpe' ? this.encodeBpe(s) : this.encodeUnigram(s);
    const out: number[] = [];
    const utf8 = new TextEncoder();
    let prevUnk = false;
    for (const { piece, id } of raw) {
      const isUnk = id < 0 || id === this.model.unkId;
      if (isUnk && this.model.byteFallback) {
        for (const b of utf8.encode(piece)) out.push(this.byteIds[b]);
        prevUnk = false;
        continue;
      }
      if (isUnk && prevUnk) continue; // runs of unknowns read as one <unk>
      out.push(isUnk ? this.model.unkId : id);
      prevUnk = isUnk;
    }
    return out;
  }

  /** Text of `ids`, as sentencepiece's DecodeIds. */
  decode(ids: ArrayLike<number>, skipSpecial = false): string {
    const pieces = this.model.pieces;
    const decoder = new TextDecoder('utf-8', { fatal: false });
    let text = '';
    let bytes: number[] = [];
    let first = true;
    const flush = () => {
      if (bytes.length > 0) text += decoder.decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (let k = 0; k < ids.length; k++) {
      const p = pieces[ids[k]];
      if (!p) continue;
      if (p.type === 'byte') {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p.piece);
        if (m) bytes.push(Number.parseInt(m[1], 16));
        first = false;
        continue;
      }
      flush();
      if (p.type === 'control') continue;
      if (p.type === 'unknown') {
        if (!skipSpecial) text += this.model.unkSurface;
        first = false;
        continue;
      }
      let piece = p.piece;
      if (first && this.model.normalizer.addDummyPrefix && piece.startsWith(SPACE)) piece = piece.slice(1);
      first = false;
      text += this.model.normalizer.escapeWhitespaces ? piece.replaceAll(SPACE, ' ') : piece;
    }
    flush();
    return text;
  }
}
