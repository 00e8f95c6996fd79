/**
 * The non-GEMM kernels, TypeScript vs C (native/kernels.c), at GPT-2-small sizes on 1024 tokens
 * (d = 768, MLP 3072, fused QKV 2304, 12 heads; softmax over 12 × 1024 score rows of 1024), C at 1
 * and 2 threads. Then the whole GPT-2-small-shape forward (bench/forward.ts's model, random
 * weights) with the TypeScript and with the C kernels at 1 and 2 BLAS threads. The training kernels
 * (forward + backward) run at the 5M pretraining config's sizes: 16 × 256 = 4096 tokens, d = 256,
 * MLP 688, vocabulary 4096. All variants run
 * interleaved in one process (round-robin, medians), so machine load hits them alike.
 *
 *   node --import tsx bench/kernels.ts            # kernels, then the forward A/B
 *   node --import tsx bench/kernels.ts --kernels  # kernels only (--forward: the forward A/B only)
 *   LINSCOPE_THREADS=1 node --import tsx --cpu-prof bench/kernels.ts --profile   # one warm forward, to profile
 *     (LINSCOPE_NATIVE_KERNELS=0 for the TypeScript kernels)
 */
import { loadavg } from 'node:os';
import { backward, gelu, param, rmsNorm as rmsNormOp } from '../src/autograd/index.ts';
import { crossEntropyMean, swiGlu } from '../src/autograd/ops/fused.ts';
import { backend } from '../src/backend/index.ts';
import { printTable } from '../src/report/table.ts';
import { activate, addBiasActivateInPlace, siluMul } from '../src/tensor/activations.ts';
import { add } from '../src/tensor/elementwise.ts';
import { addRowVectorInPlace } from '../src/tensor/matmul.ts';
import { nativeKernels, nativeKernelsStatus, withNativeKernels } from '../src/tensor/native-kernels.ts';
import { layerNorm, rmsNorm, softmaxRowsInPlace } from '../src/tensor/norms.ts';
import { Rng } from '../src/tensor/random.ts';
import { applyRope, ropeInverseFrequencies } from '../src/tensor/rope.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { buildGpt2Small } from './forward.ts';

const T = 1024, D = 768, F = 3072, H = 12;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function randn(rows: number, n: number, seed: number): Tensor {
  return new Rng(seed).randn([rows, n]);
}

interface Variant {
  label: string;
  native: boolean;
  threads: number;
}

const VARIANTS: Variant[] = [
  { label: 'TS', native: false, threads: 1 },
  { label: 'C 1t', native: true, threads: 1 },
  { label: 'C 2t', native: true, threads: 2 },
];

/**
 * Median wall ms and median process CPU ms of each variant over `reps` round-robin rounds (`fn`
 * called `inner` times per timing). CPU time is what a loaded machine does not inflate: at one
 * thread it is the work itself (at two it includes the threads' waiting).
 */
function timeVariants(variants: Variant[], fn: () => void, reps: number, inner = 1): Array<{ wall: number; cpu: number }> {
  const be = backend();
  const wall: number[][] = variants.map(() => []);
  const cpu: number[][] = variants.map(() => []);
  for (let r = 0; r < reps + 1; r++) {
    variants.forEach((v, i) => {
      be.setThreads(v.threads);
      withNativeKernels(v.native, () => {
        const c = process.cpuUsage();
        const t = performance.now();
        for (let k = 0; k < inner; k++) fn();
        const w = performance.now() - t;
        const used = process.cpuUsage(c);
        if (r > 0) { // round 0 warms up
          wall[i].push(w / inner);
          cpu[i].push((used.user + used.system) / 1e3 / inner);
        }
      });
    });
  }
  return variants.map((_, i) => ({ wall: median(wall[i]), cpu: median(cpu[i]) }));
}

function kernelTable(): void {
  const x = randn(T, D, 1), y = randn(T, D, 2), w = randn(1, D, 3).reshape(D), b = randn(1, D, 4).reshape(D);
  const fc = randn(T, F, 5), up = randn(T, F, 6), bF = randn(1, F, 7).reshape(F);
  const qkv = randn(T, 3 * D, 8), bQkv = randn(1, 3 * D, 9).reshape(3 * D);
  const scores = randn(H * T, T, 10);
  const scoresOut = new Float32Array(scores.size);
  const q = randn(T, D, 11);
  const invFreq = ropeInverseFrequencies(64, 10000);
  const positions = Array.from({ length: T }, (_, i) => i);
  // in-place kernels work on copies (repeating them drifts the values a little, which costs nothing)
  const work = fc.clone(), workQkv = qkv.clone(), workQ = q.clone();
  const cases: Array<[string, () => void]> = [
    ['layerNorm (w, b) 1024×768', () => layerNorm(x, w, b, 1e-5)],
    ['rmsNorm 1024×768', () => rmsNorm(x, w, 1e-6)],
    ['residual add 1024×768', () => add(x, y)],
    ['bias add 1024×2304 (QKV)', () => addRowVectorInPlace(workQkv, bQkv)],
    ['GELU-tanh 1024×3072', () => activate(fc, 'gelu_new', work)],
    ['bias + GELU-tanh 1024×3072 (fused)', () => addBiasActivateInPlace(work, bF, 'gelu_new')],
    ['GELU-erf 1024×3072', () => activate(fc, 'gelu', work)],
    ['SiLU 1024×3072', () => activate(fc, 'silu', work)],
    ['SwiGLU silu(g)·u 1024×3072', () => siluMul(fc, up)],
    ['row softmax 12·1024×1024', () => softmaxRowsInPlace(scoresOut, scores.data, T)],
    ['RoPE rotate-half 1024×12×64', () => applyRope(workQ, { numHeads: H, headDim: 64, rotaryDim: 64, invFreq, style: 'half', positions })],
    ...trainingCases(),
  ];
  const rows = cases.map(([kernel, fn]) => {
    const [ts, c1, c2] = timeVariants(VARIANTS, fn, 9, 3);
    return { kernel, ts: ts.wall, c1: c1.wall, c2: c2.wall, x1: ts.wall / c1.wall, x2: ts.wall / c2.wall, tsCpu: ts.cpu, c1Cpu: c1.cpu, xCpu: ts.cpu / c1.cpu };
  });
  printTable(rows, {
    columns: ['kernel', { key: 'ts', header: 'TS ms', precision: 2 }, { key: 'c1', header: 'C 1t ms', precision: 2 }, { key: 'c2', header: 'C 2t ms', precision: 2 },
      { key: 'x1', header: 'TS/C 1t', precision: 1 }, { key: 'x2', header: 'TS/C 2t', precision: 1 },
      { key: 'tsCpu', header: 'TS CPU ms', precision: 2 }, { key: 'c1Cpu', header: 'C 1t CPU ms', precision: 2 }, { key: 'xCpu', header: 'CPU TS/C 1t', precision: 1 }],
  });
}

/** Forward + backward of the training kernels at the 5M config's sizes (fresh parameters per call). */
function trainingCases(): Array<[string, () => void]> {
  const N = 4096, d = 256, f = 688, V = 4096;
  const g = randn(N, f, 21), u = randn(N, f, 22), x = randn(N, d, 23), w = randn(1, d, 24).reshape(d), logits = randn(N, V, 25);
  const targets = Array.from({ length: N }, (_, i) => (i * 7919) % V);
  const ones = (t: Tensor) => { const o = t.clone(); o.data.fill(1); return o; };
  const gOnes = ones(g), xOnes = ones(x);
  return [
    ['train: SwiGLU fwd+bwd 4096×688', () => backward(swiGlu(param(g), param(u)), gOnes)],
    ['train: RMSNorm fwd+bwd 4096×256', () => backward(rmsNormOp(param(x), param(w), 1e-6), xOnes)],
    ['train: cross-entropy fwd+bwd 4096×4096', () => backward(crossEntropyMean(param(logits), targets))],
    ['train: GELU-tanh fwd+bwd 4096×688', () => backward(gelu(param(g), 'tanh'), gOnes)],
  ];
}

function forwardTable(): void {
  const model = buildGpt2Small();
  const rng = new Rng(7);
  const ids = [Array.from({ length: T }, () => rng.int(50257))];
  const variants: Variant[] = [
    { label: 'TS kernels, 1 thread', native: false, threads: 1 },
    { label: 'C kernels, 1 thread', native: true, threads: 1 },
    { label: 'TS kernels, 2 threads', native: false, threads: 2 },
    { label: 'C kernels, 2 threads', native: true, threads: 2 },
  ];
  const reps = Number(process.env.FORWARD_REPS ?? 5);
  const t = timeVariants(variants, () => model.forward(ids), reps);
  printTable(variants.map((v, i) => ({
    variant: v.label, ms: t[i].wall, speedup: i % 2 ? t[i - 1].wall / t[i].wall : 1, cpu: t[i].cpu, cpuSpeedup: i % 2 ? t[i - 1].cpu / t[i].cpu : 1,
  })), {
    columns: ['variant', { key: 'ms', header: 'wall ms (median)', precision: 0 }, { key: 'speedup', header: 'wall TS/C', precision: 2 },
      { key: 'cpu', header: 'CPU ms (median)', precision: 0 }, { key: 'cpuSpeedup', header: 'CPU TS/C', precision: 2 }],
  });
}

/** One forward after a warm-up, at the current settings (for `node --cpu-prof`). */
function profileForward(): void {
  const model = buildGpt2Small();
  const rng = new Rng(7);
  const ids = [Array.from({ length: T }, () => rng.int(50257))];
  model.forward(ids);
  const c = process.cpuUsage();
  const t = performance.now();
  model.forward(ids);
  const used = process.cpuUsage(c);
  console.log(`one forward: ${(performance.now() - t).toFixed(0)} ms wall, ${((used.user + used.system) / 1e3).toFixed(0)} ms CPU`);
}

const only = (flag: string) => process.argv.includes(flag);
console.log(`kernels: ${nativeKernelsStatus()}; BLAS ${backend().name} (${backend().threads()} threads); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (only('--profile')) profileForward();
else {
  if (!nativeKernels()) console.log('(no native kernels: the C columns repeat the TypeScript kernels)');
  if (!only('--forward')) {
    console.log(`\nnon-GEMM kernels at GPT-2-small sizes, ${T} tokens, float32, median of 9 interleaved rounds of 3 calls\n`);
    kernelTable();
  }
  if (!only('--kernels')) {
    console.log(`\nGPT-2-small-shape forward (12 × d768, vocab 50257), 1 × ${T} tokens, float32, median of ${process.env.FORWARD_REPS ?? 5} interleaved rounds\n`);
    forwardTable();
  }
}
console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
