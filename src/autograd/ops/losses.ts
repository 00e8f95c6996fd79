/**
 * Losses: mean squared error, and the pieces of the linearity paper's cosine regulariser — per-token
 * cosine similarity between two [N, d] states and its distance 1 − cos averaged over tokens.
 *
 * Cosine similarity follows torch.nn.functional.cosine_similarity: cos = Σ (a/nₐ)(b/n_b) with
 * nₐ = max(‖a‖, ε). Gradient: ∂cos/∂a = b/(nₐ n_b) − cos·a/(nₐ‖a‖) (second term 0 when ‖a‖ = 0).
 */
import { Tensor, allocate, type TypedArray } from '../../tensor/tensor.ts';
import { assertSameShape, lastDim } from '../check.ts';
import { gradBuffer, record } from '../graph.ts';
import type { Var } from '../var.ts';

/** Mean (or sum) of (a − b)² over all elements; both sides may require grad. */
export function mse(a: Var, b: Var, reduction: 'mean' | 'sum' = 'mean'): Var {
  assertSameShape('mse', a, b);
  const x = a.value.data, y = b.value.data;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - y[i];
    s += d * d;
  }
  const factor = reduction === 'mean' ? 1 / x.length : 1;
  const value = Tensor.full([], s * factor, a.value.dtype);
  return record('mse', value, [a, b], (g) => {
    const c = 2 * factor * g.data[0];
    const ga = a.requiresGrad ? gradBuffer(a).data : null;
    const gb = b.requiresGrad ? gradBuffer(b).data : null;
    for (let i = 0; i < x.length; i++) {
      const d = c * (x[i] - y[i]);
      if (ga) ga[i] += d;
      if (gb) gb[i] -= d;
    }
  });
}

/** Row norms ‖a_i‖ and the cosines of rows of a and b ([rows, d]), all in float64. */
function rowCosines(a: TypedArray, b: TypedArray, d: number, eps: number) {
  const rows = a.length / d;
  const normA = new Float64Array(rows), normB = new Float64Array(rows), cos = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const off = r * d;
    let aa = 0, bb = 0, ab = 0;
    for (let j = 0; j < d; j++) {
      const x = a[off + j], y = b[off + j];
      aa += x * x;
      bb += y * y;
      ab += x * y;
    }
    normA[r] = Math.sqrt(aa);
    normB[r] = Math.sqrt(bb);
    cos[r] = ab / (Math.max(normA[r], eps) * Math.max(normB[r], eps));
  }
  return { normA, normB, cos };
}

/** ga_i += w_i·∂cos_i/∂a_i and gb_i += w_i·∂cos_i/∂b_i for per-row weights w. */
function accumulateCosineGrads(a: Var, b: Var, d: number, eps: number, stats: ReturnType<typeof rowCosines>, w: (r: number) => number): void {
  const x = a.value.data, y = b.value.data;
  const ga = a.requiresGrad ? gradBuffer(a).data : null;
  const gb = b.requiresGrad ? gradBuffer(b).data : null;
  const { normA, normB, cos } = stats;
  for (let r = 0; r < cos.length; r++) {
    const wr = w(r);
    const na = Math.max(normA[r], eps), nb = Math.max(normB[r], eps);
    const cross = wr / (na * nb);
    const selfA = normA[r] > 0 ? (wr * cos[r]) / (na * normA[r]) : 0;
    const selfB = normB[r] > 0 ? (wr * cos[r]) / (nb * normB[r]) : 0;
    const off = r * d;
    if (ga) for (let j = 0; j < d; j++) ga[off + j] += cross * y[off + j] - selfA * x[off + j];
    if (gb) for (let j = 0; j < d; j++) gb[off + j] += cross * x[off + j] - selfB * y[off + j];
  }
}

/** Cosine similarity of corresponding rows (last axis) of a and b: [..., d] → [...]. */
export function cosineSimilarity(a: Var, b: Var, eps = 1e-8): Var {
  assertSameShape('cosineSimilarity', a, b);
  const d = lastDim('cosineSimilarity', a);
  const stats = rowCosines(a.value.data, b.value.data, d, eps);
  const value = new Tensor(allocate(a.value.dtype, stats.cos.length), a.value.shape.slice(0, -1));
  value.data.set(stats.cos);
  return record('cosineSimilarity', value, [a, b], (g) => {
    const gd = g.data;
    accumulateCosineGrads(a, b, d, eps, stats, (r) => gd[r]);
  });
}

/** mean over rows of (1 − cos(a_i, b_i)): the linearity regulariser between two [N, d] states. */
export function cosineDistanceMean(a: Var, b: Var, eps = 1e-8): Var {
  assertSameShape('cosineDistanceMean', a, b);
  const d = lastDim('cosineDistanceMean', a);
  const stats = rowCosines(a.value.data, b.value.data, d, eps);
  const rows = stats.cos.length;
  let s = 0;
  for (let r = 0; r < rows; r++) s += 1 - stats.cos[r];
  const value = Tensor.full([], s / rows, a.value.dtype);
  return record('cosineDistanceMean', value, [a, b], (g) => {
    const w = -g.data[0] / rows;
    accumulateCosineGrads(a, b, d, eps, stats, () => w);
  });
}
