/**
 * The whole linearity analysis on a GPT-2-small-shaped decoder (random weights built in memory:
 * 12 blocks, d = 768, 12 heads, vocab 50257) over 16,384 tokens (32 sequences × 512 random ids),
 * with the time split into forward / statistics (the float64 moment GEMMs) / solve (eigh, pinv and
 * ridge scores). It also measures, on the same forwards, an alternative statistics pass that does
 * each batch's XᵀX and XᵀD as float32 GEMMs (summed into float64 across batches) and reports how far
 * its scores are from the float64 ones. Finally the real stories260K profile on the paper's probe
 * set (128 slices of 512 characters of TinyStories, seed 0), when the shared data is present.
 *
 *   node --import tsx bench/linearity-model.ts [--quick]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { residualStates } from '../src/analysis/hidden-states.ts';
import { solvePairLinearity } from '../src/analysis/linearity-solve.ts';
import type { CentredPairStatistics } from '../src/analysis/linearity-statistics.ts';
import { centredProduct, gramFlops, gramPanelWidth, symmetrizeUpper } from '../src/analysis/moments.ts';
import { backend } from '../src/backend/index.ts';
import { analyseModel } from '../src/linearity/analyse.ts';
import { randomTokenIds } from '../src/linearity/data.ts';
import { DEFAULT_ANALYSIS, DEFAULT_SAMPLING } from '../src/linearity/options.ts';
import { runLinearity } from '../src/linearity/run.ts';
import type { ModelLinearity } from '../src/linearity/result.ts';
import { formatRunTables } from '../src/linearity/tables.ts';
import { createModel } from '../src/models/decoder.ts';
import { randomWeightSource } from '../src/models/random-weights.ts';
import { printTable } from '../src/report/table.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

const quick = process.argv.includes('--quick');
const SHAPE = { layers: 12, d: 768, heads: 12, vocab: 50257, seqLen: 512 };
const TOKENS = quick ? 4096 : 16384;
const BATCH = 4;

/** GEMM flops of the forward without the LM head: projections, QKᵀ and PV over all T², MLP. */
function forwardFlops(sequences: number, T: number): number {
  const { layers: L, d: D } = SHAPE;
  return sequences * L * (2 * T * D * 3 * D + 2 * 2 * T * T * D + 2 * T * D * D + 2 * 2 * T * D * 4 * D);
}

/** Flops of the float64 statistics: a block-triangular Gram per X state and one cross product per pair. */
function statisticsFlops(tokens: number, pairs: number): number {
  return pairs * gramFlops(tokens, SHAPE.d) + pairs * 2 * tokens * SHAPE.d * SHAPE.d;
}

/**
 * The experiment: moments of every pair with per-batch float32 GEMMs. Shifts, sums and sums of
 * squares stay float64 (as in src/analysis/moments.ts); only XᵀX and XᵀD are float32 per batch.
 */
class Float32Statistics {
  private readonly shifts: Float64Array[] = [];
  private readonly sums: Float64Array[];
  private readonly grams: Float64Array[];
  private readonly cross: Float64Array[];
  private readonly sumDelta: Float64Array[];
  private readonly ssDelta: number[];
  private readonly ssTarget: number[];
  private count = 0;
  seconds = 0;

  constructor(private readonly pairs: number, private readonly d: number) {
    const vec = () => new Float64Array(d);
    const mat = () => new Float64Array(d * d);
    this.sums = Array.from({ length: pairs }, vec);
    this.grams = Array.from({ length: pairs }, mat);
    this.cross = Array.from({ length: pairs }, mat);
    this.sumDelta = Array.from({ length: pairs }, vec);
    this.ssDelta = new Array(pairs).fill(0);
    this.ssTarget = new Array(pairs).fill(0);
  }

  add(states: Tensor[], rows: Int32Array): void {
    const t0 = performance.now();
    const d = this.d;
    const n = rows.length;
    const shifted = states.map((s, k) => {
      const out = new Float64Array(n * d);
      for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) out[r * d + j] = s.data[rows[r] * d + j];
      if (!this.shifts[k]) {
        const mean = new Float64Array(d);
        for (let i = 0; i < out.length; i++) mean[i % d] += out[i] / n;
        this.shifts[k] = mean;
      }
      const shift = this.shifts[k];
      for (let i = 0; i < out.length; i++) out[i] -= shift[i % d];
      return out;
    });
    const x32 = new Float32Array(n * d);
    const d32 = new Float32Array(n * d);
    const g32 = new Float32Array(d * d);
    const c32 = new Float32Array(d * d);
    const be = backend();
    for (let p = 0; p < this.pairs; p++) {
      const x = shifted[p];
      const y = shifted[p + 1];
      const sum = this.sums[p];
      const sumD = this.sumDelta[p];
      let dd = 0;
      let yy = 0;
      for (let i = 0; i < n * d; i++) {
        const delta = y[i] - x[i];
        x32[i] = x[i];
        d32[i] = delta;
        sum[i % d] += x[i];
        sumD[i % d] += delta;
        dd += delta * delta;
        yy += y[i] * y[i];
      }
      this.ssDelta[p] += dd;
      this.ssTarget[p] += yy;
      // block upper triangle of the Gram, as accumulateGram does, but in float32
      g32.fill(0);
      const width = gramPanelWidth(d);
      for (let s = 0; s < d; s += width) {
        const m = Math.min(width, d - s);
        be.gemm({ transA: true, transB: false, m, n: d - s, k: n, alpha: 1, a: x32.subarray(s), lda: d, b: x32.subarray(s), ldb: d, beta: 0, c: g32.subarray(s * d + s), ldc: d });
      }
      be.gemm({ transA: true, transB: false, m: d, n: d, k: n, alpha: 1, a: x32, lda: d, b: d32, ldb: d, beta: 0, c: c32, ldc: d });
      const g = this.grams[p];
      const c = this.cross[p];
      for (let i = 0; i < d * d; i++) {
        g[i] += g32[i];
        c[i] += c32[i];
      }
    }
    this.count += n;
    this.seconds += (performance.now() - t0) / 1000;
  }

  /** Exact and robust scores of every pair, both variants. */
  scores(): { withResidual: number; withoutResidual: number; robust: number }[] {
    const d = this.d;
    const n = this.count;
    return Array.from({ length: this.pairs }, (_, p) => {
      const sum = this.sums[p];
      const cxx = centredProduct(symmetrizeUpper(this.grams[p].slice(), d), sum, sum, n, d);
      const cxd = centredProduct(this.cross[p], sum, this.sumDelta[p], n, d);
      let xx = 0;
      for (let i = 0; i < d; i++) xx += cxx[i * d + i];
      let md2 = 0;
      let my2 = 0;
      for (let j = 0; j < d; j++) {
        md2 += this.sumDelta[p][j] ** 2;
        my2 += (sum[j] + this.sumDelta[p][j]) ** 2;
      }
      const zero = new Float64Array(d);
      const stats: CentredPairStatistics = {
        tokens: n, dim: d, cxx, cxd, xx, dd: this.ssDelta[p] - md2 / n, yy: this.ssTarget[p] - my2 / n, meanX: zero, meanDelta: zero, meanY: zero,
      };
      const r = solvePairLinearity(stats);
      return { withResidual: r.withResidual.exact, withoutResidual: r.withoutResidual.exact, robust: r.withResidual.robust! };
    });
  }
}

async function gpt2SmallRun(): Promise<void> {
  console.log(`\n## Whole analysis: GPT-2-small shape (12 blocks, d = 768, random weights), ${TOKENS} tokens, batch ${BATCH} × ${SHAPE.seqLen}\n`);
  const t0 = performance.now();
  const config = { model_type: 'gpt2', n_embd: SHAPE.d, n_head: SHAPE.heads, n_layer: SHAPE.layers, vocab_size: SHAPE.vocab, n_positions: 1024 };
  const model = createModel(randomWeightSource(config, { seed: 0 }));
  const buildSeconds = (performance.now() - t0) / 1000;
  const sequences = randomTokenIds(TOKENS / SHAPE.seqLen, SHAPE.seqLen, SHAPE.vocab, 0);

  // The float32 experiment runs its own forwards (same batches), timed on its own.
  const experiment = new Float32Statistics(SHAPE.layers, SHAPE.d);
  let batchIndex = 0;
  const info = { spec: 'gpt2-small-random', label: 'gpt2-small-random', modelType: 'gpt2', layers: 12, hiddenSize: 768, vocabSize: SHAPE.vocab, parallelResidual: false, identity: null };
  const r: ModelLinearity = analyseModel(model, info, sequences, { ...DEFAULT_ANALYSIS, batchSize: BATCH });
  for (let i = 0; i < sequences.length; i += BATCH) {
    const ids = sequences.slice(i, i + BATCH);
    const out = model.forward(ids, { outputHiddenStates: true });
    const real = new Int32Array(ids.length * ids[0].length).map((_, k) => k); // no padding: equal lengths
    experiment.add(residualStates(out, 'preFinalNorm'), real);
    batchIndex++;
  }
  const forward = r.timings.forward;
  const statsFlops = statisticsFlops(r.tokens, SHAPE.layers);
  printTable(
    [
      { stage: 'build model', seconds: buildSeconds, share: '', detail: '124M random float32 weights' },
      { stage: 'forward', seconds: forward, share: pct(forward, r.timings.total), detail: `${gf(forwardFlops(sequences.length, SHAPE.seqLen), forward)} GFLOP/s (GEMM flops, no LM head), ${batchIndex} forwards` },
      { stage: 'statistics', seconds: r.timings.statistics, share: pct(r.timings.statistics, r.timings.total), detail: `float64: 12 Grams + 12 cross products, ${gf(statsFlops, r.timings.statistics)} GFLOP/s` },
      { stage: 'solve', seconds: r.timings.solve, share: pct(r.timings.solve, r.timings.total), detail: '12 pairs × 2 variants, exact (syevd) + robust (posv)' },
      { stage: 'total', seconds: r.timings.total, share: '100%', detail: `${backend().name}, ${backend().threads()} threads` },
    ],
    { precision: 2 },
  );

  console.log('\n## Float32 per-batch statistics vs float64 (same forwards)\n');
  const f32 = experiment.scores();
  let worst = 0;
  let worstRobust = 0;
  const rows = r.pairs.map((p, i) => {
    const dw = f32[i].withResidual - p.layer.withResidual.exact;
    const dn = f32[i].withoutResidual - p.layer.withoutResidual.exact;
    const dr = f32[i].robust - p.layer.withResidual.robust;
    worst = Math.max(worst, Math.abs(dw), Math.abs(dn));
    worstRobust = Math.max(worstRobust, Math.abs(dr));
    return { pair: `${p.from}→${p.to}`, 'float64 score': p.layer.withResidual.exact, 'Δ float32': dw, 'float64 w/o res.': p.layer.withoutResidual.exact, 'Δ float32 w/o res.': dn, 'Δ robust': dr };
  });
  printTable(rows, { precision: 6 });
  console.log(
    `\nfloat32 statistics: ${experiment.seconds.toFixed(2)} s (incl. shifting and float64 sums, ${gf(statsFlops, experiment.seconds)} GFLOP/s effective) ` +
      `vs float64 ${r.timings.statistics.toFixed(2)} s; largest |Δ score| exact ${worst.toExponential(2)}, robust ${worstRobust.toExponential(2)}`,
  );
}

async function storiesProfile(): Promise<void> {
  const data = join(import.meta.dirname, '..', '..', 'shared', 'data');
  const model = join(data, 'models', 'stories260K');
  const text = join(data, 'datasets', 'tinystories-valid-subset', 'tinystories_val.txt');
  if (!existsSync(model) || !existsSync(text)) {
    console.log('\n(stories260K profile skipped: shared data not found)');
    return;
  }
  const samples = quick ? 32 : DEFAULT_SAMPLING.samples;
  console.log(`\n## stories260K on TinyStories: ${samples} slices of 512 characters, seed 0, BOS, all companions\n`);
  const run = await runLinearity({
    models: [model],
    data: { kind: 'text', path: text },
    sampling: { ...DEFAULT_SAMPLING, samples },
    analysis: { ...DEFAULT_ANALYSIS, parts: true, anisotropy: true, intrinsicDim: true, logitLens: true },
    cache: { enabled: false },
  });
  console.log(formatRunTables(run));
  const t = run.models[0].timings;
  console.log(`timings: forward ${t.forward.toFixed(2)} s, statistics ${t.statistics.toFixed(2)} s, solve ${t.solve.toFixed(3)} s, ` +
    `intrinsic dim ${t.intrinsicDimension!.toFixed(2)} s, logit lens ${t.logitLens!.toFixed(2)} s, total ${t.total.toFixed(2)} s`);
}

function gf(flops: number, seconds: number): string {
  return (flops / seconds / 1e9).toFixed(1);
}

function pct(part: number, total: number): string {
  return `${((100 * part) / total).toFixed(0)}%`;
}

await gpt2SmallRun();
await storiesProfile();
