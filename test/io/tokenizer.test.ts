import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HFTokenizer, loadHFTokenizer } from '../../src/io/tokenizer.ts';
import { tinyTokenizerConfig, tinyTokenizerJson } from './tiny-tokenizer.ts';

const THE = 3 + 256 + 1; // "the"
const G_THE = 3 + 256 + 2; // "Ġthe"
const G_CAT = 3 + 256 + 5; // "Ġcat"

test('HF byte-level BPE: merges, special tokens, ids', () => {
  const tok = new HFTokenizer(tinyTokenizerJson(), tinyTokenizerConfig());
  assert.deepEqual(tok.encode('the the cat'), [0, THE, G_THE, G_CAT]);
  assert.deepEqual(tok.encode('the the cat', { addSpecialTokens: false }), [THE, G_THE, G_CAT]);
  assert.equal(tok.bosId, 0);
  assert.equal(tok.eosId, 1);
  assert.equal(tok.padId, 2);
  assert.equal(tok.vocabSize, 3 + 256 + 6);
  assert.equal(tok.idToToken(G_THE), 'Ġthe');
  assert.equal(tok.idToToken(3 + 0x41), 'A');
  assert.equal(tok.idToToken(100000), undefined);
  assert.equal(tok.decode([0, THE, G_THE, G_CAT, 1]), '<s>the the cat</s>');
  assert.equal(tok.decode([0, THE, G_THE, G_CAT, 1], { skipSpecialTokens: true }), 'the the cat');
  assert.equal(tok.decode([]), '');
});

test('HF byte-level BPE: any Unicode text round-trips', () => {
  const tok = new HFTokenizer(tinyTokenizerJson(), tinyTokenizerConfig());
  for (const text of ['Hello, world!', '  leading spaces\n\ttabs', 'naïve café – “quotes” 日本語 🙂', 'the cat sat on the mat.']) {
    const ids = tok.encode(text, { addSpecialTokens: false });
    assert.equal(tok.decode(ids), text);
  }
});

test('special ids fall back to config.json when tokenizer_config.json is absent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-tok-'));
  try {
    assert.equal(loadHFTokenizer(dir), undefined);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
    const tok = loadHFTokenizer(dir, { bos_token_id: 0, eos_token_id: [1, 2] })!;
    assert.equal(tok.bosId, 0);
    assert.equal(tok.eosId, 1);
    assert.equal(tok.padId, undefined);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tinyTokenizerConfig()));
    assert.equal(loadHFTokenizer(dir)!.padId, 2);
    writeFileSync(join(dir, 'tokenizer.json'), '{ broken');
    assert.throws(() => loadHFTokenizer(dir), /tokenizer\.json: .*JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
