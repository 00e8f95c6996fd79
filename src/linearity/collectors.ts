/**
 * Bounded collectors fed batch by batch: the first N token vectors of a state (for TwoNN, which
 * needs all its points at once) and the K worst-fitted tokens of a pair. Both keep O(N·d) / O(K)
 * memory however many tokens pass through.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { BatchRows } from './batch-rows.ts';

/** The first `capacity` selected rows of a stream of [B, T, d] tensors, as float32 [n, d]. */
export class FirstRows {
  readonly data: Float32Array;
  count = 0;

  constructor(readonly capacity: number, readonly dim: number) {
    this.data = new Float32Array(capacity * dim);
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /** Appends rows of `t` (flattened indices `rows`) until full. */
  add(t: Tensor, rows: ArrayLike<number>): void {
    const d = this.dim;
    for (let i = 0; i < rows.length && this.count < this.capacity; i++) {
      this.data.set(t.data.subarray(rows[i] * d, (rows[i] + 1) * d), this.count * d);
      this.count++;
    }
  }

  /** The rows collected so far ([count × d] values). */
  rows(): Float32Array {
    return this.data.subarray(0, this.count * this.dim);
  }
}

/** A token's place in the probe set and how badly the map fits it. */
export interface TokenMiss {
  sequence: number;
  position: number;
  residual: number;
  relative: number;
}

/** Keeps the `k` tokens with the largest residual (ties: earlier sequence, then position, first). */
export class WorstTokenKeeper {
  private kept: TokenMiss[] = [];

  constructor(readonly k: number) {}

  /** Offers one batch's residuals (indexed like `where.rows`). */
  offer(residual: Float64Array, targetEnergy: Float64Array, where: BatchRows): void {
    if (this.k === 0) return;
    const floor = this.kept.length >= this.k ? this.kept[this.kept.length - 1].residual : -Infinity;
    const candidates: TokenMiss[] = [];
    for (let i = 0; i < residual.length; i++) {
      if (!(residual[i] >= floor)) continue;
      const e = targetEnergy[i];
      candidates.push({
        sequence: where.sequence[i],
        position: where.position[i],
        residual: residual[i],
        relative: e > 0 ? residual[i] / e : Number.POSITIVE_INFINITY,
      });
    }
    if (candidates.length === 0) return;
    this.kept = [...this.kept, ...candidates].sort(byResidual).slice(0, this.k);
  }

  /** Worst first. */
  result(): TokenMiss[] {
    return [...this.kept];
  }
}

function byResidual(a: TokenMiss, b: TokenMiss): number {
  return b.residual - a.residual || a.sequence - b.sequence || a.position - b.position;
}
