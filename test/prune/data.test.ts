import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluationStream } from '../../src/prune/data.ts';
import type { EvalTokenizer } from '../../src/eval/model-api.ts';

/** One id per character (a = 10, b = 11, …), BOS 1 prepended with special tokens, EOS 2. */
const tokenizer: EvalTokenizer = {
  encode: (text, opts) => [...(opts?.addSpecialTokens === false ? [] : [1]), ...[...text].map((c) => (c === '\n' ? 3 : c.charCodeAt(0) - 87))],
  decode: () => '',
  bosId: 1,
  eosId: 2,
};

test('evaluation stream: "\\n\\n"-joined text, or documents each followed by EOS after one BOS', () => {
  assert.deepEqual(evaluationStream(['ab', 'c'], tokenizer, 'newline'), [1, 10, 11, 3, 3, 12]);
  assert.deepEqual(evaluationStream(['ab', 'c'], tokenizer, 'eos'), [1, 10, 11, 2, 12, 2]);
  assert.throws(() => evaluationStream(['a'], { ...tokenizer, eosId: undefined }, 'eos'), /no EOS/);
});
