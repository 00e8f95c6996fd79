/**
 * Parse a SentencePiece `tokenizer.model` (a serialized `sentencepiece.ModelProto`, protobuf wire
 * format) into the fields the encoders need. Field numbers follow sentencepiece_model.proto:
 *   ModelProto     1 pieces (SentencePiece: 1 piece, 2 score, 3 type), 2 trainer_spec, 3 normalizer_spec
 *   TrainerSpec    3 model_type (1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR), 35 byte_fallback,
 *                  40 unk_id, 41 bos_id, 42 eos_id, 43 pad_id, 44 unk_surface, 24 treat_whitespace_as_suffix
 *   NormalizerSpec 1 name, 2 precompiled_charsmap, 3 add_dummy_prefix, 4 remove_extra_whitespaces,
 *                  5 escape_whitespaces
 * Defaults are the proto's (add_dummy_prefix, remove_extra_whitespaces and escape_whitespaces true).
 */

export type PieceType = 'normal' | 'unknown' | 'control' | 'user_defined' | 'unused' | 'byte';
const PIECE_TYPES: Record<number, PieceType> = { 1: 'normal', 2: 'unknown', 3: 'control', 4: 'user_defined', 5: 'unused', 6: 'byte' };

export interface SentencePieceModel {
  pieces: { piece: string; score: number; type: PieceType }[];
  modelType: 'unigram' | 'bpe' | 'word' | 'char';
  byteFallback: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  unkSurface: string;
  treatWhitespaceAsSuffix: boolean;
  normalizer: {
    name: string;
    /** Bytes of the precompiled character map; empty for the identity rule. */
    charsmapBytes: number;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
  };
}

type Field = { field: number; wire: number; int: bigint; bytes?: Uint8Array; f32?: number };

/** Every field of one protobuf message, in order (unknown fields included). */
function fields(buf: Uint8Array, where: string): Field[] {
  const out: Field[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length || shift > 63n) throw new Error(`${where}: not a SentencePiece model (bad protobuf varint)`);
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, int: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new Error(`${where}: not a SentencePiece model (protobuf field ${field} runs past the end)`);
      out.push({ field, wire, int: 0n, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 5) {
      if (pos + 4 > buf.length) throw new Error(`${where}: not a SentencePiece model (truncated)`);
      out.push({ field, wire, int: 0n, f32: view.getFloat32(pos, true) });
      pos += 4;
    } else if (wire === 1) {
      pos += 8;
    } else {
      throw new Error(`${where}: not a SentencePiece model (protobuf wire type ${wire})`);
    }
  }
  if (pos !== buf.length) throw new Error(`${where}: not a SentencePiece model (truncated)`);
  return out;
}

/** Protobuf int32: a varint holding the two's-complement 64-bit value. */
const int32 = (v: bigint) => Number(BigInt.asIntN(32, v));

/** Parse a tokenizer.model file's bytes. */
export function parseSentencePieceModel(buf: Uint8Array, where: string): SentencePieceModel {
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  const model: SentencePieceModel = {
    pieces: [], modelType: 'unigram', byteFallback: false, unkId: 0, bosId: 1, eosId: 2, padId: -1, unkSurface: ' \u2047 ',
    treatWhitespaceAsSuffix: false,
    normalizer: { name: '', charsmapBytes: 0, addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true },
  };
  for (const f of fields(buf, where)) {
    if (f.field === 1 && f.bytes) {
      const p = { piece: '', score: 0, type: 'normal' as PieceType };
      for (const g of fields(f.bytes, where)) {
        if (g.field === 1 && g.bytes) p.piece = utf8.decode(g.bytes);
        else if (g.field === 2 && g.f32 !== undefined) p.score = g.f32;
        else if (g.field === 3) p.type = PIECE_TYPES[Number(g.int)] ?? 'normal';
      }
      model.pieces.push(p);
    } else if (f.field === 2 && f.bytes) {
      for (const g of fields(f.bytes, where)) {
        if (g.field === 3) model.modelType = (['unigram', 'unigram', 'bpe', 'word', 'char'] as const)[Number(g.int)] ?? 'unigram';
        else if (g.field === 35) model.byteFallback = g.int !== 0n;
        else if (g.field === 40) model.unkId = int32(g.int);
        else if (g.field === 41) model.bosId = int32(g.int);
        else if (g.field === 42) model.eosId = int32(g.int);
        else if (g.field === 43) model.padId = int32(g.int);
        else if (g.field === 44 && g.bytes) model.unkSurface = utf8.decode(g.bytes);
        else if (g.field === 24) model.treatWhitespaceAsSuffix = g.int !== 0n;
      }
    } else if (f.field === 3 && f.bytes) {
      for (const g of fields(f.bytes, where)) {
        if (g.field === 1 && g.bytes) model.normalizer.name = utf8.decode(g.bytes);
        else if (g.field === 2 && g.bytes) model.normalizer.charsmapBytes = g.bytes.length;
        else if (g.field === 3) model.normalizer.addDummyPrefix = g.int !== 0n;
        else if (g.field === 4) model.normalizer.removeExtraWhitespaces = g.int !== 0n;
        else if (g.field === 5) model.normalizer.escapeWhitespaces = g.int !== 0n;
      }
    }
  }
  if (model.pieces.length === 0) throw new Error(`${where}: not a SentencePiece model (no pieces)`);
  return model;
}
