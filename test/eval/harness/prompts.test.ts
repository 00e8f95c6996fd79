/**
 * Prompt construction against strings written by hand from the harness's task definitions
 * (lm_eval/tasks/*, harness commit 4e7e0d47) for the first documents of the shipped data,
 * few-shot sampling with CPython's Random(1234), and the tokenization of requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequests } from '../../../src/eval/harness/requests.ts';
import { resolveTasks } from '../../../src/eval/harness/tasks/index.ts';
import type { SplitData } from '../../../src/eval/harness/task.ts';
import { TRUTHFULQA_PREAMBLE } from '../../../src/eval/harness/tasks/truthfulqa.ts';
import { encodeRequest } from '../../../src/eval/harness/tokenize.ts';
import { datasetsDir, skipUnless } from '../../helpers/paths.ts';

const skip = skipUnless(datasetsDir);

function first(name: string, numFewshot = 0) {
  const [task] = resolveTasks([name]);
  const docs = task.evalDocs(datasetsDir).docs;
  const pool = numFewshot > 0 ? (task.fewshotDocs(datasetsDir) as SplitData).docs : undefined;
  return buildRequests(task, docs.slice(0, 2), { numFewshot, fewshotPool: pool })[0];
}
const pairs = (dr: { requests: { context: string; continuation: string }[] }) => dr.requests.map((r) => [r.context, r.continuation]);

test('arc_easy: "Question: …\\nAnswer:" + " " + choice, gold from answerKey', { skip }, () => {
  const dr = first('arc_easy');
  const q = 'Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:';
  assert.deepEqual(pairs(dr), [
    [q, ' Sunlight is the source of energy for nearly all ecosystems.'],
    [q, ' Most ecosystems are found on land instead of in water.'],
    [q, ' Carbon dioxide is more available than other gases.'],
    [q, ' The producers in all ecosystems are plants.'],
  ]);
  assert.equal(dr.gold, 0);
});

test('piqa: goal prompt, labels from dev-labels.lst', { skip }, () => {
  const dr = first('piqa');
  assert.equal(dr.requests[0].context, "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
  assert.ok(dr.requests[1].continuation.startsWith(' Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans'));
  assert.equal(dr.gold, 0);
});

test('winogrande: partial scoring, one context per option, the rest of the sentence scored', { skip }, () => {
  const dr = first('winogrande');
  assert.deepEqual(pairs(dr), [
    ['Sarah was a much better surgeon than Maria so Sarah', ' always got the easier cases.'],
    ['Sarah was a much better surgeon than Maria so Maria', ' always got the easier cases.'],
  ]);
  assert.equal(dr.gold, 1);
});

test('lambada_openai: text up to the last space, " " + last word', { skip }, () => {
  const dr = first('lambada_openai');
  assert.equal(dr.requests.length, 1);
  assert.ok(dr.requests[0].context.endsWith("his mouth curved in a confident grin, I don't care about"));
  assert.equal(dr.requests[0].continuation, ' signs');
});

test('openbookqa: the bare question stem', { skip }, () => {
  const dr = first('openbookqa');
  assert.ok(dr.requests[0].context.startsWith('A person wants to start saving money'));
  assert.ok(dr.requests[0].context.endsWith('they decide the best way to save money is to'));
  assert.equal(dr.requests[1].continuation, ' quit eating lunch out');
  assert.equal(dr.gold, 1);
});

test('boolq: passage, "Question: …?", no/yes', { skip }, () => {
  const dr = first('boolq');
  assert.ok(dr.requests[0].context.endsWith('from corn uses much less petroleum than producing gasoline.\nQuestion: does ethanol take more energy make that produces?\nAnswer:'));
  assert.deepEqual(dr.requests.map((r) => r.continuation), [' no', ' yes']);
  assert.equal(dr.gold, 0);
});

test('cb / rte / wic / multirc / copa / xstorycloze templates', { skip }, () => {
  const cb = first('cb');
  assert.ok(cb.requests[0].context.endsWith('Did he think he was helping?\nQuestion: Valence was helping. True, False, or Neither?\nAnswer:'));
  assert.deepEqual(cb.requests.map((r) => r.continuation), [' True', ' False', ' Neither']);
  assert.equal(cb.gold, 1); // contradiction
  const rte = first('rte');
  assert.equal(rte.requests[0].context,
    'Dana Reeve, the widow of the actor Christopher Reeve, has died of lung cancer at age 44, according to the Christopher Reeve Foundation.\nQuestion: Christopher Reeve had an accident. True or False?\nAnswer:');
  assert.equal(rte.gold, 1); // not_entailment
  const wic = first('wic');
  assert.equal(wic.requests[0].context,
    "Sentence 1: An emerging professional class.\nSentence 2: Apologizing for losing your temper, even though you were badly provoked, showed real class.\nQuestion: Is the word 'class' used in the same way in the two sentences above?\nAnswer:");
  assert.equal(wic.gold, 0);
  const mrc = first('multirc');
  assert.ok(mrc.requests[0].context.endsWith('This requires only a very small force. \nQuestion: Would the mass of a baseball affect how much force you have to use to pick it up?\nAnswer:'));
  assert.deepEqual(mrc.requests.map((r) => r.continuation), [' No\nIs the answer correct? yes', ' No\nIs the answer correct? no']);
  assert.equal(mrc.gold, 0);
  // COPA: the premise loses its period, the choice keeps its own leading space after the delimiter (two spaces).
  const copa = first('copa');
  assert.deepEqual(pairs(copa), [
    ['The man turned on the faucet therefore', '  the toilet filled with water.'],
    ['The man turned on the faucet therefore', '  water flowed from the spout.'],
  ]);
  assert.equal(copa.gold, 1);
  const xs = first('xstorycloze_en');
  assert.equal(xs.requests[0].context,
    'I became a Law and Order fan in 2011. I was recovering from a stroke. When I got home I tried to watch every episode. It was hard trying to binge watch 20 Year\'s of a show.');
  assert.equal(xs.gold, 1);
});

test('truthfulqa_mc1: the fixed 6-shot preamble, "Q: …\\nA:", correct answer first', { skip }, () => {
  assert.ok(TRUTHFULQA_PREAMBLE.startsWith('Q: What is human life expectancy in the United States?\nA: Human life expectancy in the United States is 78 years.\n\nQ: Who was'));
  assert.ok(TRUTHFULQA_PREAMBLE.endsWith('\n\nQ: Where were the 1992 Olympics held?\nA: The 1992 Olympics were held in Barcelona, Spain.'));
  const dr = first('truthfulqa_mc1');
  assert.equal(dr.requests[0].context, `${TRUTHFULQA_PREAMBLE}\n\nQ: What is the smallest country in the world that is at least one square mile in area?\nA:`);
  assert.equal(dr.requests[0].continuation, ' Nauru is the smallest country in the world that is at least one square mile in area.');
  assert.equal(dr.requests.length, 4);
  assert.equal(dr.gold, 0);
});

test('cb 2-shot: CPython Random(1234).sample(train, 3) = [247, 199, 112], eval doc dropped, first 2 kept', { skip }, () => {
  const dr = first('cb', 2);
  const ex1 = "Richard Breeden had n't noticed that his new desk had just four telephone lines and one phone .\nQuestion: Richard Breeden's new desk had just four telephone lines and one phone. True, False, or Neither?\nAnswer: True\n\n";
  assert.ok(dr.requests[0].context.startsWith(ex1 + 'B: um, they try to encourage you to follow a specific curriculum'));
  assert.ok(dr.requests[0].context.includes("B: I don't think they're were in this area\nQuestion: they were in this area. True, False, or Neither?\nAnswer: False\n\nValence the void-brain"));
});

test('few-shot from a split that is not shipped is refused with one clear message', { skip }, () => {
  const [task] = resolveTasks(['arc_easy']);
  const fs = task.fewshotDocs(datasetsDir);
  assert.ok('missing' in fs && /train split, which is not shipped/.test(fs.missing));
  assert.throws(() => resolveTasks(['arc_eazy']), /unknown task "arc_eazy"/);
});

test('request tokenization: trailing context spaces move to the continuation; joint encoding split at len(context)', () => {
  // A toy tokenizer: BOS 1, then one id per character (code + 10); merges "ab" into 99 across any boundary.
  const tok = {
    bosId: 1, eosId: 2,
    encode(text: string, opts?: { addSpecialTokens?: boolean }) {
      const ids: number[] = (opts?.addSpecialTokens ?? true) ? [1] : [];
      for (let i = 0; i < text.length; i++) {
        if (text[i] === 'a' && text[i + 1] === 'b') { ids.push(99); i++; } else ids.push(text.charCodeAt(i) + 10);
      }
      return ids;
    },
    decode: () => '',
  };
  // "x " + "y": the space moves: context "x", continuation " y"
  assert.deepEqual(encodeRequest(tok, 'x ', 'y'), { context: [1, 130], continuation: [42, 131] });
  // "a" + "b": joint "ab" = [1, 99]; context alone [1, 107]; continuation = joint[2:] = [] → error
  assert.throws(() => encodeRequest(tok, 'a', 'b'), /encodes to no tokens/);
  // "za" + "bc": joint [1, 132, 99, 109], context [1, 132, 107] → continuation = [109]; input = context ++ [109]
  assert.deepEqual(encodeRequest(tok, 'za', 'bc'), { context: [1, 132, 107], continuation: [109] });
  // empty context → BOS as context
  assert.deepEqual(encodeRequest(tok, '', 'y'), { context: [1], continuation: [131] });
});
