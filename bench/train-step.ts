/**
 * One full training step of a 2-layer MLP (512 → 2048 → 512, exact GELU, MSE loss, batch 256,
 * float32): forward, backward, AdamW update. Reports the median over 20 steps after warm-up, and
 * when run standalone the split into forward GEMMs / backward GEMMs / elementwise / optimiser and
 * the CPU time per step (comparable on a loaded machine, where wall time is not).
 *
 *   node --import tsx bench/train-step.ts
 */
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { backward } from '../src/autograd/graph.ts';
import { gelu } from '../src/autograd/ops/activations.ts';
import { linear } from '../src/autograd/ops/linalg.ts';
import { mse } from '../src/autograd/ops/losses.ts';
import { AdamW } from '../src/autograd/optim/adam.ts';
import { isNotMatrix } from '../src/autograd/optim/optimizer.ts';
import { constant, param, type Var } from '../src/autograd/var.ts';
import { backend, withBackend, type Backend } from '../src/backend/index.ts';
import { printTable } from '../src/report/table.ts';
import { Rng } from '../src/tensor/random.ts';
import { Tensor } from '../src/tensor/tensor.ts';

const [BATCH, IN, HIDDEN, OUT] = [256, 512, 2048, 512];
const WARMUP = 5;
const STEPS = 20;

/** Milliseconds spent in each part of one step. */
interface StepTimes {
  total: number;
  /** Process CPU time (user + system) of the step: the work done, whatever else the machine runs. */
  cpu: number;
  forward: number;
  forwardGemm: number;
  backward: number;
  backwardGemm: number;
  optimiser: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The active backend with its GEMM calls timed into `sink.ms`. */
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

function buildModel(rng: Rng) {
  const w1 = param(rng.randn([HIDDEN, IN], 1 / Math.sqrt(IN)), 'fc1.weight');
  const b1 = param(Tensor.zeros([HIDDEN]), 'fc1.bias');
  const w2 = param(rng.randn([OUT, HIDDEN], 1 / Math.sqrt(HIDDEN)), 'fc2.weight');
  const b2 = param(Tensor.zeros([OUT]), 'fc2.bias');
  const x = constant(rng.randn([BATCH, IN]));
  const y = constant(rng.randn([BATCH, OUT]));
  const params = [w1, b1, w2, b2];
  const forward = (): Var => mse(linear(gelu(linear(x, w1, b1)), w2, b2), y);
  return { params, forward };
}

/** Runs warm-up plus STEPS timed steps; returns per-step timings and the losses seen. */
function runSteps(): { steps: StepTimes[]; losses: number[] } {
  const rng = new Rng(1234);
  const { params, forward } = buildModel(rng);
  const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.01, noDecay: isNotMatrix });
  const gemm = { ms: 0 };
  const steps: StepTimes[] = [];
  const losses: number[] = [];
  withBackend(timedBackend(backend(), gemm), () => {
    for (let i = 0; i < WARMUP + STEPS; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      opt.zeroGrad();
      gemm.ms = 0;
      const loss = forward();
      const t1 = performance.now();
      const forwardGemm = gemm.ms;
      gemm.ms = 0;
      backward(loss);
      const t2 = performance.now();
      const backwardGemm = gemm.ms;
      opt.step();
      const t3 = performance.now();
      const c = process.cpuUsage(c0);
      losses.push(loss.item());
      if (i >= WARMUP) {
        steps.push({ total: t3 - t0, cpu: (c.user + c.system) / 1000, forward: t1 - t0, forwardGemm, backward: t2 - t1, backwardGemm, optimiser: t3 - t2 });
      }
    }
  });
  return { steps, losses };
}

const LABEL = `train step: MLP ${IN}→${HIDDEN}→${OUT} GELU, MSE, batch ${BATCH}, float32, AdamW`;

/** Median wall time of one training step (forward + backward + AdamW) on the active backend. */
export async function benchTrainStep(): Promise<{ ms: number; label: string }> {
  const { steps } = runSteps();
  return { ms: median(steps.map((s) => s.total)), label: `${LABEL} (${backend().name}, ${backend().threads()} threads)` };
}

function main(): void {
  const { steps, losses } = runSteps();
  const med = (f: (s: StepTimes) => number) => median(steps.map(f));
  const total = med((s) => s.total);
  const parts = [
    { part: 'forward GEMMs', ms: med((s) => s.forwardGemm) },
    { part: 'backward GEMMs', ms: med((s) => s.backwardGemm) },
    { part: 'elementwise (fwd + bwd)', ms: med((s) => s.forward - s.forwardGemm + s.backward - s.backwardGemm) },
    { part: 'optimiser (AdamW)', ms: med((s) => s.optimiser) },
  ];
  console.log(`${LABEL}\nbackend ${backend().name}, ${backend().threads()} threads; median of ${STEPS} steps after ${WARMUP} warm-up\n`);
  printTable([...parts.map((p) => ({ ...p, share: p.ms / total })), { part: 'total step', ms: total, share: 1 }], {
    columns: ['part', { key: 'ms', precision: 2 }, { key: 'share', precision: 2, format: (v) => `${((v as number) * 100).toFixed(0)}%` }],
  });
  console.log(`\nmedian CPU time ${med((s) => s.cpu).toFixed(2)} ms per step (user + system; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`);
  console.log(`loss ${losses[0].toFixed(4)} → ${losses[losses.length - 1].toFixed(4)}; min ${Math.min(...steps.map((s) => s.total)).toFixed(2)} ms, max ${Math.max(...steps.map((s) => s.total)).toFixed(2)} ms`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
