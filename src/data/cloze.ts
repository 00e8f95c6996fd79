/**
 * A cloze set for small story models (stories260K and friends), built from TinyStories text and
 * shaped as `FactCase`s so the factual-recall evaluation runs on it unchanged.
 *
 * Construction (deterministic for a given text and seed):
 *
 * 1. Stories. The file separates paragraphs by blank lines but has no story delimiter. A paragraph
 *    starts a new story when it opens like a TinyStories story ("Once upon a time", "Once there
 *    was", "Once, there was", "There once was", "There was once") or when its first word is a
 *    name not yet mentioned in the current story ("Tom was a troubled boy."; a name is a
 *    capitalised word whose lower-case form never occurs in the text). Other paragraphs join the
 *    current story. A missed boundary only lengthens a prompt's context; a spurious one only
 *    shortens it; either way the answer still occurs earlier in the prompt.
 * 2. Words are maximal runs of letters. An occurrence of word w at character s is a candidate when
 *    - it is preceded by exactly one space (text[s−1] = " ", text[s−2] not whitespace), so the
 *      answer is " w" and the prompt ends in a non-space;
 *    - w (same case) occurs earlier in the same story, so the model can copy it from context;
 *    - w has at least 3 letters and is not a function word;
 *    - kind 'name' (default): w is capitalised, is not sentence-initial at s (the text before the
 *      space does not end a sentence), and is not a family word or title (Mom, Dad, …): in
 *      practice, character names ("Roxy", "Billy"). Kind 'word': w is lower-case, follows a
 *      definite or possessive determiner ("the", "his", "her", "their", "my", "your", "its", "our")
 *      and is not a common adjective: in practice, objects introduced earlier ("the kite",
 *      "her ball"). Kind 'any': either;
 *    - the prompt, story[0 : s−1], is at most `maxPromptChars` characters.
 * 3. One case per story that has candidates: an occurrence chosen uniformly with `new Rng(seed)`
 *    (one draw per such story, in story order). prompt = the story up to the space before it,
 *    answer = " " + w, subject = w (mentioned earlier in the prompt), paraphrases = the prompts
 *    ending before other candidate occurrences of the same word in the story (up to
 *    `maxParaphrases`, in text order), relationId = "cloze:name" or "cloze:word".
 */
import { Rng } from '../tensor/random.ts';
import { collectTexts } from './text-source.ts';
import type { FactCase } from './types.ts';

export interface ClozeOptions {
  /** Seed of the per-story occurrence choice (default 0). */
  seed?: number;
  /** Which answers to use (default 'name'). */
  kind?: 'name' | 'word' | 'any';
  /** Longest prompt in characters (default 1000; stories260K's context is 512 tokens). */
  maxPromptChars?: number;
  /** Most paraphrase prompts per case (default 3). */
  maxParaphrases?: number;
  /** Stop after this many cases. */
  maxCases?: number;
}

const STORY_OPENER = /^(Once upon a time|Once,? there (was|were|lived)|There once (was|were|lived)|There was once)\b/;

const FUNCTION_WORDS = new Set(
  ('the and was were are she her hers his him they them their theirs that this these those with for you your ' +
    'but not had has have said says did does can could will would should from into onto out over then than when ' +
    'what who whom where why how all one day very too also just like some any each every there here its our ours ' +
    'yes because about after before again while until much many more most other such only own same '
  )
    .split(' ')
    .filter(Boolean),
);

/** Determiners that refer back to something already introduced. */
const DEFINITE = /(?:^|[^\p{L}])(?:the|his|her|their|my|your|its|our) $/iu;

const COMMON_ADJECTIVES = new Set(
  ('little big small happy sad new old good bad nice best same other first last next whole pretty kind ' +
    'young tall long short great special favorite favourite beautiful shiny red blue green yellow brown white black pink')
    .split(' '),
);

/** Family words and titles: guessable without the story, so never answers (compared in lower case). */
const GENERIC_WORDS = new Set(
  'mom dad mommy daddy mum mama papa mother father grandma grandpa granny sir miss mrs friend friends'.split(' '),
);

/**
 * Split TinyStories text into stories (see step 1 of the module comment). Each story is an exact
 * slice of the text (line endings normalised to "\n"), from its first paragraph to its last.
 */
export function splitStories(text: string): string[] {
  const normalised = text.replace(/\r\n?/g, '\n');
  const isName = properNouns(normalised);
  const stories: { start: number; end: number }[] = [];
  let mentioned = new Set<string>();
  for (const { start, end } of paragraphSpans(normalised)) {
    const paragraph = normalised.slice(start, end).trimStart();
    const first = /^\p{L}+/u.exec(paragraph)?.[0] ?? '';
    const newCharacter = isName(first) && !mentioned.has(first);
    if (stories.length === 0 || STORY_OPENER.test(paragraph) || newCharacter) {
      stories.push({ start, end });
      mentioned = new Set();
    } else {
      stories[stories.length - 1].end = end;
    }
    for (const m of paragraph.matchAll(/\p{L}+/gu)) mentioned.add(m[0]);
  }
  return stories.map(({ start, end }) => normalised.slice(start, end));
}

/** [start, end) of each run of non-blank lines (a blank line holds only spaces or tabs). */
function paragraphSpans(text: string): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  let open = -1;
  let lastEnd = 0;
  for (let lineStart = 0; lineStart <= text.length; ) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const blank = /^[ \t]*$/.test(text.slice(lineStart, lineEnd));
    if (!blank && open < 0) open = lineStart;
    if (!blank) lastEnd = lineEnd;
    if (blank && open >= 0) {
      spans.push({ start: open, end: lastEnd });
      open = -1;
    }
    lineStart = lineEnd + 1;
  }
  if (open >= 0) spans.push({ start: open, end: lastEnd });
  return spans;
}

/** Capitalised words whose lower-case form never occurs in the text: names, in practice. */
function properNouns(text: string): (word: string) => boolean {
  const lower = new Set<string>();
  for (const m of text.matchAll(/\p{L}+/gu)) if (/^\p{Ll}/u.test(m[0])) lower.add(m[0]);
  return (word) => /^\p{Lu}\p{Ll}+$/u.test(word) && !lower.has(word.toLowerCase());
}

export interface ClozeCandidate {
  word: string;
  /** Character offset of the word in the story. */
  start: number;
  isName: boolean;
}

/** Candidate answer occurrences of one story, in text order (step 2). */
export function clozeCandidates(story: string, opts: Pick<ClozeOptions, 'kind' | 'maxPromptChars'> = {}): ClozeCandidate[] {
  const kind = opts.kind ?? 'name';
  const maxPromptChars = opts.maxPromptChars ?? 1000;
  const seen = new Set<string>();
  const out: ClozeCandidate[] = [];
  for (const m of story.matchAll(/\p{L}+/gu)) {
    const word = m[0];
    const s = m.index!;
    const earlier = seen.has(word);
    seen.add(word);
    if (!earlier || s < 2 || s - 1 > maxPromptChars) continue;
    if (story[s - 1] !== ' ' || /\s/.test(story[s - 2])) continue;
    if (word.length < 3 || FUNCTION_WORDS.has(word.toLowerCase()) || GENERIC_WORDS.has(word.toLowerCase())) continue;
    const capitalised = /^\p{Lu}/u.test(word);
    const isName = capitalised && !endsSentence(story, s - 1);
    const isWord =
      /^\p{Ll}+$/u.test(word) && !COMMON_ADJECTIVES.has(word) && DEFINITE.test(story.slice(Math.max(0, s - 7), s));
    if ((kind === 'name' && isName) || (kind === 'word' && isWord) || (kind === 'any' && (isName || isWord))) {
      out.push({ word, start: s, isName });
    }
  }
  return out;
}

/** Whether the text before `end` closes a sentence (".", "!", "?" possibly followed by closing quotes). */
function endsSentence(text: string, end: number): boolean {
  return /[.!?]["'”’)]*$/.test(text.slice(Math.max(0, end - 4), end));
}

/** Build cloze cases from TinyStories-style text (see the module comment for the construction). */
export function buildClozeCases(text: string, opts: ClozeOptions = {}): FactCase[] {
  const rng = new Rng(opts.seed ?? 0);
  const maxParaphrases = opts.maxParaphrases ?? 3;
  const maxCases = opts.maxCases ?? Infinity;
  const cases: FactCase[] = [];
  const stories = splitStories(text);
  for (let i = 0; i < stories.length && cases.length < maxCases; i++) {
    const story = stories[i];
    const candidates = clozeCandidates(story, opts);
    if (candidates.length === 0) continue;
    const chosen = candidates[rng.int(candidates.length)];
    const paraphrases = candidates
      .filter((c) => c.word === chosen.word && c.start !== chosen.start)
      .slice(0, maxParaphrases)
      .map((c) => story.slice(0, c.start - 1));
    cases.push({
      id: `story${i}@${chosen.start}`,
      prompt: story.slice(0, chosen.start - 1),
      subject: chosen.word,
      answer: ' ' + chosen.word,
      paraphrases,
      relationId: chosen.isName ? 'cloze:name' : 'cloze:word',
    });
  }
  return cases;
}

/** Read a TinyStories text file (or a folder of text files, read in path order) and build its cloze cases. */
export async function loadTinyStoriesCloze(path: string, opts: ClozeOptions = {}): Promise<FactCase[]> {
  return buildClozeCases(await readStoriesText(path), opts);
}

async function readStoriesText(path: string): Promise<string> {
  try {
    const texts = await collectTexts(path, { format: 'text', documents: 'whole' });
    if (texts.length === 0) throw new Error('no text found');
    return texts.join('\n\n');
  } catch (e) {
    throw new Error(`TinyStories text not readable at ${path} (${(e as Error).message})`);
  }
}
