/**
 * Every kind of model folder linscope writes, built the way the commands build them, each with the
 * logits of the model linscope evaluated (the intended model) on fixed token ids. Used by the
 * round-trip test (test/export/roundtrip.test.ts: linscope's reload reproduces them) and by the
 * transformers cross-check (bench/export-crosscheck.ts → bench/export-hf-crosscheck.py).
 *
 * Kinds: laser-dense, laser-bf16, laser-factored (laser apply), prune-drop, prune-linear (fitted
 * residual map), prune-linear-distil (fitted, then distilled), prune-mlp-folded (ReplaceMe map
 * folded into the previous block; stored with the modeling file where folding is not exact),
 * prune-maps-unfolded (a residual map on the embeddings replacing block 0 and a ReplaceMe map kept
 * unfolded after block 1: the two other places a map can run),
 * pretrain (a trainable Llama saved as pretrain/finetune do; Llama family only).
 */
import { bf16Bits, bf16ToNumber } from '../../src/io/half.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { exportModel } from '../../src/laser/export.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { checkpointMaps, checkpointPrefix } from '../../src/export/model-parts.ts';
import { createModel, type DecoderModel } from '../../src/models/decoder.ts';
import type { WeightSource } from '../../src/models/types.ts';
import { distillMaps } from '../../src/prune/distill.ts';
import { exportPrunedModel, mlpFoldProblem } from '../../src/prune/export.ts';
import { fitSpanMaps } from '../../src/prune/fit.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import { pruneModel } from '../../src/prune/replace.ts';
import { isLowRank } from '../../src/tensor/low-rank.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { saveHFModel } from '../../src/train/hf-folder.ts';
import { TrainableModel } from '../../src/train/trainable-model.ts';
import { randomBatches } from '../prune/helpers.ts';

export const EXPORT_KINDS = [
  'laser-dense', 'laser-bf16', 'laser-factored', 'prune-drop', 'prune-linear', 'prune-linear-distil', 'prune-mlp-folded',
  'prune-maps-unfolded', 'pretrain',
] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** Token ids every kind is evaluated on (valid for a 512-token vocabulary and up). */
export const EVAL_IDS = [[1, 5, 9, 22, 7, 300, 11, 2, 64, 128], [3, 3, 8, 100, 41, 6, 9, 17, 250, 4]];

export interface BuiltExport {
  kind: ExportKind;
  /** Logits [B, T, V] of the intended model on EVAL_IDS. */
  expected: Tensor;
  /** Whether transformers needs trust_remote_code for the folder. */
  customCode: boolean;
  /** What the export holds, in words. */
  note: string;
}

async function load(dir: string): Promise<DecoderModel> {
  return createModel((await openModelSource(dir)) as WeightSource);
}

/** Whether `kind` applies to the model in `dir` (pretrain: Llama family only). */
export async function kindApplies(kind: ExportKind, dir: string): Promise<boolean> {
  if (kind !== 'pretrain') return true;
  return (await load(dir)).config.family === 'llama';
}

/** The LASER interventions used: the MLP output matrix of the last block, and q of block 0 when it is a whole tensor. */
function laserEdits(model: DecoderModel): { type: 'out' | 'q' | 'in'; layer: number; rho: number }[] {
  const last = model.numLayers - 1;
  const edits: { type: 'out' | 'q' | 'in'; layer: number; rho: number }[] = [{ type: 'out', layer: last, rho: 0.1 }];
  edits.push({ type: model.matrices(0).q?.outRanges ? 'in' : 'q', layer: 0, rho: 0.5 });
  return edits;
}

/** Build export `kind` of the model in `sourceDir` into `outDir`. */
export async function buildExport(kind: ExportKind, sourceDir: string, outDir: string): Promise<BuiltExport> {
  const model = await load(sourceDir);
  const source = model.source as WeightSource & { dir?: string; config: Record<string, unknown> };
  const exportSource = {
    config: source.config, weightNames: () => model.weightNames(), getWeight: (n: string) => model.getWeight(n), dir: source.dir,
    vocabSize: model.config.vocabSize, linearMaps: checkpointMaps(model), prefix: checkpointPrefix(model),
  };
  const calibration = () => randomBatches(Math.min(model.config.vocabSize, 512), 6, 3, 11);
  switch (kind) {
    case 'laser-dense':
    case 'laser-bf16':
    case 'laser-factored': {
      const factored = kind === 'laser-factored';
      const applied = new LaserEditor(model).applyAll(laserEdits(model), { factored });
      if (kind === 'laser-bf16') {
        // the exported model is the BF16 one: evaluate that model
        for (const name of model.weightNames()) {
          const w = model.getWeight(name);
          const dense = isLowRank(w) ? w.dense() : w;
          model.setWeight(name, Tensor.from(Array.from(dense.data, (v) => bf16ToNumber(bf16Bits(v))), dense.shape, 'float32'));
        }
      }
      const expected = model.forward(EVAL_IDS).logits;
      const res = exportModel(outDir, exportSource, { applied, factored, dtype: kind === 'laser-bf16' ? 'BF16' : undefined });
      const nFactored = applied.filter((a) => a.storage === 'factored').length;
      return { kind, expected, customCode: res.customCode, note: factored ? `${nFactored} of ${applied.length} matrices as factors` : `${applied.length} matrices reduced` };
    }
    case 'prune-drop': {
      const pruned = new PrunedModel(model, [{ start: 1, count: 1 }]);
      const res = exportPrunedModel(outDir, pruned);
      return { kind, expected: pruned.forward(EVAL_IDS).logits, customCode: res.customCode, note: `${res.numLayers} of ${model.numLayers} blocks` };
    }
    case 'prune-linear':
    case 'prune-linear-distil': {
      const batches = calibration();
      let pruned = pruneModel(model, batches, { k: 1, method: 'linear', criterion: 'linearity', mapInput: 'residual', bias: true }).model;
      if (kind === 'prune-linear-distil') pruned = distillMaps(pruned, batches, { steps: 4, lr: 1e-3, seed: 0 }).model;
      const res = exportPrunedModel(outDir, pruned);
      return { kind, expected: pruned.forward(EVAL_IDS).logits, customCode: res.customCode, note: `${res.stored.length} map(s) stored, ${res.numLayers} blocks` };
    }
    case 'prune-mlp-folded': {
      // ReplaceMe's map for block 1, fitted on the MLP output of block 0 (bias only where the MLP has one, so it folds)
      const bias = model.matrices(0).out?.biasName !== undefined;
      const [fit] = fitSpanMaps(new PrunedModel(model), calibration(), [{ start: 1, count: 1, input: 'mlp' }], { bias });
      const pruned = new PrunedModel(model, [{ start: 1, count: 1, map: fit.map }]);
      const res = exportPrunedModel(outDir, pruned);
      const note = res.folded.length > 0 ? `folded into ${res.folded.map((f) => f.tensor).join(', ')}` : `not foldable (${mlpFoldProblem(model, 0, fit.map)}): map stored`;
      return { kind, expected: pruned.forward(EVAL_IDS).logits, customCode: res.customCode, note };
    }
    case 'prune-maps-unfolded': {
      const fits = fitSpanMaps(new PrunedModel(model), calibration(), [{ start: 0, count: 1, input: 'residual' }, { start: 2, count: 1, input: 'mlp' }], { bias: true });
      const pruned = new PrunedModel(model, [{ start: 0, count: 1, map: fits[0].map }, { start: 2, count: 1, map: fits[1].map }]);
      const res = exportPrunedModel(outDir, pruned, { fold: false });
      return { kind, expected: pruned.forward(EVAL_IDS).logits, customCode: res.customCode, note: `maps after blocks ${res.stored.map((m) => m.after_layer).join(', ')} (${res.stored.map((m) => m.input).join(', ')})` };
    }
    case 'pretrain': {
      const trainable = TrainableModel.fromSource(source);
      const ids = EVAL_IDS.flat();
      const logits = trainable.evaluate(ids, EVAL_IDS.length, EVAL_IDS[0].length).logits;
      saveHFModel(outDir, trainable, source.dir);
      return { kind, expected: new Tensor(Float32Array.from(logits.value.data), [EVAL_IDS.length, EVAL_IDS[0].length, model.config.vocabSize]), customCode: false, note: `${model.numLayers} blocks` };
    }
  }
  throw new Error(`unknown export kind ${kind as string}`);
}

/**
 * Exports built from seeded, fixed parts (no fitting), so that their transformers reference files
 * (test/fixtures/export/*.reference.safetensors, written once by bench/export-hf-reference.py) stay
 * valid: a Llama with a map on the embeddings (replacing block 0) and an unfolded ReplaceMe map
 * after block 1 (replacing block 2); a GPT-2 with two matrices stored as LASER factors.
 */
export const SEEDED_EXPORTS = ['llama-maps', 'gpt2-factored'] as const;
export type SeededExport = (typeof SEEDED_EXPORTS)[number];

export async function buildSeededExport(which: SeededExport, fixturesDir: string, outDir: string): Promise<void> {
  if (which === 'llama-maps') {
    const model = await load(`${fixturesDir}/llama`);
    const d = model.config.hiddenSize;
    const pruned = new PrunedModel(model, [
      { start: 0, count: 1, map: seededMap(d, 'residual', 21) },
      { start: 2, count: 1, map: seededMap(d, 'mlp', 22) },
    ]);
    exportPrunedModel(outDir, pruned, { fold: false });
    return;
  }
  const model = await load(`${fixturesDir}/gpt2`);
  const applied = new LaserEditor(model).applyAll([{ type: 'out', layer: 1, rho: 0.25 }, { type: 'in', layer: 0, rho: 0.5 }], { factored: true });
  const source = model.source as WeightSource & { dir?: string; config: Record<string, unknown> };
  exportModel(outDir, { config: source.config, weightNames: () => model.weightNames(), getWeight: (n) => model.getWeight(n), dir: source.dir }, { applied, factored: true });
}

/** I + 0.05·N(0, 1) with bias 0.1·N(0, 1), seeded (xorshift-free: a fixed LCG, independent of linscope's RNG). */
function seededMap(d: number, input: 'residual' | 'mlp', seed: number) {
  let state = seed >>> 0;
  const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const weight = Tensor.zeros([d, d], 'float64');
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) weight.data[i * d + j] = (i === j ? 1 : 0) + 0.05 * normal();
  const bias = Tensor.from(Array.from({ length: d }, () => 0.1 * normal()), [d], 'float64');
  return { input, weight, bias };
}
