/**
 * Training and validation batches from a token stream.
 *
 * The stream is cut into windows of T + 1 tokens with stride T (each token is a target exactly
 * once per epoch). Training visits the windows in a fresh seeded permutation each epoch; batch k
 * of the run holds samples k·B … k·B + B − 1 of that endless sequence, so the batch of any step is
 * a pure function of (seed, step) and a resumed run sees exactly the data it would have seen.
 */
import { Rng } from '../tensor/random.ts';

export interface TokenBatch {
  /** [B, T] inputs, row-major. */
  inputs: Int32Array;
  /** [B, T] next-token targets. */
  targets: Int32Array;
  batch: number;
  seqLen: number;
}

/** Number of (T + 1)-token windows with stride T in a stream of `length` tokens. */
function windowCount(length: number, seqLen: number): number {
  return Math.max(0, Math.floor((length - 1) / seqLen));
}

function fillWindow(stream: Int32Array, seqLen: number, window: number, row: number, b: TokenBatch): void {
  const start = window * seqLen;
  b.inputs.set(stream.subarray(start, start + seqLen), row * seqLen);
  b.targets.set(stream.subarray(start + 1, start + seqLen + 1), row * seqLen);
}

/** Seeds one epoch's permutation from the run seed (splitmix-style mixing, 32-bit). */
function epochSeed(seed: number, epoch: number): number {
  let z = (seed ^ Math.imul(epoch + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export class WindowSampler {
  readonly windows: number;
  private epoch = -1;
  private order: number[] = [];

  constructor(
    private readonly stream: Int32Array,
    readonly seqLen: number,
    readonly seed: number,
  ) {
    this.windows = windowCount(stream.length, seqLen);
    if (this.windows === 0) throw new Error(`data: ${stream.length} training tokens do not fill one window of ${seqLen + 1}`);
  }

  /** Samples [first, first + count) of the run's sample sequence. */
  samples(first: number, count: number): TokenBatch {
    const b: TokenBatch = { inputs: new Int32Array(count * this.seqLen), targets: new Int32Array(count * this.seqLen), batch: count, seqLen: this.seqLen };
    for (let r = 0; r < count; r++) {
      const s = first + r;
      const epoch = Math.floor(s / this.windows);
      if (epoch !== this.epoch) {
        this.epoch = epoch;
        this.order = new Rng(epochSeed(this.seed, epoch)).shuffle(Array.from({ length: this.windows }, (_, i) => i));
      }
      fillWindow(this.stream, this.seqLen, this.order[s % this.windows], r, b);
    }
    return b;
  }

  /** The batch of optimiser step `step` (0-based). */
  batchForStep(step: number, batchSize: number): TokenBatch {
    return this.samples(step * batchSize, batchSize);
  }
}

/**
 * Up to `maxBatches` fixed validation batches: windows spread evenly over the whole stream (so every
 * source of a concatenated corpus is represented), in stream order.
 */
export function validationBatches(stream: Int32Array, seqLen: number, batchSize: number, maxBatches: number): TokenBatch[] {
  const n = windowCount(stream.length, seqLen);
  if (n === 0) throw new Error(`data: ${stream.length} validation tokens do not fill one window of ${seqLen + 1}`);
  const take = Math.min(n, batchSize * maxBatches);
  const windows = Array.from({ length: take }, (_, i) => Math.floor((i * n) / take));
  const out: TokenBatch[] = [];
  for (let start = 0; start < take; start += batchSize) {
    const rows = windows.slice(start, start + batchSize);
    const b: TokenBatch = { inputs: new Int32Array(rows.length * seqLen), targets: new Int32Array(rows.length * seqLen), batch: rows.length, seqLen };
    rows.forEach((w, r) => fillWindow(stream, seqLen, w, r, b));
    out.push(b);
  }
  return out;
}
