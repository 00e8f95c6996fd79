/**
 * Item 14 of issue #13: a llama2.c `.bin` with a bad header, or of 0 bytes, gave "no model weights
 * found" (folder) or "not a model file linscope can read" (file). The header problem is named now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/io/input-error.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';

const root = mkdtempSync(join(tmpdir(), 'linscope-l2c-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
const bin = join(stories260KDir, 'stories260K.bin');

/** A folder holding `model.bin` with the given bytes (and the tokenizer). */
function folder(name: string, bytes: Buffer): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.bin'), bytes);
  copyFileSync(join(stories260KDir, 'tok512.bin'), join(dir, 'tok512.bin'));
  return dir;
}

const named = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof InputError, String(err));
  assert.doesNotMatch(err.message, /no model weights found|not a model file linscope can read/);
  assert.match(err.message, pattern);
  return true;
};

test('a 0-byte .bin in a folder: the file is named as empty', { skip: skipUnless(bin) }, async () => {
  const dir = folder('empty', Buffer.alloc(0));
  await assert.rejects(openModelSource(dir), named(/model\.bin: .*empty \(0 bytes\)/));
  await assert.rejects(openModelSource(join(dir, 'model.bin')), named(/model\.bin: .*empty \(0 bytes\)/));
});

test('a header cut short is named', { skip: skipUnless(bin) }, async () => {
  const dir = folder('short', readFileSync(bin).subarray(0, 10));
  await assert.rejects(openModelSource(dir), named(/model\.bin: .*10 bytes.*header/));
});

test('an implausible header field is named', { skip: skipUnless(bin) }, async () => {
  const bytes = Buffer.from(readFileSync(bin));
  bytes.writeInt32LE(0, 12); // n_heads = 0
  const dir = folder('heads', bytes);
  await assert.rejects(openModelSource(dir), named(/model\.bin: .*n_heads = 0/));
  await assert.rejects(openModelSource(join(dir, 'model.bin')), named(/n_heads = 0/));
  const odd = Buffer.from(readFileSync(bin));
  odd.writeInt32LE(7, 12); // dim 64 not divisible by 7 heads
  await assert.rejects(openModelSource(folder('odd', odd)), named(/dim = 64 is not a multiple of n_heads = 7/));
});

test('a valid checkpoint still opens from the folder and from the file', { skip: skipUnless(bin) }, async () => {
  const dir = folder('ok', readFileSync(bin));
  assert.equal((await openModelSource(dir)).format, 'llama2c');
  assert.equal((await openModelSource(join(dir, 'model.bin'))).format, 'llama2c');
});
