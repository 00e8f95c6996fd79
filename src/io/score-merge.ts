/**
 * Score-ordered pair merging, as SentencePiece's BPE (bpe_model.cc) and llama2.c's `encode()` do it:
 * repeatedly merge the adjacent pair whose concatenation is a vocabulary piece with the highest
 * score, the leftmost pair on ties, until no adjacent pair forms a piece. A heap over adjacent pairs
 * (stale entries skipped when popped) makes the same choices as rescanning all pairs after every
 * merge, in O(n log n).
 */

/** Binary max-heap of merge candidates: highest score first, then leftmost position. */
class CandidateHeap {
  private score: number[] = [];
  private left: number[] = [];
  private right: number[] = [];
  private leftId: number[] = [];
  private rightId: number[] = [];
  private merged: number[] = [];

  get size(): number {
    return this.score.length;
  }

  private before(a: number, b: number): boolean {
    return this.score[a] > this.score[b] || (this.score[a] === this.score[b] && this.left[a] < this.left[b]);
  }

  private swap(a: number, b: number): void {
    for (const arr of [this.score, this.left, this.right, this.leftId, this.rightId, this.merged]) {
      const t = arr[a];
      arr[a] = arr[b];
      arr[b] = t;
    }
  }

  push(score: number, left: number, right: number, leftId: number, rightId: number, merged: number): void {
    this.score.push(score);
    this.left.push(left);
    this.right.push(right);
    this.leftId.push(leftId);
    this.rightId.push(rightId);
    this.merged.push(merged);
    let i = this.score.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Remove the top and return [left, right, leftId, rightId, merged]. */
  pop(): [number, number, number, number, number] {
    const top: [number, number, number, number, number] = [this.left[0], this.right[0], this.leftId[0], this.rightId[0], this.merged[0]];
    const last = this.score.length - 1;
    this.swap(0, last);
    for (const arr of [this.score, this.left, this.right, this.leftId, this.rightId, this.merged]) arr.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.score.length && this.before(l, best)) best = l;
      if (r < this.score.length && this.before(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}

/**
 * Merge `initial` symbol ids. `pieceOf(id)` is the text of a symbol (ids need not be vocabulary
 * ids, e.g. placeholders for unknown characters), `lookup(text)` the vocabulary id of a mergeable
 * piece, `score(id)` its score; `onMerge(merged, left, right)` sees every merge made.
 */
export function mergeByScore(
  initial: readonly number[], pieceOf: (id: number) => string, lookup: (text: string) => number | undefined,
  score: (id: number) => number, onMerge?: (merged: number, left: number, right: number) => void,
): number[] {
  const n = initial.length;
  const ids = Int32Array.from(initial);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new CandidateHeap();
  const consider = (left: number, right: number) => {
    if (left < 0 || right < 0) return;
    const merged = lookup(pieceOf(ids[left]) + pieceOf(ids[right]));
    if (merged !== undefined) heap.push(score(merged), left, right, ids[left], ids[right], merged);
  };
  for (let i = 0; i + 1 < n; i++) consider(i, i + 1);
  while (heap.size > 0) {
    const [left, right, leftId, rightId, merged] = heap.pop();
    // Stale candidate: one side was merged away or changed since it was pushed.
    if (!alive[left] || !alive[right] || next[left] !== right || ids[left] !== leftId || ids[right] !== rightId) continue;
    onMerge?.(merged, leftId, rightId);
    ids[left] = merged;
    alive[right] = 0;
    next[left] = next[right];
    if (next[right] >= 0) prev[next[right]] = left;
    consider(prev[left], left);
    consider(left, next[left]);
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (alive[i]) out.push(ids[i]);
  return out;
}
