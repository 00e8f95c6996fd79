/**
 * Applying LASER interventions to a model, composing them, and undoing them.
 *
 * apply(τ, ℓ, ρ): read matrix W of type τ in layer ℓ (a block of a fused tensor when the
 * architecture fuses it, in the stored layout), compute its truncated SVD in float64, replace W by
 * W_r = Σ_{i≤r} σ_i u_i v_iᵀ with r = keptRank(ρ, m, n), and write the whole tensor back with
 * `setWeight` (rounded to the tensor's dtype).
 *
 * Composition: interventions are applied one after another, each on the *current* weights. Two
 * interventions on different matrices commute (they touch disjoint blocks), so order only matters
 * when two hit the same matrix: then the second truncates the already-truncated matrix (reducing
 * to rank r₁ then r₂ gives rank min(r₁, r₂), and the exact SVD makes that equal to reducing once to
 * min(r₁, r₂) up to rounding; a randomized SVD or a 'bottom'/'residual' keep does not commute).
 *
 * Undo: the first time a stored tensor is touched, a copy of it is kept; `undo()` writes every
 * touched tensor back to that copy, so any sequence of applications is undone exactly. Models that
 * track replaced weights (src/models: `modifiedWeightNames`/`resetWeight`) need no copy for a
 * weight still read from the checkpoint: undo drops the replacement instead.
 *
 * Factored form: with `keepFactors`, the result carries L = U·Σ (out × r) and R = Vᵀ (r × in) in
 * the linear map's orientation (y = W·x ≈ L·(R·x)), and the parameter counts m·n vs r·(m + n),
 * which is also the ratio of multiply-adds per token.
 *
 * Installing the factors (`factored`): instead of the dense W_r, the model receives a
 * `LowRankWeight` (src/tensor/low-rank.ts) holding the stored tensor as L_s = U·Σ and R_s = Vᵀ of
 * the SVD of the *stored* block, so forwards run two thin GEMMs and the weight takes r·(m + n)
 * elements. Only a whole stored tensor can be factored: a block of a fused tensor (GPT-2 c_attn's
 * q, k or v) and a reduction whose factors would not be smaller than the dense matrix stay dense,
 * and the result's `note` says so. Reading such a weight (`getWeight(...).data`, a second
 * intervention, export) materialises L·R, so values are always those of W_r.
 */
import { nonFiniteSummary } from '../tensor/finite.ts';
import { LowRankWeight } from '../tensor/low-rank.ts';
import { Tensor } from '../tensor/tensor.ts';
import { locateMatrix, readBlock, writeBlock, type MatrixModel, type ResolvedMatrix } from '../models/matrices.ts';
import { keptRank, type RankRounding } from './rank.ts';
import { reconstruct, scaledLeft, truncatedSvd, type SvdMethod, type TruncatedSvd } from '../linalg/truncated-svd.ts';
import { formatIntervention, type Intervention } from './types.ts';

/**
 * Which singular components replace W:
 * - 'top' (LASER): the r largest;
 * - 'bottom': the r smallest (higher-order study);
 * - 'residual': all but the r largest, i.e. W − W_r (what LASER removes).
 */
export type ComponentKeep = 'top' | 'bottom' | 'residual';

export interface ApplyOptions {
  /** 'exact' float64 LAPACK SVD (default; src/linalg/truncated-svd.ts picks the route) or 'randomized' (seeded). */
  method?: SvdMethod;
  /** Randomized SVD settings (see svd.ts). */
  seed?: number;
  oversample?: number;
  powerIterations?: number;
  /** How ρ becomes r (see rank.ts). */
  rounding?: RankRounding;
  /** Components to keep (default 'top'). */
  keep?: ComponentKeep;
  /** Keep the factors L = U·Σ and R = Vᵀ in the result. */
  keepFactors?: boolean;
  /** Use exactly this many components instead of keptRank(ρ) (e.g. the k smallest for 'bottom'). */
  rank?: number;
  /** Install the factors L·R in the model instead of the dense reduced matrix (whole tensors only). */
  factored?: boolean;
}

export interface AppliedIntervention {
  intervention: Intervention;
  tensorName: string;
  /** Output × input dimension of the linear map. */
  outDim: number;
  inDim: number;
  /** Kept rank r (for 'residual': the r top components removed; the result has rank min(m,n) − r). */
  rank: number;
  fullRank: number;
  keep: ComponentKeep;
  /** ‖W − W'‖_F / ‖W‖_F, computed from the float64 values before rounding to the tensor's dtype. */
  relativeError: number;
  /** Parameters of the dense matrix (m·n) and of the factored form (r'·(m + n), r' the kept rank). */
  denseParams: number;
  factoredParams: number;
  /** Seconds spent in the SVD and reconstruction. */
  svdSeconds: number;
  /** L (out × r') and R (r' × in) with W' = L·R, when `keepFactors` was set. */
  factors?: { left: Tensor; right: Tensor };
  /** How the model now holds the tensor: dense, or as the factors L·R (`factored`). */
  storage: 'dense' | 'factored';
  /** Why a `factored` request was kept dense. */
  note?: string;
}

/**
 * Replace a float64 m × n matrix by its chosen rank-r component set. Returns the new values and
 * the factorisation that produced them.
 */
function reduceMatrix(values: Float64Array, m: number, n: number, r: number, keep: ComponentKeep, opts: ApplyOptions = {}): { values: Float64Array; factors: TruncatedSvd } {
  const full = Math.min(m, n);
  let f: TruncatedSvd;
  if (keep === 'residual') {
    if (r >= full) throw new Error(`LASER: keeping the residual of rank ${r} of a ${m}×${n} matrix leaves nothing`);
    if ((opts.method ?? 'exact') !== 'exact') throw new Error("LASER: 'residual' needs the exact SVD");
    f = truncatedSvd(values, m, n, full - r, { keep: 'bottom' });
  } else {
    f = truncatedSvd(values, m, n, r, { method: opts.method, keep, seed: opts.seed, oversample: opts.oversample, powerIterations: opts.powerIterations });
  }
  return { values: reconstruct(f), factors: f };
}

/** Applies interventions to one model and can undo them all. */
export class LaserEditor {
  /** Per touched tensor: its values before the first change, or 'reset' when dropping the replacement restores them. */
  private readonly originals = new Map<string, Tensor | 'reset'>();
  private readonly log: AppliedIntervention[] = [];

  constructor(readonly model: MatrixModel) {}

  /** Interventions applied since construction or the last undo, in order. */
  get applied(): readonly AppliedIntervention[] {
    return this.log;
  }

  /** Apply one intervention to the current weights. */
  apply(iv: Intervention, opts: ApplyOptions = {}): AppliedIntervention {
    const keep = opts.keep ?? 'top';
    const loc = locateMatrix(this.model, iv.type, iv.layer);
    const current = this.model.getWeight(loc.tensorName);
    if (!this.originals.has(loc.tensorName)) {
      const m = this.model;
      const canReset = m.resetWeight && m.modifiedWeightNames && !m.modifiedWeightNames().includes(loc.tensorName);
      this.originals.set(loc.tensorName, canReset ? 'reset' : current.clone());
    }

    const m = loc.rows.length;
    const n = loc.cols.length;
    const r = opts.rank ?? keptRank(iv.rho, m, n, opts.rounding);
    if (!(Number.isInteger(r) && r >= 1 && r <= Math.min(m, n))) throw new Error(`LASER: rank ${r} outside 1…${Math.min(m, n)} for ${loc.tensorName}`);
    const w = readBlock(current, loc);
    const bad = nonFiniteSummary(w, [m, n]);
    if (bad) throw new Error(`LASER: "${loc.tensorName}" (${iv.type}, layer ${iv.layer}) ${bad}; its SVD is undefined`);
    const t0 = performance.now();
    const { values, factors } = reduceMatrix(w, m, n, r, keep, opts);
    const svdSeconds = (performance.now() - t0) / 1000;

    const keptR = factors.r;
    let note: string | undefined;
    if (opts.factored) note = whyNotFactored(loc, current.shape, keptR);
    const factoredNow = opts.factored === true && note === undefined;
    if (factoredNow) {
      const stored = { left: Tensor.from(scaledLeft(factors), [factors.m, keptR], current.dtype), right: Tensor.from(factors.vt, [keptR, factors.n], current.dtype) };
      this.model.setWeight(loc.tensorName, new LowRankWeight(stored.left, stored.right) as unknown as Tensor);
    } else {
      const updated = current.clone();
      writeBlock(updated, loc, values);
      this.model.setWeight(loc.tensorName, updated);
    }

    const result: AppliedIntervention = {
      intervention: { ...iv },
      tensorName: loc.tensorName,
      outDim: loc.outDim,
      inDim: loc.inDim,
      rank: r,
      fullRank: Math.min(m, n),
      keep,
      relativeError: relativeDifference(w, values),
      denseParams: m * n,
      factoredParams: keptR * (m + n),
      svdSeconds,
      storage: factoredNow ? 'factored' : 'dense',
    };
    if (note) result.note = note;
    if (opts.keepFactors) result.factors = orientFactors(factors, loc, current.dtype);
    this.log.push(result);
    return result;
  }

  /** Apply several in order (each on the weights the previous ones left). */
  applyAll(ivs: readonly Intervention[], opts: ApplyOptions = {}): AppliedIntervention[] {
    return ivs.map((iv) => this.apply(iv, opts));
  }

  /** Restore every tensor touched since construction (or the last undo) to its original values. */
  undo(): void {
    for (const [name, original] of this.originals) {
      if (original === 'reset') this.model.resetWeight!(name);
      else this.model.setWeight(name, original.clone());
    }
    this.originals.clear();
    this.log.length = 0;
  }

  /** Names of the stored tensors changed so far. */
  touchedTensors(): string[] {
    return [...this.originals.keys()];
  }
}

/** Why a reduction cannot be installed as factors of its stored tensor (undefined: it can). */
function whyNotFactored(loc: ResolvedMatrix, storedShape: readonly number[], r: number): string | undefined {
  const whole = (idx: Int32Array, size: number) => idx.length === size && idx.every((v, i) => v === i);
  if (!whole(loc.rows, storedShape[0]) || !whole(loc.cols, storedShape[1])) {
    return `kept dense: the matrix is a block of the fused tensor ${loc.tensorName} [${storedShape.join(', ')}], and only whole tensors can be factored`;
  }
  const [m, n] = storedShape;
  if (r * (m + n) >= m * n) return `kept dense: rank ${r} factors (${r * (m + n)} parameters) are not smaller than the ${m}×${n} matrix`;
  return undefined;
}

/** ‖a − b‖_F / ‖a‖_F. */
function relativeDifference(a: Float64Array, b: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += a[i] * a[i];
  }
  return den === 0 ? 0 : Math.sqrt(num / den);
}

/** L (out × r) and R (r × in) with W ≈ L·R, whatever the stored layout. */
function orientFactors(f: TruncatedSvd, loc: ResolvedMatrix, dtype: 'float32' | 'float64'): { left: Tensor; right: Tensor } {
  const us = scaledLeft(f); // stored-rows × r
  if (loc.layout === 'out_in') {
    return { left: Tensor.from(us, [f.m, f.r], dtype), right: Tensor.from(f.vt, [f.r, f.n], dtype) };
  }
  // stored block = Wᵀ (in × out) = U·Σ·Vᵀ  ⇒  W = V·Σ·Uᵀ: L = V·Σ (out × r), R = Uᵀ (r × in)
  const left = new Float64Array(f.n * f.r);
  for (let j = 0; j < f.n; j++) for (let k = 0; k < f.r; k++) left[j * f.r + k] = f.vt[k * f.n + j] * f.s[k];
  const right = new Float64Array(f.r * f.m);
  for (let k = 0; k < f.r; k++) for (let i = 0; i < f.m; i++) right[k * f.m + i] = f.u[i * f.r + k];
  return { left: Tensor.from(left, [f.n, f.r], dtype), right: Tensor.from(right, [f.r, f.m], dtype) };
}

/** One line describing an applied intervention, for logs. */
export function describeApplied(a: AppliedIntervention): string {
  const kept = a.keep === 'residual' ? `all but top ${a.rank}` : `${a.keep} ${a.rank}`;
  return `${formatIntervention(a.intervention)} → ${a.tensorName} (${a.outDim}×${a.inDim}), ${kept} of ${a.fullRank} components, ` +
    `rel. error ${a.relativeError.toExponential(3)}, ` +
    (a.storage === 'factored'
      ? `stored as factors: ${a.denseParams} → ${a.factoredParams} params`
      : `stored dense: ${a.denseParams} params (${a.factoredParams} if factored)`) +
    (a.note ? `; ${a.note}` : '');
}
