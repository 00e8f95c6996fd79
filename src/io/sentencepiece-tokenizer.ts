/**
 * A `tokenizer.model` (SentencePiece) folder tokenizer, as transformers' slow LlamaTokenizer
 * uses it: special tokens — the model's control and unknown pieces and tokenizer_config.json's added
 * tokens — are cut out of the text first (added-tokens.ts), the rest is encoded by sentencepiece's
 * algorithms (sentencepiece-encode.ts), and BOS (add_bos_token, default true) / EOS (add_eos_token,
 * default false) are added. Legacy mode (the default) encodes every piece of text between special
 * tokens with the model's dummy prefix; with `"legacy": false` (transformers' LlamaTokenizer.tokenize)
 * "▁" in the text reads as a space, one space is put in front of the whole text (add_prefix_space,
 * default true), the pieces are encoded without dummy prefix, and a lone leading "▁" before a special
 * token is dropped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from './config.ts';
import { configAddedTokens, configSpecialTexts, splitOnTokens } from './added-tokens.ts';
import { SentencePieceCodec } from './sentencepiece-encode.ts';
import { parseSentencePieceModel } from './sentencepiece-model.ts';
import { configTokenId, readTokenizerConfig, specialTokenText, type DecodeOptions, type EncodeOptions, type Tokenizer } from './tokenizer.ts';

export class SentencePieceTokenizer implements Tokenizer {
  readonly codec: SentencePieceCodec;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  readonly vocabSize: number;
  private readonly specials = new Map<string, number>();
  private readonly addedIds = new Map<number, string>();
  private readonly addBos: boolean;
  private readonly addEos: boolean;
  private readonly legacy: boolean;
  private readonly addPrefixSpace: boolean;
  private readonly spaceId: number | undefined;

  constructor(modelBytes: Uint8Array, config: Record<string, unknown>, modelConfig: ModelConfig, where: string) {
    const model = parseSentencePieceModel(modelBytes, where);
    this.codec = new SentencePieceCodec(model, where);
    const pieceIds = new Map<string, number>();
    model.pieces.forEach((p, id) => {
      if (!pieceIds.has(p.piece)) pieceIds.set(p.piece, id);
      if (p.type === 'control' || p.type === 'unknown') this.specials.set(p.piece, id);
    });
    for (const [text, id] of configAddedTokens(config)) {
      this.specials.set(text, id);
      if (id >= model.pieces.length) this.addedIds.set(id, text);
    }
    for (const text of configSpecialTexts(config)) {
      const id = this.specials.get(text) ?? pieceIds.get(text);
      if (id !== undefined) this.specials.set(text, id);
    }
    let size = model.pieces.length;
    for (const id of this.addedIds.keys()) size = Math.max(size, id + 1);
    this.vocabSize = size;
    const idOf = (key: string, fromModel: number): number | undefined => {
      const text = specialTokenText(config[key]);
      const id = text === undefined ? undefined : this.specials.get(text) ?? pieceIds.get(text);
      if (id !== undefined) return id;
      if (fromModel >= 0 && fromModel < model.pieces.length) return fromModel;
      return configTokenId(modelConfig, key);
    };
    this.bosId = idOf('bos_token', model.bosId);
    this.eosId = idOf('eos_token', model.eosId);
    this.padId = idOf('pad_token', model.padId);
    this.addBos = config.add_bos_token !== false;
    this.addEos = config.add_eos_token === true;
    this.legacy = config.legacy !== false;
    this.addPrefixSpace = config.add_prefix_space !== false;
    this.spaceId = pieceIds.get('\u2581');
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const special = options.addSpecialTokens ?? true;
    const out: number[] = [];
    if (special && this.addBos && this.bosId !== undefined) out.push(this.bosId);
    if (this.legacy) {
      for (const seg of splitOnTokens(text, this.specials.keys())) {
        if ('token' in seg) out.push(this.specials.get(seg.token)!);
        else out.push(...this.codec.encode(seg.text));
      }
    } else if (text.length > 0) {
      const body: number[] = [];
      const prefixed = (this.addPrefixSpace ? '\u2581' : '') + text.replaceAll('\u2581', ' ');
      const segments = splitOnTokens(prefixed, this.specials.keys());
      segments.forEach((seg) => {
        if ('token' in seg) body.push(this.specials.get(seg.token)!);
        else body.push(...this.codec.encode(seg.text, false));
      });
      const leadingLone = segments.length > 1 && 'text' in segments[0] && segments[0].text === '\u2581' && 'token' in segments[1];
      out.push(...(leadingLone && body[0] === this.spaceId ? body.slice(1) : body));
    }
    if (special && this.addEos && this.eosId !== undefined) out.push(this.eosId);
    return out;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? false;
    let text = '';
    let run: number[] = [];
    for (let k = 0; k <= ids.length; k++) {
      const added = k < ids.length ? this.addedIds.get(ids[k]) : undefined;
      if (k === ids.length || added !== undefined) {
        text += this.codec.decode(run, skip);
        run = [];
        if (added !== undefined && !skip) text += added;
      } else {
        run.push(ids[k]);
      }
    }
    return text;
  }

  idToToken(id: number): string | undefined {
    return this.codec.model.pieces[id]?.piece ?? this.addedIds.get(id);
  }
}

/** The tokenizer of a folder with `tokenizer.model`, or undefined when it has none. */
export function loadSentencePieceTokenizer(dir: string, modelConfig: ModelConfig = {}): SentencePieceTokenizer | undefined {
  const path = join(dir, 'tokenizer.model');
  if (!existsSync(path)) return undefined;
  const config = readTokenizerConfig(dir);
  return new SentencePieceTokenizer(readFileSync(path), config, modelConfig, path);
}
