/**
 * Byte-pair-encoding training over a table of words (pre-tokenised pieces) and their counts.
 *
 * Standard BPE: start from the base symbols, repeatedly merge the most frequent adjacent pair.
 * Counting is incremental — each merge only revisits the words that contain the merged pair
 * (an index pair → words), and the best pair comes from a max-heap with lazy invalidation — so a
 * few MB of text train in seconds. Ties are broken by the pair's symbol ids (smaller first), which
 * makes the result a pure function of the input.
 */

export interface BpeTrainOptions {
  /** Final vocabulary size, base symbols and `reservedIds` included. */
  vocabSize: number;
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
  /** Ids taken before the base symbols (special tokens); symbol ids start after them. */
  reservedIds?: number;
}

export interface BpeModel {
  /** Token string of every symbol id from `reservedIds` on: base symbols, then merged tokens. */
  tokens: string[];
  /** Merges in rank order, as pairs of token strings. */
  merges: [string, string][];
}

/** Max-heap of (count, left, right) entries; larger count first, then smaller ids. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly lefts: number[] = [];
  private readonly rights: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private before(i: number, j: number): boolean {
    const c = this.counts, l = this.lefts, r = this.rights;
    if (c[i] !== c[j]) return c[i] > c[j];
    if (l[i] !== l[j]) return l[i] < l[j];
    return r[i] < r[j];
  }

  private swap(i: number, j: number): void {
    for (const a of [this.counts, this.lefts, this.rights]) [a[i], a[j]] = [a[j], a[i]];
  }

  push(count: number, left: number, right: number): void {
    this.counts.push(count);
    this.lefts.push(left);
    this.rights.push(right);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number, number] {
    const top: [number, number, number] = [this.counts[0], this.lefts[0], this.rights[0]];
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.lefts.pop();
    this.rights.pop();
    let i = 0;
    for (;;) {
      const a = 2 * i + 1, b = a + 1;
      let best = i;
      if (a < this.counts.length && this.before(a, best)) best = a;
      if (b < this.counts.length && this.before(b, best)) best = b;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}

/** Pairs are keyed by left·2²⁴ + right (exact in a double for ids below 2²⁴). */
const KEY_BASE = 1 << 24;
const keyOf = (a: number, b: number) => a * KEY_BASE + b;

/**
 * Learns merges over `words` (each a sequence of base-symbol strings, e.g. one character per byte)
 * with their `counts`. Base symbols are `alphabet` (in that id order) — every symbol in the words
 * must be in it.
 */
export function trainBpe(words: readonly (readonly string[])[], counts: readonly number[], alphabet: readonly string[], opts: BpeTrainOptions): BpeModel {
  const reserved = opts.reservedIds ?? 0;
  const minFrequency = opts.minFrequency ?? 2;
  const targetSymbols = opts.vocabSize - reserved;
  if (targetSymbols < alphabet.length) {
    throw new Error(`BPE: vocabulary size ${opts.vocabSize} is smaller than the ${alphabet.length} base symbols plus ${reserved} special tokens`);
  }
  const tokens = [...alphabet];
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const seqs: Int32Array[] = words.map((w) => Int32Array.from(w, (s) => {
    const id = idOf.get(s);
    if (id === undefined) throw new Error(`BPE: symbol ${JSON.stringify(s)} is not in the base alphabet`);
    return id;
  }));

  const pairCount = new Map<number, number>();
  const wordsWith = new Map<number, Set<number>>();
  const bump = (delta: Map<number, number>, a: number, b: number, by: number) => {
    const k = keyOf(a, b);
    delta.set(k, (delta.get(k) ?? 0) + by);
  };
  const initial = new Map<number, number>();
  seqs.forEach((s, w) => {
    for (let i = 0; i + 1 < s.length; i++) {
      bump(initial, s[i], s[i + 1], counts[w]);
      const k = keyOf(s[i], s[i + 1]);
      let set = wordsWith.get(k);
      if (!set) wordsWith.set(k, (set = new Set()));
      set.add(w);
    }
  });
  const heap = new PairHeap();
  for (const [k, c] of initial) {
    pairCount.set(k, c);
    heap.push(c, Math.floor(k / KEY_BASE), k % KEY_BASE);
  }

  const merges: [string, string][] = [];
  while (tokens.length < targetSymbols && heap.size > 0) {
    const [count, a, b] = heap.pop();
    const key = keyOf(a, b);
    if (pairCount.get(key) !== count) continue; // stale entry
    if (count < minFrequency) break;
    const merged = tokens[a] + tokens[b];
    let c = idOf.get(merged);
    if (c === undefined) {
      c = tokens.length;
      tokens.push(merged);
      idOf.set(merged, c);
    }
    merges.push([tokens[a], tokens[b]]);
    const delta = new Map<number, number>();
    const affected = [...(wordsWith.get(key) ?? [])].sort((x, y) => x - y);
    for (const w of affected) {
      const s = seqs[w];
      const out: number[] = [];
      let changed = false;
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(c);
          i++;
          changed = true;
        } else {
          out.push(s[i]);
        }
      }
      if (!changed) continue;
      const f = counts[w];
      for (let i = 0; i + 1 < s.length; i++) bump(delta, s[i], s[i + 1], -f);
      const next = Int32Array.from(out);
      for (let i = 0; i + 1 < next.length; i++) {
        bump(delta, next[i], next[i + 1], f);
        const k = keyOf(next[i], next[i + 1]);
        let set = wordsWith.get(k);
        if (!set) wordsWith.set(k, (set = new Set()));
        set.add(w);
      }
      seqs[w] = next;
    }
    wordsWith.delete(key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const updated = (pairCount.get(k) ?? 0) + d;
      if (updated > 0) {
        pairCount.set(k, updated);
        heap.push(updated, Math.floor(k / KEY_BASE), k % KEY_BASE);
      } else {
        pairCount.delete(k);
      }
    }
  }
  return { tokens, merges };
}
