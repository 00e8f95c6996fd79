/**
 * Least-squares linear maps for replaced spans, in closed form and float64, from moments streamed
 * over calibration batches.
 *
 * With X the map's input and D = h_out − h_in the span's update, the map predicts
 * h_out ≈ base + X·A + b with base = h_in − X (types.ts), i.e. it fits Z = X + D on X. Writing
 * A = I + B the problem is a regression of D on X:
 *
 *     with bias:     (XcᵀXc + λI) B = XcᵀDc,      b = μ_D − μ_X·B          (Xc, Dc centred)
 *     without bias:  (XᵀX + λI) B = XᵀD
 *
 * λ = ridge · tr(XᵀX)/d (relative to the mean eigenvalue). The ridge penalises ‖B‖ = ‖A − I‖, so
 * it pulls the map toward the identity — toward dropping the span — rather than toward zero.
 * The moments are the analysis layer's shifted float64 sums (src/analysis/moments.ts); the system
 * is solved by Cholesky (LAPACK posv through the backend).
 *
 * Reported with each fit: `explained` = 1 − ‖D − X·B − b‖² / ‖Dc‖² on the calibration tokens, the
 * share of the span's (centred) update the map reproduces (without bias: uncentred, 1 − ‖D − X·B‖²/‖D‖²).
 */
import { LinearityAccumulator } from '../analysis/linearity-accumulator.ts';
import { backend } from '../backend/index.ts';
import type { TokenBatch } from '../data/calibration.ts';
import { sub } from '../tensor/elementwise.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { PrunedModel } from './pruned-model.ts';
import { runSteps } from '../util/steps.ts';
import { streamSpansSteps } from './spans.ts';
import { spanLabel, type LinearMap, type MapInput, type Span } from './types.ts';

const DEFAULT_MAP_RIDGE = 1e-6;

export interface FitMapOptions {
  /** Fit a bias b (default true). */
  bias?: boolean;
  /** Relative ridge (default 1e-6). */
  ridge?: number;
}

export interface FittedMap {
  map: LinearMap;
  /** 1 − residual / energy of the update D on the calibration tokens (centred when fitted with a bias). */
  explained: number;
  tokens: number;
  /** The absolute ridge λ used. */
  lambda: number;
}

/** Accumulates the normal equations of one span's map over batches. */
export class MapFitAccumulator {
  readonly input: MapInput;
  readonly dim: number;
  private readonly acc: LinearityAccumulator;

  constructor(input: MapInput, dim: number) {
    this.input = input;
    this.dim = dim;
    this.acc = new LinearityAccumulator(dim);
  }

  get tokens(): number {
    return this.acc.tokens;
  }

  /** Adds the map's input rows X and the span's update D = h_out − h_in on the selected rows. */
  add(x: Tensor, delta: Tensor, rows?: ArrayLike<number>): void {
    this.acc.addDelta(x, delta, rows);
  }

  /** Solves for the map (see the module comment). */
  solve(options: FitMapOptions = {}): FittedMap {
    const withBias = options.bias ?? true;
    const ridge = options.ridge ?? DEFAULT_MAP_RIDGE;
    const s = this.acc.statistics();
    const d = this.dim;
    const n = s.tokens;
    // Gram and cross products about the means (bias) or about the origin (no bias)
    const gxx = s.cxx.slice();
    const gxd = s.cxd.slice();
    let dEnergy = s.dd;
    if (!withBias) {
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          gxx[i * d + j] += n * s.meanX[i] * s.meanX[j];
          gxd[i * d + j] += n * s.meanX[i] * s.meanDelta[j];
        }
      }
      for (let j = 0; j < d; j++) dEnergy += n * s.meanDelta[j] * s.meanDelta[j];
    }
    let trace = 0;
    for (let i = 0; i < d; i++) trace += gxx[i * d + i];
    const lambda = (ridge * trace) / d;
    const regular = gxx.slice();
    for (let i = 0; i < d; i++) regular[i * d + i] += lambda;
    const b = backend().posv(regular, d, gxd, d);
    if (!b) throw new Error(`map fit: XᵀX + λI is not positive definite (λ = ${lambda}, ${n} tokens); raise the ridge`);
    // residual ‖D − XB‖² = ‖D‖² − 2 tr(BᵀXᵀD) + tr(BᵀXᵀXB) (about the means when there is a bias)
    const gb = new Float64Array(d * d);
    backend().gemm({ transA: false, transB: false, m: d, n: d, k: d, alpha: 1, a: gxx, lda: d, b, ldb: d, beta: 0, c: gb, ldc: d });
    let cross = 0, quad = 0;
    for (let i = 0; i < d * d; i++) {
      cross += b[i] * gxd[i];
      quad += b[i] * gb[i];
    }
    const residual = dEnergy - 2 * cross + quad;
    let bias: Tensor | undefined;
    if (withBias) {
      bias = Tensor.zeros([d], 'float64');
      for (let j = 0; j < d; j++) {
        let v = s.meanDelta[j];
        for (let i = 0; i < d; i++) v -= s.meanX[i] * b[i * d + j];
        bias.data[j] = v;
      }
    }
    const weight = new Tensor(b.slice(), [d, d]);
    for (let i = 0; i < d; i++) weight.data[i * d + i] += 1;
    return {
      map: { input: this.input, weight, ...(bias ? { bias } : {}) },
      explained: dEnergy > 0 ? 1 - residual / dEnergy : Number.NaN,
      tokens: n,
      lambda,
    };
  }
}

export interface SpanFitRequest extends Span {
  input: MapInput;
}

/**
 * Fits maps for several spans of `model` (spans of kept blocks) in one pass over the batches:
 * each span's h_in, h_out (and, for 'mlp' maps, the MLP output of the block before it) come from
 * `model`'s own forward, so maps fitted on an already pruned model see its states.
 */
export function fitSpanMaps(
  model: PrunedModel,
  batches: readonly TokenBatch[],
  requests: readonly SpanFitRequest[],
  options: FitMapOptions & { onBatch?: (done: number, total: number) => void } = {},
): FittedMap[] {
  return runSteps(fitSpanMapsSteps(model, batches, requests, options));
}

/** {@link fitSpanMaps} pausing after every batch (src/util/steps.ts). */
export function* fitSpanMapsSteps(
  model: PrunedModel,
  batches: readonly TokenBatch[],
  requests: readonly SpanFitRequest[],
  options: FitMapOptions & { onBatch?: (done: number, total: number) => void } = {},
): Generator<void, FittedMap[], void> {
  const dim = model.base.config.hiddenSize;
  // a span's statistics exist from its first block to its last (layer-major), then only its map
  const acc: (MapFitAccumulator | undefined)[] = requests.map(() => undefined);
  const fitted: FittedMap[] = [];
  for (const r of requests) {
    if (r.input === 'mlp' && !model.isKept(r.start - 1)) {
      throw new Error(`span ${spanLabel(r)}: an 'mlp' map needs block ${r.start - 1} kept`);
    }
  }
  yield* streamSpansSteps(model, batches, requests, (k, s) => {
    const r = requests[k];
    let x = s.input;
    if (r.input === 'mlp') {
      if (!s.previous) throw new Error(`span ${spanLabel(r)}: block ${r.start - 1} did not run right before it`);
      x = s.previous.mlpOut;
    }
    (acc[k] ??= new MapFitAccumulator(r.input, dim)).add(x, sub(s.output, s.input), s.rows);
  }, options.onBatch, {
    onSpanDone: (k) => {
      fitted[k] = (acc[k] ?? new MapFitAccumulator(requests[k].input, dim)).solve(options);
      acc[k] = undefined;
    },
  });
  return fitted;
}
