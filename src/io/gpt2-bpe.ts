/**
 * GPT-2's slow tokenizer files, `vocab.json` + `merges.txt`: byte-level BPE as transformers'
 * GPT2Tokenizer runs it (and as the ByteLevel/BPE tokenizer.json converted from them does):
 * special tokens are cut out first (added-tokens.ts); the rest is split by GPT-2's pattern, each
 * piece written in the byte alphabet, then merged pair by pair, lowest merge rank first, every
 * occurrence of the pair at once. `add_prefix_space` and `add_bos_token` come from
 * tokenizer_config.json (both off by default, as in GPT2Tokenizer). The pattern and alphabet are
 * the ones linscope's tokenizer trainer uses (src/tokenizer-train/byte-level.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { byteAlphabet, byteLevelPieces } from '../tokenizer-train/byte-level.ts';
import type { ModelConfig } from './config.ts';
import { configAddedTokens, configSpecialTexts, splitOnTokens } from './added-tokens.ts';
import { configTokenId, readJson, readTokenizerConfig, specialTokenText, type DecodeOptions, type EncodeOptions, type Tokenizer } from './tokenizer.ts';

/** Slow-tokenizer classes that are GPT-2's byte-level BPE over vocab.json + merges.txt. */
const GPT2_CLASSES = /^(GPT2Tokenizer|GPT2TokenizerFast|CodeGenTokenizer|CodeGenTokenizerFast|GPTNeoXTokenizerFast|PreTrainedTokenizerFast)$/;

export class Gpt2BpeTokenizer implements Tokenizer {
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  readonly vocabSize: number;
  private readonly vocab = new Map<string, number>();
  private readonly tokens: string[] = [];
  private readonly ranks = new Map<string, number>();
  private readonly alphabet = byteAlphabet();
  private readonly byteOf = new Map<string, number>();
  private readonly specials = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly cache = new Map<string, number[]>();
  private readonly addPrefixSpace: boolean;
  private readonly addBos: boolean;

  /**
   * @param vocab parsed vocab.json {token: id}
   * @param merges lines of merges.txt
   * @param config parsed tokenizer_config.json ({} when absent)
   * @param modelConfig config.json, the fallback for special token ids
   */
  constructor(vocab: Record<string, unknown>, merges: string[], config: Record<string, unknown>, modelConfig: ModelConfig, where: string) {
    for (const [token, id] of Object.entries(vocab)) {
      if (!Number.isSafeInteger(id) || (id as number) < 0) throw new Error(`${where}: vocab.json gives token ${JSON.stringify(token)} the id ${JSON.stringify(id)}`);
      this.vocab.set(token, id as number);
      this.tokens[id as number] = token;
    }
    let rank = 0;
    for (const [n, line] of merges.entries()) {
      if (line.startsWith('#version') || line.trim() === '') continue;
      const parts = line.replace(/\r$/, '').split(' ');
      if (parts.length !== 2) throw new Error(`${where}: merges.txt line ${n + 1} is not "left right": ${JSON.stringify(line)}`);
      if (!this.ranks.has(`${parts[0]} ${parts[1]}`)) this.ranks.set(`${parts[0]} ${parts[1]}`, rank);
      rank++;
    }
    this.alphabet.forEach((ch, b) => this.byteOf.set(ch, b));
    for (const [text, id] of configAddedTokens(config)) {
      this.specials.set(text, id);
      this.tokens[id] ??= text;
    }
    const named = configSpecialTexts(config);
    const defaults = Object.keys(config).length === 0 && this.vocab.has('<|endoftext|>') ? ['<|endoftext|>'] : [];
    for (const text of [...named, ...defaults]) {
      const id = this.specials.get(text) ?? this.vocab.get(text);
      if (id !== undefined) this.specials.set(text, id);
    }
    for (const id of this.specials.values()) this.specialIds.add(id);
    this.vocabSize = this.tokens.length;
    const idOf = (key: string): number | undefined => {
      const text = specialTokenText(config[key]) ?? (defaults.length > 0 && key !== 'pad_token' ? defaults[0] : undefined);
      const id = text === undefined ? undefined : this.specials.get(text) ?? this.vocab.get(text);
      return id ?? configTokenId(modelConfig, key);
    };
    this.bosId = idOf('bos_token');
    this.eosId = idOf('eos_token');
    this.padId = idOf('pad_token');
    this.addPrefixSpace = config.add_prefix_space === true;
    this.addBos = config.add_bos_token === true;
  }

  /** BPE of one pre-tokenized piece (in byte-alphabet form). */
  private bpe(piece: string): number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    let word = [...piece];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < word.length; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = word[best];
      const b = word[best + 1];
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else {
          merged.push(word[i]);
        }
      }
      word = merged;
    }
    // symbols missing from the vocabulary are dropped, as the BPE model without unk_token does
    const ids = word.map((t) => this.vocab.get(t)).filter((id): id is number => id !== undefined);
    if (this.cache.size < 100_000) this.cache.set(piece, ids);
    return ids;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if ((options.addSpecialTokens ?? true) && this.addBos && this.bosId !== undefined) out.push(this.bosId);
    // GPT2Tokenizer.prepare_for_tokenization: add_prefix_space puts one space before the whole text
    const input = this.addPrefixSpace ? ` ${text}` : text;
    for (const seg of splitOnTokens(input, this.specials.keys())) {
      if ('token' in seg) out.push(this.specials.get(seg.token)!);
      else for (const piece of byteLevelPieces(seg.text, this.alphabet)) out.push(...this.bpe(piece));
    }
    return out;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const bytes: number[] = [];
    let text = '';
    const flush = () => {
      text += new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(bytes));
      bytes.length = 0;
    };
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      const token = this.tokens[id];
      if (token === undefined) continue;
      if (this.specialIds.has(id)) {
        if (options.skipSpecialTokens) continue;
        flush();
        text += token;
        continue;
      }
      for (const ch of token) {
        const b = this.byteOf.get(ch);
        if (b !== undefined) bytes.push(b);
      }
    }
    flush();
    return text;
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }
}

/** The GPT-2 tokenizer of a folder with vocab.json + merges.txt, or undefined when it has not both. */
export function loadGpt2BpeTokenizer(dir: string, modelConfig: ModelConfig = {}): Gpt2BpeTokenizer | undefined {
  const vocabPath = join(dir, 'vocab.json');
  const mergesPath = join(dir, 'merges.txt');
  if (!existsSync(vocabPath) || !existsSync(mergesPath)) return undefined;
  const config = readTokenizerConfig(dir);
  const cls = config.tokenizer_class;
  if (typeof cls === 'string' && !GPT2_CLASSES.test(cls)) {
    throw new Error(`${dir}: tokenizer_class ${cls} with vocab.json + merges.txt: linscope reads these files as GPT-2's byte-level BPE only; use the model's tokenizer.json`);
  }
  return new Gpt2BpeTokenizer(readJson(vocabPath), readFileSync(mergesPath, 'utf8').split('\n'), config, modelConfig, dir);
}
