/**
 * GPT-2's `vocab.json` + `merges.txt`: linscope's byte-level BPE gives the ids that
 * @huggingface/tokenizers gives for the equivalent tokenizer.json (GPT-2's layout: ByteLevel
 * pre-tokenizer and decoder, BPE model, <|endoftext|> as added special token), on slices of the
 * four shipped corpora. The fixture (test/data/gpt2-bpe/) is a 1000-token BPE written by
 * scripts/fixtures/gpt2-bpe.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gpt2BpeTokenizer, loadGpt2BpeTokenizer } from '../../src/io/gpt2-bpe.ts';
import { loadFolderTokenizer } from '../../src/io/tokenizer-files.ts';
import { HFTokenizer } from '../../src/io/tokenizer.ts';
import { datasetsDir, repoRoot, skipUnless } from '../helpers/paths.ts';

const dir = join(repoRoot, 'test', 'data', 'gpt2-bpe');
const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
const merges = readFileSync(join(dir, 'merges.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#version'));

/** The tokenizer.json transformers' GPT2Converter writes for these files. */
function gpt2TokenizerJson(): object {
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id: vocab['<|endoftext|>'], content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

const corpora = ['tinystories-valid-subset/tinystories_val.txt', 'wikitext-2/test.txt', 'tinyshakespeare/input.txt', 'war-and-peace/war-and-peace.txt'];

test('vocab.json + merges.txt encode as the equivalent tokenizer.json does, on the four shipped corpora', { skip: skipUnless(datasetsDir) }, () => {
  const ours = loadGpt2BpeTokenizer(dir)!;
  const hf = new HFTokenizer(gpt2TokenizerJson(), {});
  let tokens = 0;
  for (const file of corpora) {
    const text = readFileSync(join(datasetsDir, file), 'utf8');
    for (let k = 0; k < 8; k++) {
      const start = Math.floor((text.length * k) / 8);
      const slice = text.slice(start, start + 3000);
      const ids = ours.encode(slice);
      assert.deepEqual(ids, hf.encode(slice), `${file} @${start}`);
      assert.equal(ours.decode(ids), slice);
      tokens += ids.length;
    }
  }
  assert.ok(tokens > 20_000);
  for (const s of ['', ' ', 'a<|endoftext|>b', '<|endoftext|><|endoftext|>', "it's  I'll \t\n x", 'Café 你好 🙂', '  lead and trail  ']) {
    assert.deepEqual(ours.encode(s), hf.encode(s), JSON.stringify(s));
  }
  assert.deepEqual([ours.bosId, ours.eosId, ours.padId, ours.vocabSize], [0, 0, undefined, 1000]);
  assert.equal(ours.decode(ours.encode('x<|endoftext|>y'), { skipSpecialTokens: true }), 'xy');
});

test('tokenizer_config: add_prefix_space, add_bos_token and added tokens; loading order; bad files', () => {
  const work = mkdtempSync(join(tmpdir(), 'linscope-gpt2bpe-'));
  try {
    copyFileSync(join(dir, 'vocab.json'), join(work, 'vocab.json'));
    copyFileSync(join(dir, 'merges.txt'), join(work, 'merges.txt'));
    const plain = loadFolderTokenizer(work)!;
    assert.ok(plain instanceof Gpt2BpeTokenizer);
    writeFileSync(join(work, 'tokenizer_config.json'), JSON.stringify({
      tokenizer_class: 'GPT2Tokenizer', add_prefix_space: true, add_bos_token: true, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>',
      added_tokens_decoder: { 1000: { content: '<|pad|>', special: true } },
    }));
    const tok = loadFolderTokenizer(work)!;
    assert.deepEqual(tok.encode('Hello<|pad|>'), [0, ...plain.encode(' Hello'), 1000]);
    assert.equal(tok.vocabSize, 1001);
    writeFileSync(join(work, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'RobertaTokenizer' }));
    assert.throws(() => loadFolderTokenizer(work), /tokenizer_class RobertaTokenizer with vocab\.json \+ merges\.txt: linscope reads these files as GPT-2's byte-level BPE only/);
    writeFileSync(join(work, 'tokenizer_config.json'), '{}');
    writeFileSync(join(work, 'merges.txt'), '#version: 0.2\na b c\n');
    assert.throws(() => loadFolderTokenizer(work), /merges\.txt line 2 is not "left right"/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
