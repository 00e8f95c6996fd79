/**
 * Forward throughput of a GPT-2-small-shaped decoder (random weights built in memory: 12 layers,
 * d = 768, 12 heads, vocab 50257) on one 1024-token sequence, float32. Reports tokens/s and the
 * achieved GFLOP/s (FLOPs of every GEMM: projections, QKᵀ and PV over all T² scores, MLP, LM
 * head) against a GEMM peak measured in the same run (our sgemm at 2048³). When run standalone it
 * also splits the time into GEMM and the non-GEMM kernels (softmax and masking, norms, GELU, …).
 *
 *   node --import tsx bench/forward.ts
 */
import { pathToFileURL } from 'node:url';
import { backend, withBackend, type Backend } from '../src/backend/index.ts';
import { createModel, type DecoderModel } from '../src/models/decoder.ts';
import { randomWeightSource } from '../src/models/random-weights.ts';
import { printTable } from '../src/report/table.ts';
import { activate } from '../src/tensor/activations.ts';
import { addInPlace } from '../src/tensor/elementwise.ts';
import { attention } from '../src/tensor/attention.ts';
import { addRowVectorInPlace } from '../src/tensor/matmul.ts';
import { layerNorm } from '../src/tensor/norms.ts';
import { Rng } from '../src/tensor/random.ts';
import { Tensor } from '../src/tensor/tensor.ts';

const SHAPE = { layers: 12, d: 768, heads: 12, vocab: 50257, tokens: 1024 };
const RUNS = 3;

export interface ForwardBenchResult {
  label: string;
  /** Median wall time of one forward, ms. */
  ms: number;
  tokensPerSecond: number;
  gflopPerForward: number;
  gflops: number;
  /** sgemm 2048³ in the same run. */
  peakGflops: number;
  /** Share of the forward spent inside GEMM calls. */
  gemmShare: number;
  gemmMs: number;
  /** Process CPU time (user + system) per forward, ms: ≈ threads × ms on an otherwise idle machine. */
  cpuMs: number;
}

/** GEMM FLOPs of one forward (2 per multiply-add). */
export function forwardFlops(s = SHAPE): number {
  const { layers: L, d: D, vocab: V, tokens: T } = s;
  const F = 4 * D;
  const perLayer = 2 * T * D * 3 * D + 2 * T * T * D * 2 + 2 * T * D * D + 2 * 2 * T * D * F;
  return L * perLayer + 2 * T * D * V;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function timedBackend(inner: Backend, sink: { ms: number }): Backend {
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'gemm') {
        return (args: Parameters<Backend['gemm']>[0]) => {
          const t = performance.now();
          target.gemm(args);
          sink.ms += performance.now() - t;
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** GFLOP/s of one float32 GEMM C = A·B at n×n×n (best of 3). */
export function gemmPeak(n = 2048): number {
  const rng = new Rng(1);
  const a = rng.rand([n, n], -1, 1);
  const b = rng.rand([n, n], -1, 1);
  const c = new Float32Array(n * n);
  const be = backend();
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    be.gemm({ transA: false, transB: false, m: n, n, k: n, alpha: 1, a: a.data, lda: n, b: b.data, ldb: n, beta: 0, c, ldc: n });
    best = Math.min(best, performance.now() - t);
  }
  return (2 * n * n * n) / (best / 1e3) / 1e9;
}

export function buildGpt2Small(seed = 0): DecoderModel {
  return createModel(randomWeightSource({
    model_type: 'gpt2', n_embd: SHAPE.d, n_head: SHAPE.heads, n_layer: SHAPE.layers, vocab_size: SHAPE.vocab, n_positions: SHAPE.tokens,
  }, { seed, std: 0.02, uniform: true }));
}

function tokens(): number[][] {
  const rng = new Rng(7);
  return [Array.from({ length: SHAPE.tokens }, () => rng.int(SHAPE.vocab))];
}

/** Forward throughput of GPT-2 small on 1024 tokens, with the GEMM peak of the same machine. */
export async function benchForward(model: DecoderModel = buildGpt2Small()): Promise<ForwardBenchResult> {
  let peakGflops = gemmPeak();
  const ids = tokens();
  const gemm = { ms: 0 };
  const totals: number[] = [];
  const gemms: number[] = [];
  const cpus: number[] = [];
  withBackend(timedBackend(backend(), gemm), () => {
    model.forward(ids); // warm-up
    for (let i = 0; i < RUNS; i++) {
      gemm.ms = 0;
      const cpu = process.cpuUsage();
      const t = performance.now();
      model.forward(ids);
      totals.push(performance.now() - t);
      const used = process.cpuUsage(cpu);
      cpus.push((used.user + used.system) / 1e3);
      gemms.push(gemm.ms);
    }
  });
  peakGflops = Math.max(peakGflops, gemmPeak()); // the machine may be shared: keep the better peak
  const ms = median(totals);
  const gemmMs = median(gemms);
  const flops = forwardFlops();
  return {
    label: `forward: GPT-2 small shape (12 × d768, vocab 50257), 1 × 1024 tokens, float32 (${backend().name}, ${backend().threads()} threads)`,
    ms,
    tokensPerSecond: SHAPE.tokens / (ms / 1e3),
    gflopPerForward: flops / 1e9,
    gflops: flops / (ms / 1e3) / 1e9,
    peakGflops,
    gemmShare: gemmMs / ms,
    gemmMs,
    cpuMs: median(cpus),
  };
}

/** Time of the main non-GEMM kernels at this model's shapes, per forward (each measured in isolation). */
function nonGemmBreakdown(): Array<{ part: string; ms: number }> {
  const { layers: L, d: D, heads: H, tokens: T } = SHAPE;
  const rng = new Rng(3);
  const time = (fn: () => void, reps = 3) => {
    fn();
    let best = Infinity;
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      fn();
      best = Math.min(best, performance.now() - t);
    }
    return best;
  };
  const x = rng.randn([T, D]);
  const w = Tensor.full([D], 1);
  const h = rng.randn([T, 4 * D]);
  const [q, k, v] = [0, 1, 2].map(() => rng.randn([1, T, D], 0.1));
  // attention minus its own GEMMs = masking + softmax over the visible (causal) keys; best of 4
  const gemm = { ms: 0 };
  let attentionNonGemm = Infinity;
  withBackend(timedBackend(backend(), gemm), () => {
    for (let i = 0; i < 4; i++) {
      gemm.ms = 0;
      const t = performance.now();
      attention(q, k, v, { numHeads: H, numKvHeads: H, headDim: D / H, scale: 0.125 });
      attentionNonGemm = Math.min(attentionNonGemm, performance.now() - t - gemm.ms);
    }
  });
  const biasTargets = [rng.randn([T, 3 * D]), rng.randn([T, D]), rng.randn([T, 4 * D]), rng.randn([T, D])];
  return [
    { part: 'attention masking + softmax (causal)', ms: attentionNonGemm * L },
    { part: 'GELU (tanh)', ms: time(() => activate(h, 'gelu_new')) * L },
    { part: 'layer norms (2 per block + final)', ms: time(() => layerNorm(x, w, w, 1e-5)) * (2 * L + 1) },
    { part: 'bias adds', ms: time(() => biasTargets.forEach((t) => addRowVectorInPlace(t, Tensor.zeros([t.dim(-1)])))) * L },
    { part: 'residual adds', ms: time(() => addInPlace(x.clone(), x)) * 2 * L },
  ];
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const model = buildGpt2Small();
  console.log(`built random GPT-2 small in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  const r = await benchForward(model);
  console.log(`${r.label}\nmedian of ${RUNS} runs after a warm-up\n`);
  printTable([
    { metric: 'forward time', value: `${r.ms.toFixed(0)} ms` },
    { metric: 'process CPU time', value: `${r.cpuMs.toFixed(0)} ms (${(r.cpuMs / r.ms).toFixed(2)} cores busy)` },
    { metric: 'throughput', value: `${r.tokensPerSecond.toFixed(0)} tokens/s` },
    { metric: 'GEMM FLOPs per forward', value: `${r.gflopPerForward.toFixed(1)} GFLOP` },
    { metric: 'achieved', value: `${r.gflops.toFixed(1)} GFLOP/s` },
    { metric: 'sgemm 2048³ peak', value: `${r.peakGflops.toFixed(1)} GFLOP/s` },
    { metric: 'achieved / peak', value: `${((r.gflops / r.peakGflops) * 100).toFixed(0)}%` },
  ], { columns: ['metric', 'value'] });
  console.log('\nwhere the time goes (GEMM measured inside the forward; other kernels timed alone at the same shapes)\n');
  const parts = [{ part: 'GEMM (all matmuls incl. attention, LM head)', ms: r.gemmMs }, ...nonGemmBreakdown()];
  const known = parts.reduce((s, p) => s + p.ms, 0);
  parts.push({ part: 'other (q/k/v splits, embedding, copies, allocation)', ms: Math.max(0, r.ms - known) });
  printTable([...parts.map((p) => ({ ...p, share: p.ms / r.ms })), { part: 'total forward', ms: r.ms, share: 1 }], {
    columns: ['part', { key: 'ms', precision: 1 }, { key: 'share', precision: 2, format: (v) => `${((v as number) * 100).toFixed(0)}%` }],
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
