/**
 * A tiny residual "language model" that is both a `MatrixModel` and a `CausalLM`, for search tests:
 * h₀ = E[x_t] + mean of earlier embeddings; per layer h ← h + W_out·tanh(W_in·h); logits = E·h.
 * Weights are seeded random; `in` is [d, d] out_in and `out` is [d, d] in_out.
 */
import { Tensor } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { ForwardOptions } from '../../src/eval/model-api.ts';
import type { MatrixSpec } from '../../src/models/matrices.ts';
import type { MatrixType } from '../../src/laser/types.ts';

export class ToyLM {
  readonly weights = new Map<string, Tensor>();
  forwardCalls = 0;
  constructor(
    readonly vocab: number,
    readonly d = 8,
    readonly numLayers = 2,
    seed = 0,
  ) {
    const rng = new Rng(seed);
    this.weights.set('embed', rng.randn([vocab, d], 1));
    for (let l = 0; l < numLayers; l++) {
      this.weights.set(`layers.${l}.in`, rng.randn([d, d], 0.8));
      this.weights.set(`layers.${l}.out`, rng.randn([d, d], 0.8));
    }
  }
  getWeight(name: string): Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`no weight ${name}`);
    return t;
  }
  setWeight(name: string, value: Tensor): void {
    this.weights.set(name, value);
  }
  weightNames(): string[] {
    return [...this.weights.keys()];
  }
  matrices(layer: number): Partial<Record<MatrixType, MatrixSpec>> {
    return { in: { tensorName: `layers.${layer}.in`, layout: 'out_in' }, out: { tensorName: `layers.${layer}.out`, layout: 'in_out' } };
  }
  forward(inputIds: number[][], opts: ForwardOptions = {}): { logits: Tensor } {
    this.forwardCalls++;
    const { d, vocab } = this;
    const E = this.getWeight('embed').data;
    const B = inputIds.length, T = inputIds[0].length;
    const logits = Tensor.zeros([B, T, vocab]);
    for (let b = 0; b < B; b++) {
      const ctx = new Float64Array(d);
      let seen = 0;
      for (let t = 0; t < T; t++) {
        if ((opts.attentionMask?.[b][t] ?? 1) === 0) continue;
        const x = inputIds[b][t];
        const h = new Float64Array(d);
        for (let i = 0; i < d; i++) h[i] = E[x * d + i] + (seen ? ctx[i] / seen : 0);
        for (let i = 0; i < d; i++) ctx[i] += E[x * d + i];
        seen++;
        for (let l = 0; l < this.numLayers; l++) {
          const Win = this.getWeight(`layers.${l}.in`).data, Wout = this.getWeight(`layers.${l}.out`).data;
          const a = new Float64Array(d);
          for (let o = 0; o < d; o++) { let s = 0; for (let i = 0; i < d; i++) s += Win[o * d + i] * h[i]; a[o] = Math.tanh(s); }
          for (let o = 0; o < d; o++) { let s = 0; for (let i = 0; i < d; i++) s += Wout[i * d + o] * a[i]; h[o] += s; }
        }
        for (let v = 0; v < vocab; v++) { let s = 0; for (let i = 0; i < d; i++) s += E[v * d + i] * h[i]; logits.data[(b * T + t) * vocab + v] = s; }
      }
    }
    return { logits };
  }
}
