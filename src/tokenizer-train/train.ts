/**
 * Train a byte-level BPE tokenizer on documents and write it as Hugging Face files.
 *
 *   const tok = trainByteLevelBpe(docs, { vocabSize: 4096 });
 *   writeTokenizerFiles('out/model', tok);      // tokenizer.json + tokenizer_config.json
 *
 * Deterministic: the same documents and options give byte-identical files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainBpe } from './bpe-trainer.ts';
import { byteAlphabet, byteLevelPieces } from './byte-level.ts';
import { byteLevelTokenizerConfig, byteLevelTokenizerJson, type ByteLevelBpeFiles } from './tokenizer-json.ts';

export interface ByteLevelBpeOptions {
  /** Final vocabulary size, special tokens included. */
  vocabSize: number;
  /** Special tokens at ids 0…k−1 (default ['<|endoftext|>']). */
  specialTokens?: readonly string[];
  /** BOS token (default the first special token); prepended when encoding. */
  bosToken?: string;
  /** EOS token (default the first special token); separates documents in training streams. */
  eosToken?: string;
  minFrequency?: number;
  modelMaxLength?: number;
}

export interface TrainedTokenizer {
  files: ByteLevelBpeFiles;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** Number of words (pre-tokenised pieces) seen and of distinct ones. */
  stats: { pieces: number; distinctPieces: number; merges: number };
}

/** Learns merges from `documents` (each pre-tokenised with GPT-2's pattern) and builds the HF files. */
export function trainByteLevelBpe(documents: Iterable<string>, opts: ByteLevelBpeOptions): TrainedTokenizer {
  const specials = opts.specialTokens ?? ['<|endoftext|>'];
  if (specials.length === 0) throw new Error('tokenizer: at least one special token (BOS/EOS) is needed');
  const alphabet = byteAlphabet();
  const counts = new Map<string, number>();
  let pieces = 0;
  for (const doc of documents) {
    for (const piece of byteLevelPieces(doc, alphabet)) {
      counts.set(piece, (counts.get(piece) ?? 0) + 1);
      pieces++;
    }
  }
  // sorted words: the training input (and so the result) does not depend on document order quirks
  const words = [...counts.keys()].sort();
  const model = trainBpe(words.map((w) => [...w]), words.map((w) => counts.get(w)!), alphabet, {
    vocabSize: opts.vocabSize, minFrequency: opts.minFrequency, reservedIds: specials.length,
  });
  const files: ByteLevelBpeFiles = {
    specialTokens: specials,
    tokens: model.tokens,
    merges: model.merges,
    bosToken: opts.bosToken ?? specials[0],
    eosToken: opts.eosToken ?? specials[0],
    modelMaxLength: opts.modelMaxLength,
  };
  return {
    files,
    tokenizerJson: byteLevelTokenizerJson(files),
    tokenizerConfig: byteLevelTokenizerConfig(files),
    stats: { pieces, distinctPieces: words.length, merges: model.merges.length },
  };
}

/** Writes tokenizer.json and tokenizer_config.json into `dir`. */
export function writeTokenizerFiles(dir: string, tok: Pick<TrainedTokenizer, 'tokenizerJson' | 'tokenizerConfig'>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson));
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(tok.tokenizerConfig, null, 2)}\n`);
}
