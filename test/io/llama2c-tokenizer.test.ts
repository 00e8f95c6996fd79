import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLlama2cTokenizer, type Llama2cTokenizer } from '../../src/io/llama2c.ts';
import { datasetsDir, skipUnless, stories260KDir } from '../helpers/paths.ts';

const tokPath = join(stories260KDir, 'tok512.bin');
const storiesPath = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');
const skip = skipUnless(tokPath);

function stories(count: number): string[] {
  return readFileSync(storiesPath, 'utf8').split(/\n\s*\n/).map((s) => s.trim()).filter((s) => s.length > 0).slice(0, count);
}

/** llama2.c's encode() transcribed literally (quadratic rescans), as the reference for our heap version. */
function naiveEncode(tok: Llama2cTokenizer, text: string, bos: boolean): number[] {
  const bytesOf = (id: number) => Buffer.from(tok.idToToken(id)!, 'utf8').toString('latin1');
  const vocab = new Map<string, number>();
  for (let id = tok.vocabSize - 1; id >= 0; id--) vocab.set(bytesOf(id), id); // lowest id wins
  const bytes = Buffer.from(text, 'utf8');
  const tokens: number[] = bos ? [1] : [];
  if (bytes.length > 0) tokens.push(vocab.get(' ')!);
  let buf: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] & 0xc0) !== 0x80) buf = [];
    buf.push(bytes[i]);
    if (i + 1 < bytes.length && (bytes[i + 1] & 0xc0) === 0x80 && buf.length < 4) continue;
    const id = vocab.get(Buffer.from(buf).toString('latin1'));
    if (id !== undefined) tokens.push(id);
    else for (const b of buf) tokens.push(b + 3);
    buf = [];
  }
  for (;;) {
    let best = -1e10, bestId = -1, bestIdx = -1;
    for (let i = 0; i < tokens.length - 1; i++) {
      const id = vocab.get(bytesOf(tokens[i]) + bytesOf(tokens[i + 1]));
      if (id !== undefined && tok.score(id) > best) {
        best = tok.score(id);
        bestId = id;
        bestIdx = i;
      }
    }
    if (bestIdx === -1) break;
    tokens.splice(bestIdx, 2, bestId);
  }
  return tokens;
}

test('tok512: vocabulary layout and special ids', { skip }, () => {
  const tok = readLlama2cTokenizer(tokPath, 512);
  assert.equal(tok.vocabSize, 512);
  assert.equal(tok.maxTokenLength, 7);
  assert.equal(tok.bosId, 1);
  assert.equal(tok.eosId, 2);
  assert.equal(tok.padId, undefined);
  assert.equal(tok.idToToken(0), '<unk>');
  assert.equal(tok.idToToken(1), '\n<s>\n');
  assert.equal(tok.idToToken(3 + 0x41), '<0x41>');
  assert.equal(tok.idToToken(259), ' t');
  assert.equal(tok.score(259), -0);
  assert.equal(tok.idToToken(512), undefined);
  assert.deepEqual(readLlama2cTokenizer(tokPath).vocabSize, 512); // read to EOF without a vocab size
});

test('reference-greedy.json: its ids decode to its text, and its text encodes to its ids', { skip }, () => {
  const tok = readLlama2cTokenizer(tokPath, 512);
  const ref = JSON.parse(readFileSync(join(stories260KDir, 'reference-greedy.json'), 'utf8'));
  assert.equal(tok.decode(ref.tokens_including_bos), ref.text);
  assert.deepEqual(tok.encode(ref.text), ref.tokens_including_bos);
});

test('encode follows llama2.c exactly on TinyStories and odd inputs (vs. a literal transcription)', { skip: skip || skipUnless(storiesPath) }, () => {
  const tok = readLlama2cTokenizer(tokPath, 512);
  const texts = [...stories(25), '', ' ', '  two  spaces ', 'naïve café 日本語 🙂 \u0000 tab\tend', 'aaaaaaaaaaaaaaaa', '\n\n'];
  for (const text of texts) {
    assert.deepEqual(tok.encode(text), naiveEncode(tok, text, true), JSON.stringify(text.slice(0, 40)));
    assert.deepEqual(tok.encode(text, { addSpecialTokens: false }), naiveEncode(tok, text, false));
  }
});

test('decode(encode(text)) === text on TinyStories and arbitrary Unicode', { skip: skip || skipUnless(storiesPath) }, () => {
  const tok = readLlama2cTokenizer(tokPath, 512);
  for (const text of [...stories(400), ' leading space', 'naïve café 日本語 🙂', '']) {
    assert.equal(tok.decode(tok.encode(text)), text);
    assert.equal(tok.decode(tok.encode(text, { addSpecialTokens: false })), text);
  }
});

test('byte fallback, dummy prefix and special tokens', { skip }, () => {
  const tok = readLlama2cTokenizer(tokPath, 512);
  // the dummy prefix: the first piece starts with the space llama2.c prepends
  assert.ok(tok.idToToken(tok.encode('x', { addSpecialTokens: false })[0])!.startsWith(' '));
  // "日" is not in the 512-token vocabulary: the dummy prefix, then its three UTF-8 bytes as byte tokens
  const ids = tok.encode('日', { addSpecialTokens: false });
  assert.deepEqual(ids.slice(-3), [0xe6 + 3, 0x97 + 3, 0xa5 + 3]);
  assert.deepEqual(tok.encode(''), [1]);
  assert.deepEqual(tok.encode('', { addSpecialTokens: false }), []);
  // BOS/EOS are control tokens: never printed; the space after BOS is dropped, later ones kept
  const once = tok.encode('Once', { addSpecialTokens: false });
  assert.equal(tok.decode([1, ...once, 2]), 'Once');
  assert.equal(tok.decode([...once, ...once]), 'Once Once');
  assert.throws(() => tok.decode([600]), /id 600 out of range \[0, 512\)/);
});

test('encoding the whole TinyStories subset is fast', { skip: skip || skipUnless(storiesPath) }, () => {
  const tok = readLlama2cTokenizer(tokPath, 512);
  const text = readFileSync(storiesPath, 'utf8');
  // CPU time, not wall time: on a loaded machine the wall clock measures the other processes.
  const c0 = process.cpuUsage();
  const ids = tok.encode(text);
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000;
  assert.ok(ids.length > 100_000);
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms of CPU`);
  assert.equal(tok.decode(ids), text);
});

test('clear errors for broken tokenizer files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-l2ctok-'));
  try {
    const p = join(dir, 'tok.bin');
    writeFileSync(p, Buffer.from([7, 0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0]));
    assert.throws(() => readLlama2cTokenizer(p), /tok\.bin: not a llama2\.c tokenizer: record 0 has bad length 99/);
    writeFileSync(p, Buffer.from([0, 0, 0, 0]));
    assert.throws(() => readLlama2cTokenizer(p), /implausible max_token_length 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
