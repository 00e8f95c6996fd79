/**
 * Two pruned models over the same token batches in one layer-major pass (src/models/layer-major.ts):
 * for each block ℓ of the original model, every batch of the first model and then every batch of
 * the second go through the steps that need block ℓ (a kept block, or a replacement that starts
 * there), while ℓ's weights are held once for both — so the KL divergence of a pruned model to its
 * original reads a streamed checkpoint once, not twice per batch. `finish(i, a, b)` receives batch
 * i's logits from both models in batch order (final norm and head held once for both).
 *
 * Each model's states are those of its own `forward` on the batch exactly: the same embed, step and
 * norm calls per batch, in the same order (src/prune/pruned-model.ts `runBlock` walks the steps).
 */
import { LayerMajorRun, residualStore, type LayerMajorBatch, type LayerMajorOptions } from '../models/layer-major.ts';
import { ResidualStore } from '../models/residual-store.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { PrunedModel } from './pruned-model.ts';

/** True when the two models can run side by side block by block (same number of original blocks). */
export function canPair(a: PrunedModel, b: PrunedModel): boolean {
  return a.originalLayers === b.originalLayers;
}

/** See the module comment. Pauses after every batch of every step. */
export function* pairedLayerMajorSteps(
  models: readonly [PrunedModel, PrunedModel],
  batches: readonly LayerMajorBatch[],
  finish: (i: number, a: Tensor, b: Tensor) => void,
  options: LayerMajorOptions = {},
): Generator<void, void, void> {
  const [a, b] = models;
  if (!canPair(a, b)) throw new Error(`paired pass: the models have ${a.originalLayers} and ${b.originalLayers} original blocks`);
  // one hold per distinct base model: a second hold on the same model would read its block again
  const bases = [...new Set([a.base, b.base])];
  const open = () => {
    const releases = bases.map((m) => m.holdWeights());
    return () => releases.reverse().forEach((r) => r());
  };
  // the residual streams of both models share the budget
  const budget = residualStore(a.base, options).budgetBytes;
  const runs = models.map((m) => new LayerMajorRun(m, new ResidualStore(Math.floor(budget / 2), options.spillDir)));
  const steps = models.map((m) => m.steps());
  const next = [0, 0];
  const L = a.originalLayers;
  /** Runs model k's steps that start at or before original block `layer` (all remaining ones for L). */
  function* advance(k: number, layer: number): Generator<void, void, void> {
    const run = runs[k];
    const list = steps[k];
    while (next[k] < list.length) {
      const s = list[next[k]];
      const at = s.layer ?? s.replacement.start;
      if (layer < L && at > layer) break;
      const step = next[k]++;
      for (let i = 0; i < batches.length; i++) {
        run.runBlockAt(step, step, i);
        yield;
      }
      run.dropState(step);
    }
  }
  try {
    let release = open();
    try {
      for (const run of runs) batches.forEach((batch, i) => run.embed(i, batch));
    } finally {
      release();
    }
    for (let layer = 0; layer <= L; layer++) {
      release = open();
      try {
        yield* advance(0, layer);
        yield* advance(1, layer);
      } finally {
        release();
      }
    }
    release = open();
    try {
      for (let i = 0; i < batches.length; i++) {
        const ends = runs.map((run, k) => {
          const h = run.state(steps[k].length, i);
          run.store.delete(`${steps[k].length}/${i}`);
          return models[k].lmHead(models[k].finalNorm(h));
        });
        finish(i, ends[0], ends[1]);
        yield;
      }
    } finally {
      release();
    }
  } finally {
    for (const run of runs) run.close();
  }
}
