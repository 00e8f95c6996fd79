/**
 * Linearity statistics benchmark: accumulate and solve the linearity profile of a 12-block,
 * d = 768 residual stream (GPT-2 small's shape) over 16,384 tokens of random hidden states, fed in
 * forwards of 512 tokens. Reports the statistics pass (float64 GEMMs into XᵀX / XᵀD) and the solve
 * (eigendecompositions, pseudo-inverse and ridge scores) separately; the model forward's own time is
 * added by the CLI benchmark.
 *
 * Run: node --import tsx -e "import('./bench/linearity.ts').then((m) => m.benchLinearityStats())"
 */
import { LinearityProfileAccumulator } from '../src/analysis/linearity-profile.ts';
import { gramFlops } from '../src/analysis/moments.ts';
import { backend } from '../src/backend/index.ts';
import { printTable } from '../src/report/table.ts';
import { Rng } from '../src/tensor/random.ts';
import { Tensor } from '../src/tensor/tensor.ts';

export interface LinearityBenchResult {
  backend: string;
  threads: number;
  blocks: number;
  dim: number;
  tokens: number;
  /** Seconds to accumulate all statistics. */
  statisticsSeconds: number;
  /** Seconds to solve every pair (both variants, exact and robust) and the anisotropies. */
  solveSeconds: number;
  /** GEMM throughput of the statistics pass. */
  statisticsGflops: number;
  /** A sample score, to show the run did real work. */
  firstBlockScore: number;
}

/** A random residual stream: h_{i+1} = h_i + update, with a few large common features. */
function randomForward(rng: Rng, tokens: number, dim: number, blocks: number): Tensor[] {
  const states = [rng.randn([tokens, dim], 1)];
  for (let r = 0; r < tokens; r++) states[0].data[r * dim] += 20;
  for (let b = 0; b < blocks; b++) {
    const next = rng.randn([tokens, dim], 0.3);
    const prev = states[b].data;
    for (let i = 0; i < next.size; i++) next.data[i] += prev[i];
    states.push(next);
  }
  return states;
}

export async function benchLinearityStats(options: { tokens?: number; dim?: number; blocks?: number; batchTokens?: number; print?: boolean } = {}): Promise<LinearityBenchResult> {
  const tokens = options.tokens ?? 16384;
  const dim = options.dim ?? 768;
  const blocks = options.blocks ?? 12;
  const batchTokens = options.batchTokens ?? 512;
  const rng = new Rng(0);
  // a few distinct forwards, cycled: the cost of the statistics does not depend on the values
  const pool = Array.from({ length: 4 }, () => randomForward(rng, batchTokens, dim, blocks));
  const profile = new LinearityProfileAccumulator({ dim, blocks });
  const batches = Math.ceil(tokens / batchTokens);
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const states = pool[b % pool.length];
    const rows = Math.min(batchTokens, tokens - b * batchTokens);
    profile.add({ states: rows === batchTokens ? states : states.map((s) => s.slice0(0, rows)) });
  }
  const t1 = performance.now();
  const result = profile.result();
  const t2 = performance.now();
  // Gram of every state (blocks + 1, block upper triangle only) and one cross product per block
  const flops = (blocks + 1) * gramFlops(tokens, dim) + blocks * 2 * tokens * dim * dim;
  const out: LinearityBenchResult = {
    backend: backend().name,
    threads: backend().threads(),
    blocks,
    dim,
    tokens,
    statisticsSeconds: (t1 - t0) / 1000,
    solveSeconds: (t2 - t1) / 1000,
    statisticsGflops: flops / ((t1 - t0) / 1000) / 1e9,
    firstBlockScore: result.blocks[0].layer.withResidual.exact,
  };
  if (options.print ?? true) {
    printTable(
      [
        { stage: 'statistics', seconds: out.statisticsSeconds, detail: `${blocks + 1} Grams + ${blocks} cross products, float64, ${tokens}×${dim}: ${out.statisticsGflops.toFixed(1)} GFLOP/s` },
        { stage: 'solve', seconds: out.solveSeconds, detail: `${blocks} pairs × 2 variants, exact (syevd) + robust (posv); ${blocks + 1} anisotropies` },
        { stage: 'total', seconds: out.statisticsSeconds + out.solveSeconds, detail: `${out.backend}, ${out.threads} threads` },
      ],
      { precision: 2 },
    );
  }
  return out;
}
