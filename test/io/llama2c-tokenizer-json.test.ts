import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLlama2cTokenizer } from '../../src/io/llama2c.ts';
import { llama2cTokenizerFiles } from '../../src/io/llama2c-tokenizer-json.ts';
import { HFTokenizer } from '../../src/io/tokenizer.ts';
import { datasetsDir, skipUnless, stories260KDir } from '../helpers/paths.ts';

const tokPath = join(stories260KDir, 'tok512.bin');
const textPath = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');
const skip = skipUnless(tokPath) || skipUnless(textPath);

test('tokenizer.json written for tok512.bin encodes every TinyStories line to the llama2.c ids', { skip }, () => {
  const llama2c = readLlama2cTokenizer(tokPath, 512);
  const files = llama2cTokenizerFiles(llama2c);
  // through JSON, as a file on disk would be read
  const hf = new HFTokenizer(JSON.parse(JSON.stringify(files['tokenizer.json'])), files['tokenizer_config.json'], {});
  const lines = readFileSync(textPath, 'utf8').split('\n');
  assert.ok(lines.length > 8000);
  // plus empty text, leading/double spaces, tabs and characters outside the vocabulary (byte fallback)
  const extra = ['', ' ', '  two  spaces', 'tab\there', 'héllo wörld ☃ 你好 🙂', '\n', 'end.\n'];
  let mismatches = 0;
  let first = '';
  for (const [i, line] of [...lines, ...extra].entries()) {
    // with BOS on every line; without on the extras and every 50th line (the post-processor is the only difference)
    for (const special of i >= lines.length || i % 50 === 0 ? [true, false] : [true]) {
      const want = llama2c.encode(line, { addSpecialTokens: special });
      const got = hf.encode(line, { addSpecialTokens: special });
      if (want.join() !== got.join()) {
        mismatches++;
        first ||= `${JSON.stringify(line)}: llama2.c ${want.join(' ')} vs tokenizer.json ${got.join(' ')}`;
      }
    }
  }
  assert.equal(mismatches, 0, first);
  assert.equal(hf.bosId, 1);
  assert.equal(hf.eosId, 2);
  assert.equal(hf.vocabSize, 512);
  // byte fallback really used: ☃ is not a piece of tok512
  assert.ok(llama2c.encode('☃', { addSpecialTokens: false }).some((id) => id >= 3 && id < 259));
  assert.equal(hf.decode(hf.encode('Once upon a time'), { skipSpecialTokens: true }), 'Once upon a time');
});
