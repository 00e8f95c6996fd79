/**
 * Factored low-rank weights: a GPT-2-small-shaped model (random weights, d = 768, 12 layers,
 * vocabulary 50,257; saved to a temporary safetensors folder and loaded back, so the model owns
 * its arrays as with a real checkpoint) with all 24 MLP matrices (in = c_fc, out = c_proj) reduced
 * to ρ = 0.1, held dense (W_r, as `laser apply` did before) vs as factors L = U·Σ, R = Vᵀ
 * (`--factored`).
 *
 * Per variant: the weight elements the forward reads (Σ m·n, or r·(m + n) when factored), the
 * process's ArrayBuffer bytes after a GC (everything the model holds: the dense-reduced model also
 * keeps the checkpoint's tensor to undo to; the dense variant's reference logits are subtracted),
 * the GEMM FLOPs of a forward, and the best of 5 forward times on `tokens` tokens after one
 * untimed warm-up forward. The factored logits are checked against the dense-reduced ones.
 *
 * Run: LINSCOPE_THREADS=1 node --expose-gc --import tsx -e "import('./bench/laser-factored.ts').then((m) => m.benchLaserFactored())"
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportModel } from '../src/laser/export.ts';
import { LaserEditor } from '../src/laser/intervention.ts';
import type { Intervention } from '../src/laser/types.ts';
import { loadModel, type DecoderModel } from '../src/models/decoder.ts';
import { printTable } from '../src/report/table.ts';
import { maxAbsDiff } from '../src/tensor/elementwise.ts';
import { isLowRank, storedElements, type LowRankWeight } from '../src/tensor/low-rank.ts';
import { Rng } from '../src/tensor/random.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { buildGpt2Small } from './forward.ts';

const SHAPE = { layers: 12, d: 768, vocab: 50257 };

export interface FactoredRow {
  variant: string;
  /** Elements of the weights the forward reads (tied embedding counted once). */
  weightElements: number;
  /** Of which in the 24 MLP matrices. */
  mlpElements: number;
  /** process.memoryUsage().arrayBuffers after a GC, MB. */
  arrayBufferMB: number;
  /** GEMM GFLOPs of one forward. */
  gflop: number;
  /** Best of `runs` forward wall times, ms. */
  forwardMs: number;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

/** GEMM FLOPs of one forward on T tokens, given the multiply-adds per token of the MLP matrices. */
function forwardGflop(T: number, mlpMacsPerToken: number): number {
  const { layers: L, d: D, vocab: V } = SHAPE;
  const attention = 2 * T * D * 3 * D + 2 * T * T * D * 2 + 2 * T * D * D;
  return (L * attention + 2 * T * mlpMacsPerToken + 2 * T * D * V) / 1e9;
}

/** The untimed forward; a function of its own so its logits are garbage once it returns. */
function warmUpAndCompare(model: DecoderModel, ids: number[][], ref: { logits?: Tensor; diff?: number }, isReference: boolean): void {
  const logits = model.forward(ids).logits;
  if (ref.logits) {
    ref.diff = maxAbsDiff(logits, ref.logits);
    ref.logits = undefined;
  } else if (isReference) {
    ref.logits = logits;
  }
}

/**
 * One untimed forward (warm-up; its logits are compared with `ref.logits` and then dropped, or
 * become `ref.logits` when there is none yet), then a GC and the memory reading, then `runs` timed
 * forwards.
 */
function measureVariant(variant: string, model: DecoderModel, mlpNames: string[], ids: number[][], runs: number, ref: { logits?: Tensor; diff?: number }): FactoredRow {
  warmUpAndCompare(model, ids, ref, variant.includes('dense W_r'));
  gc();
  const arrayBufferMB = (process.memoryUsage().arrayBuffers - (ref.logits ? ref.logits.size * 4 : 0)) / 2 ** 20;
  let weightElements = 0;
  for (const name of model.weightNames()) weightElements += storedElements(model.getWeight(name));
  const mlpElements = mlpNames.reduce((s, n) => s + storedElements(model.getWeight(n)), 0);
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    model.forward(ids);
    best = Math.min(best, performance.now() - t);
  }
  return { variant, weightElements, mlpElements, arrayBufferMB, gflop: forwardGflop(ids[0].length, mlpElements), forwardMs: best };
}

export async function benchLaserFactored(opts: { tokens?: number; runs?: number; rho?: number } = {}): Promise<FactoredRow[]> {
  const tokens = opts.tokens ?? 1024;
  const runs = opts.runs ?? 5;
  const rho = opts.rho ?? 0.1;
  const dir = mkdtempSync(join(tmpdir(), 'laser-factored-bench-'));
  try {
    {
      const built = buildGpt2Small();
      exportModel(dir, { config: built.source.config as Record<string, unknown>, weightNames: () => built.weightNames(), getWeight: (n) => built.getWeight(n) });
    }
    gc();
    const model = await loadModel(dir);
    const rng = new Rng(7);
    const ids = [Array.from({ length: tokens }, () => rng.int(SHAPE.vocab))];
    const ivs: Intervention[] = [];
    for (let l = 0; l < SHAPE.layers; l++) ivs.push({ type: 'in', layer: l, rho }, { type: 'out', layer: l, rho });
    const mlpNames = ivs.map((iv) => model.matrices(iv.layer)[iv.type]!.tensorName);

    const rows: FactoredRow[] = [];
    const ref: { logits?: Tensor; diff?: number } = {};
    rows.push(measureVariant('base (dense, full rank)', model, mlpNames, ids, runs, ref));

    const editor = new LaserEditor(model);
    const t0 = performance.now();
    const applied = editor.applyAll(ivs, { factored: true });
    const svdSeconds = (performance.now() - t0) / 1e3;
    if (applied.some((a) => a.storage !== 'factored')) throw new Error('every MLP matrix should be factored');
    const factors = new Map(mlpNames.map((n) => [n, model.getWeight(n) as unknown as LowRankWeight]));

    // dense-reduced, as `laser apply` without --factored holds it: W_r dense, the checkpoint tensor kept for undo
    editor.undo();
    for (const [name, f] of factors) model.setWeight(name, f.dense());
    rows.push(measureVariant(`ρ = ${rho}, dense W_r`, model, mlpNames, ids, runs, ref));

    for (const [name, f] of factors) model.setWeight(name, f as unknown as Tensor);
    if (!mlpNames.every((n) => isLowRank(model.getWeight(n)))) throw new Error('factors not installed');
    rows.push(measureVariant(`ρ = ${rho}, factored L·R`, model, mlpNames, ids, runs, ref));
    const diff = ref.diff ?? NaN;
    printTable(rows.map((r) => ({
      variant: r.variant,
      'weights (M elements)': (r.weightElements / 1e6).toFixed(2),
      'MLP matrices (M)': (r.mlpElements / 1e6).toFixed(2),
      'weight MB (f32)': ((r.weightElements * 4) / 2 ** 20).toFixed(1),
      'ArrayBuffers MB': r.arrayBufferMB.toFixed(1),
      'GFLOP/forward': r.gflop.toFixed(1),
      'forward ms': r.forwardMs.toFixed(0),
    })));
    console.log(`${tokens} tokens, best of ${runs}; 24 exact SVDs (768×3072) took ${svdSeconds.toFixed(1)} s; max |Δ logits| factored vs dense = ${diff.toExponential(2)}`);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
