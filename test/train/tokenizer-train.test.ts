import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer as HFTokenizerImpl } from '@huggingface/tokenizers';
import { HFTokenizer, loadHFTokenizer } from '../../src/io/tokenizer.ts';
import { trainBpe } from '../../src/tokenizer-train/bpe-trainer.ts';
import { byteAlphabet, byteLevelPieces } from '../../src/tokenizer-train/byte-level.ts';
import { trainByteLevelBpe, writeTokenizerFiles } from '../../src/tokenizer-train/train.ts';
import { datasetsDir, skipUnless } from '../helpers/paths.ts';

const CORPUS = [
  'The cat sat on the mat. The cat was happy.',
  'Then the other cat came, and the two cats sat together on the mat.',
  "It's a sunny day; they're playing outside — naïve café owners wave.",
  'Numbers: 12345 and 2024, symbols #$%&, tabs\tand  double  spaces.',
  'Unicode: 日本語のテキスト, emoji 🙂, Ελληνικά.',
];

test('BPE merges the most frequent pair first and counts incrementally (hand example)', () => {
  // words with counts: "abab"×3, "abc"×2, "bc"×4 → pairs: ab 3·2+2 = 8, ba 3, bc 2+4 = 6
  const alphabet = ['a', 'b', 'c'];
  const words = [['a', 'b', 'a', 'b'], ['a', 'b', 'c'], ['b', 'c']];
  const counts = [3, 2, 4];
  const m = trainBpe(words, counts, alphabet, { vocabSize: 6, minFrequency: 1 });
  // 1st: ab (8). Then words: [ab ab]×3, [ab c]×2, [b c]×4 → pairs: (ab,ab) 3, (ab,c) 2, (b,c) 4 → bc
  // 3rd: (ab,ab) 3 → "abab"
  assert.deepEqual(m.merges, [['a', 'b'], ['b', 'c'], ['ab', 'ab']]);
  assert.deepEqual(m.tokens, ['a', 'b', 'c', 'ab', 'bc', 'abab']);
  // minFrequency stops merging: with 4, after "ab" (8) and "bc" (4) nothing is frequent enough
  assert.deepEqual(trainBpe(words, counts, alphabet, { vocabSize: 10, minFrequency: 4 }).merges, [['a', 'b'], ['b', 'c']]);
});

test('trained tokenizer.json loads in @huggingface/tokenizers and round-trips text exactly', () => {
  const tok = trainByteLevelBpe(CORPUS, { vocabSize: 300, minFrequency: 1, specialTokens: ['<|endoftext|>', '<pad>'] });
  const hf = new HFTokenizer(tok.tokenizerJson, tok.tokenizerConfig);
  assert.equal(hf.bosId, 0);
  assert.equal(hf.eosId, 0);
  assert.ok(hf.vocabSize <= 300 && hf.vocabSize > 258);
  for (const text of [...CORPUS, 'unseen wörds & ünïcödé 🙂🙂', ' leading space', 'trailing  \n\n', '']) {
    const ids = hf.encode(text);
    if (text !== '') assert.equal(ids[0], 0, 'BOS first');
    assert.equal(hf.decode(ids, { skipSpecialTokens: true }), text);
  }
  // learned merges are used: a frequent word is one token
  const cat = hf.encode(' cat', { addSpecialTokens: false });
  assert.equal(cat.length, 1);
  assert.equal(hf.idToToken(cat[0]), 'Ġcat');
});

test('training is deterministic and independent of document order', () => {
  const a = trainByteLevelBpe(CORPUS, { vocabSize: 320, minFrequency: 1 });
  const b = trainByteLevelBpe([...CORPUS].reverse(), { vocabSize: 320, minFrequency: 1 });
  assert.equal(JSON.stringify(a.tokenizerJson), JSON.stringify(b.tokenizerJson));
});

test('every merge joins two tokens of the vocabulary, and pre-tokenisation matches the library', () => {
  const tok = trainByteLevelBpe(CORPUS, { vocabSize: 320, minFrequency: 1 });
  const vocab = (tok.tokenizerJson.model as { vocab: Record<string, number> }).vocab;
  for (const [l, r] of tok.files.merges) {
    assert.ok(l in vocab && r in vocab && l + r in vocab, `${l} + ${r}`);
  }
  const impl = new HFTokenizerImpl(tok.tokenizerJson, tok.tokenizerConfig);
  const alphabet = byteAlphabet();
  for (const text of CORPUS) {
    const pieces = byteLevelPieces(text, alphabet);
    const tokens = impl.encode(text, { add_special_tokens: false }).tokens;
    assert.equal(tokens.join(''), pieces.join(''));
  }
});

test('written files are a tokenizer folder for loadHFTokenizer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-tok-'));
  try {
    const tok = trainByteLevelBpe(CORPUS, { vocabSize: 280, minFrequency: 1 });
    writeTokenizerFiles(dir, tok);
    const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    assert.equal(cfg.bos_token, '<|endoftext|>');
    const hf = loadHFTokenizer(dir)!;
    assert.equal(hf.decode(hf.encode(CORPUS[2]), { skipSpecialTokens: true }), CORPUS[2]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a few hundred KB of real text train quickly', { skip: skipUnless(join(datasetsDir, 'tinyshakespeare')) }, () => {
  const text = readFileSync(join(datasetsDir, 'tinyshakespeare', 'input.txt'), 'utf8').slice(0, 300_000);
  const t0 = performance.now();
  const tok = trainByteLevelBpe(text.split(/\n\s*\n/), { vocabSize: 1024 });
  const ms = performance.now() - t0;
  assert.equal(tok.stats.merges, 1024 - 1 - 256);
  assert.ok(ms < 5000, `${ms} ms`);
  const hf = new HFTokenizer(tok.tokenizerJson, tok.tokenizerConfig);
  const sample = text.slice(1000, 3000);
  assert.equal(hf.decode(hf.encode(sample), { skipSpecialTokens: true }), sample);
  assert.ok(hf.encode(sample).length < sample.length / 2.5, 'compresses');
});
