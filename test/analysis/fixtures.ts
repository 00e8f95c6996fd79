/** Random hidden-state-like matrices for the analysis tests. */
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

export interface PairCase {
  name: string;
  x: Tensor;
  y: Tensor;
}

function matmulFlat(a: Float64Array, n: number, k: number, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) {
    const v = a[i * k + p];
    for (let j = 0; j < m; j++) out[i * m + j] += v * b[p * m + j];
  }
  return out;
}

/** Y = X·M (+ nonlinearity and noise) + offset: a stand-in for consecutive layers. */
export function correlatedPair(rng: Rng, n: number, d: number, options: { noise?: number; offset?: number; rank?: number; nonlinear?: boolean } = {}): { x: Tensor; y: Tensor } {
  const rank = options.rank ?? d;
  const z = rng.randn([n, rank], 1, 'float64').data as Float64Array;
  const w = rng.randn([rank, d], 1, 'float64').data as Float64Array;
  const x = rank === d ? z : matmulFlat(z, n, rank, w, d);
  const m = rng.randn([d, d], 1 / Math.sqrt(d), 'float64').data as Float64Array;
  const y = matmulFlat(x, n, d, m, d);
  const noise = options.noise ?? 0.1;
  for (let i = 0; i < y.length; i++) {
    y[i] += x[i] + noise * rng.normal();
    if (options.nonlinear) y[i] += 0.3 * Math.tanh(2 * x[i]) * x[(i + 1) % x.length];
  }
  const offset = options.offset ?? 0;
  if (offset) {
    // a few "massive activation" features with a large common value, as in real models
    for (let r = 0; r < n; r++) {
      x[r * d] += offset;
      x[r * d + 1] -= 0.5 * offset;
      y[r * d] += 1.1 * offset;
    }
  }
  return { x: new Tensor(x, [n, d]), y: new Tensor(y, [n, d]) };
}

export function pairCases(seed = 1): PairCase[] {
  const rng = new Rng(seed);
  const cases: PairCase[] = [];
  const add = (name: string, p: { x: Tensor; y: Tensor }) => cases.push({ name, ...p });
  add('independent N > d', { x: rng.randn([120, 12], 1, 'float64'), y: rng.randn([120, 12], 1, 'float64') });
  add('correlated N > d', correlatedPair(rng, 150, 14, { noise: 0.2, nonlinear: true }));
  add('correlated with large offsets', correlatedPair(rng, 100, 10, { noise: 0.05, offset: 1e3 }));
  add('N < d', correlatedPair(rng, 9, 20, { noise: 0.5 }));
  add('N = d', correlatedPair(rng, 16, 16, { noise: 0.3 }));
  add('rank-deficient X', correlatedPair(rng, 80, 18, { rank: 5, noise: 0.3 }));
  return cases;
}
