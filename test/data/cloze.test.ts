import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildClozeCases, clozeCandidates, loadTinyStoriesCloze, splitStories } from '../../src/data/cloze.ts';
import { datasetsDir, skipUnless } from '../helpers/paths.ts';

const tinyStories = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');

const STORY_A = 'Once upon a time, there was a cat named Tom. Tom had a ball. He gave the ball to Sue. Sue said, "Thank you, Tom."';
const STORY_B = 'Zed found a red kite.\n\nThe kite flew high. Zed ran after the kite.';

test('splitStories: story openers and unseen names start stories, other paragraphs continue', () => {
  const text = `${STORY_A}\n\nTom and Sue played.\n\n${STORY_B}\n\nOnce there was a frog.`;
  assert.deepEqual(splitStories(text), [`${STORY_A}\n\nTom and Sue played.`, STORY_B, 'Once there was a frog.']);
});

test('clozeCandidates: names not at sentence start, nouns after a definite determiner', () => {
  const tom = STORY_A.lastIndexOf('Tom');
  assert.deepEqual(clozeCandidates(STORY_A), [{ word: 'Tom', start: tom, isName: true }]);
  const ball = STORY_A.lastIndexOf('ball');
  assert.deepEqual(clozeCandidates(STORY_A, { kind: 'word' }), [{ word: 'ball', start: ball, isName: false }]);
  assert.equal(clozeCandidates(STORY_A, { kind: 'any' }).length, 2);
  assert.deepEqual(clozeCandidates(STORY_A, { maxPromptChars: 60 }), [], 'too long a prompt');
  // "Zed" recurs only at sentence starts; "kite" after "The" and "the".
  assert.deepEqual(clozeCandidates(STORY_B), []);
  assert.deepEqual(clozeCandidates(STORY_B, { kind: 'word' }).map((c) => c.word), ['kite', 'kite']);
});

test('buildClozeCases: FactCase shape with leading-space answers and paraphrase prompts', () => {
  const [a, b] = buildClozeCases(`${STORY_A}\n\n${STORY_B}`, { kind: 'any', seed: 0 });
  for (const c of [a, b]) {
    assert.ok(c.answer.startsWith(' ') && c.subject === c.answer.slice(1));
    assert.match(c.prompt, /\S$/);
    assert.ok(new RegExp(`\\b${c.subject}\\b`).test(c.prompt), 'answer occurs earlier in the prompt');
  }
  assert.equal(b.subject, 'kite');
  assert.deepEqual([b.prompt, ...b.paraphrases].sort(), ['Zed found a red kite.\n\nThe', 'Zed found a red kite.\n\nThe kite flew high. Zed ran after the']);
  assert.equal(b.relationId, 'cloze:word');
});

test('TinyStories cloze set: deterministic, answers recallable from the prompt', { skip: skipUnless(tinyStories) }, async () => {
  const text = readFileSync(tinyStories, 'utf8');
  const cases = await loadTinyStoriesCloze(tinyStories);
  assert.equal(cases.length, 613);
  assert.deepEqual(buildClozeCases(text), cases, 'same seed, same cases');
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length);
  assert.equal(cases[1].answer, ' Roxy');
  assert.ok(cases[1].prompt.startsWith('Once upon a time, in a big forest, there lived a rhinoceros named Roxy.'));
  assert.ok(cases[1].prompt.endsWith('she saw a little bird named Billy. Billy saw that'));
  for (const c of cases) {
    assert.ok(c.prompt.length <= 1000 && /\S$/.test(c.prompt), c.id);
    assert.ok(text.includes(c.prompt + c.answer), `prompt + answer is text of the corpus (${c.id})`);
    assert.ok(new RegExp(`\\b${c.subject}\\b`).test(c.prompt), `answer earlier in prompt (${c.id})`);
    assert.equal(c.relationId, 'cloze:name');
    for (const p of c.paraphrases) assert.ok(text.includes(p + c.answer));
  }
  const other = buildClozeCases(text, { seed: 1 });
  assert.equal(other.length, cases.length, 'the seed picks occurrences, not stories');
  assert.notDeepEqual(other, cases);
  assert.equal(buildClozeCases(text, { maxCases: 10 }).length, 10);
  assert.equal(buildClozeCases(text, { kind: 'word' }).length, 870);
});
