/**
 * Prefix caching for LASER's teacher-forced metrics.
 *
 * An intervention (τ, ℓ, ρ) changes a matrix of block ℓ only, so the residual stream entering
 * block ℓ, h_ℓ = (block_{ℓ−1} ∘ … ∘ block_0)(embed(x)), is the same for every intervention at
 * layer ℓ. For a set of interventions whose highest layer is s, h_s depends only on those applied
 * at layers < s (none for a single intervention; the already chosen ones during greedy
 * composition). We therefore keep, for one (split, layer s, interventions below s) at a time, h_s
 * and the call context of every teacher-forcing batch, and evaluate a candidate by running blocks
 * s…L−1, the final norm and the LM head at the answer positions only. The search goes layer by
 * layer (last to first), so each layer's h_s is computed once; memory holds one layer's input for
 * one split. A cached entry is reused whenever the interventions below its layer are exactly its
 * key, whatever the interventions above it.
 *
 * The key is the text form of the interventions below s: one evaluator must see the same apply
 * options (SVD method, rounding) throughout, as a search does. Greedy generation, when asked for,
 * runs through the full model (evaluateFactualRecall's own path).
 */
import { evaluateFactualRecall, type AllLogitsFn, type FactualRecallOptions, type FactualRecallResult, type PreparedCases, type TeacherForcedBatch } from '../eval/factual-recall.ts';
import type { CausalLM, EvalTokenizer } from '../eval/model-api.ts';
import { headAt } from '../eval/selected-logits.ts';
import { blocksLayerMajorSteps, type LayerMajorModel } from '../models/layer-major.ts';
import { runStepsYielding } from '../util/steps.ts';
import type { ForwardContext } from '../models/types.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { formatInterventions, type Intervention } from './types.ts';

/** A model whose forward can be split at a block boundary and finished at chosen positions. */
export type PrefixCachableLM = CausalLM & LayerMajorModel;

interface CachedBatch {
  hidden: Tensor;
  ctx: ForwardContext;
  /** Shape of the batch, to catch a batching that differs from the one cached. */
  rows: number;
  width: number;
}

interface CacheEntry {
  split: string;
  layer: number;
  /** formatInterventions of the interventions applied below `layer`. */
  below: string;
  batches: CachedBatch[];
}

export interface PrefixCacheStats {
  /** Evaluations that computed a new cached layer input. */
  prefixComputations: number;
  /** Of those, the ones that started from the cached input of a lower layer instead of the embedding. */
  prefixExtensions: number;
  /** Evaluations served from an existing cached layer input. */
  cacheHits: number;
  /** Evaluations that ran the whole model (no interventions, nothing reusable). */
  fullEvaluations: number;
}

export class PrefixCachedEvaluator<S extends string = string> {
  private entry: CacheEntry | undefined;
  readonly stats: PrefixCacheStats = { prefixComputations: 0, prefixExtensions: 0, cacheHits: 0, fullEvaluations: 0 };

  constructor(
    readonly model: PrefixCachableLM,
    readonly tokenizer: EvalTokenizer,
    readonly splits: Record<S, PreparedCases>,
    readonly options: Omit<FactualRecallOptions, 'batchLogits' | 'allLogits'> = {},
  ) {}

  /**
   * Metrics of the model as it currently is, which must be the base model with exactly
   * `interventions` applied (in that order).
   */
  async evaluate(split: S, interventions: readonly Intervention[]): Promise<FactualRecallResult> {
    const cases = this.splits[split];
    if (!cases) throw new Error(`prefix cache: unknown split "${split}"`);
    const { allLogits, built } = this.plan(split, interventions);
    const result = await evaluateFactualRecall(this.model, this.tokenizer, cases, { ...this.options, allLogits });
    if (built) this.entry = built; // only a complete entry is kept
    return result;
  }

  /** Drop the cached layer input. */
  clear(): void {
    this.entry = undefined;
  }

  /**
   * Choose where to start. With s = the highest intervened layer: reuse the cached entry when the
   * interventions below its layer are its key and its layer is ≥ s (blocks from there on are rerun
   * anyway); otherwise build the entry for layer s — from the cached one when that is compatible
   * and lower (running only the blocks between), else from the embedding. Every stretch of blocks
   * runs layer-major over all batches (src/models/layer-major.ts).
   */
  private plan(split: S, interventions: readonly Intervention[]): { allLogits?: AllLogitsFn; built?: CacheEntry } {
    const below = (layer: number) => formatInterventions(interventions.filter((iv) => iv.layer < layer));
    const top = interventions.length ? Math.max(...interventions.map((iv) => iv.layer)) : -1;
    const e = this.entry;
    const compatible = e !== undefined && e.split === split && below(e.layer) === e.below;
    if (compatible && e.layer >= top) {
      this.stats.cacheHits++;
      return { allLogits: (batches, ats, done) => this.finish(e.layer, batches.map((b) => this.cachedBatch(e, b)), ats, done) };
    }
    if (top < 0) {
      // Nothing to share with later evaluations at a known layer: the whole model, layer-major.
      this.stats.fullEvaluations++;
      return {};
    }
    this.entry = undefined; // one layer's input at a time: the old entry is consumed or dropped
    const fresh: CacheEntry = { split, layer: top, below: below(top), batches: [] };
    this.stats.prefixComputations++;
    if (compatible) this.stats.prefixExtensions++;
    const allLogits: AllLogitsFn = async (batches, ats, done) => {
      const inputs = compatible ? batches.map((b) => this.cachedBatch(e, b)) : batches;
      if (compatible) e.batches = [];
      await runStepsYielding(blocksLayerMajorSteps(this.model, inputs, compatible ? e.layer : 0, top, (i, hidden, ctx) => {
        const b = batches[i];
        fresh.batches[b.index] = { hidden, ctx, rows: b.ids.length, width: b.ids[0].length };
      }, this.options.memory));
      await this.finish(top, batches.map((b) => fresh.batches[b.index]), ats, done);
    };
    return { allLogits, built: fresh };
  }

  private cachedBatch(e: CacheEntry, batch: TeacherForcedBatch): CachedBatch {
    const cached = e.batches[batch.index];
    if (!cached || cached.rows !== batch.ids.length || cached.width !== batch.ids[0].length) {
      throw new Error(`prefix cache: batch ${batch.index} does not match the cached batching (same cases and batch size are required)`);
    }
    return cached;
  }

  /** Blocks `layer`…L−1 over the batches' streams entering `layer`, layer-major; the head at each batch's pairs. */
  private finish(layer: number, starts: readonly { hidden: Tensor; ctx: ForwardContext }[], ats: readonly (readonly (readonly [number, number])[])[], done: (i: number, logits: Tensor) => void): Promise<void> {
    const L = this.model.config.numLayers;
    return runStepsYielding(blocksLayerMajorSteps(this.model, starts, layer, L, (i, hidden) => done(i, headAt(this.model, hidden, ats[i])), this.options.memory));
  }

}
