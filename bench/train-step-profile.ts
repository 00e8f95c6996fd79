/**
 * Where one training step of the 5M config (configs/pretrain-5m.yaml: 8 × 256 tokens, AdamW, the
 * peer job's inputs from bench/peers/make-inputs.ts) spends its time: forward, backward split by op
 * (each recorded node's backward step timed), gradient clipping and the AdamW step. CPU time of the
 * process (user + system), so the split stays comparable on a loaded machine; medians over steps.
 * With CLOCK=wall, elapsed time instead: at 2 threads CPU time also counts an idle OpenBLAS thread's
 * spinning beside single-threaded work, so only elapsed time says what a parallel op costs.
 *
 * The backward runs with recycled values, as the trainer's (src/train/train-step.ts).
 *
 *   node --import tsx bench/train-step-profile.ts [dir] [steps]     (SHAPES=1: also GEMM time per shape; CLOCK=wall)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backward, clipGradNorm, isNotMatrix, type Var } from '../src/autograd/index.ts';
import { CheckpointableAdamW } from '../src/autograd/optim/adam.ts';
import { crossEntropyMean } from '../src/autograd/ops/fused.ts';
import { backend, withBackend, type Backend } from '../src/backend/index.ts';
import { openModelSource } from '../src/io/model-source.ts';
import { nativeKernelsStatus } from '../src/tensor/native-kernels.ts';
import { tapeOps } from '../src/models/tape-ops.ts';
import { TrainableModel } from '../src/train/trainable-model.ts';
import { DEFAULT_DIR, makeInputs, peerTrainBatch, type PeerInputs } from './peers/make-inputs.ts';

const [dir = DEFAULT_DIR, stepsArg = '5'] = process.argv.slice(2);
makeInputs(dir);
const inputs = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as PeerInputs;
const model = TrainableModel.fromSource(await openModelSource(join(dir, 'p5m')));
const t = inputs.train;
const { inputs: inp, targets: tgt } = peerTrainBatch(t);
const c = inputs.trainConfig;
const opt = new CheckpointableAdamW(model.params.values(), { lr: c.lr, betas: c.betas, eps: c.eps, weightDecay: c.weightDecay, noDecay: isNotMatrix });
const wallClock = process.env.CLOCK === 'wall';
const clockName = wallClock ? 'elapsed' : 'CPU';
const clock = wallClock ? () => performance.now() : () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Wraps every recorded node's backward step reachable from `loss` with a timer per op name (CPU or elapsed time, CLOCK). */
function timeBackwardSteps(loss: Var, sink: Map<string, number>): void {
  const seen = new Set<Var>();
  const stack = [loss];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v) || !v.node) continue;
    seen.add(v);
    const node = v.node;
    const inner = node.backward;
    v.node = {
      ...node,
      backward: (g, owned) => {
        const t0 = clock();
        inner(g, owned);
        sink.set(node.op, (sink.get(node.op) ?? 0) + clock() - t0);
      },
    };
    stack.push(...node.inputs);
  }
}

/** GEMM calls timed (ms) and counted (FLOPs), per phase and per shape (all steps). */
const shapes = new Map<string, { ms: number; flops: number; calls: number }>();
const gemm = { ms: 0, flops: 0 };
const timed: Backend = new Proxy(backend(), {
  get(target, key, receiver) {
    if (key === 'gemm') {
      return (a: Parameters<Backend['gemm']>[0]) => {
        const t0 = clock();
        target.gemm(a);
        const ms = clock() - t0;
        gemm.ms += ms;
        gemm.flops += 2 * a.m * a.n * a.k;
        const key = `${a.m}×${a.n}×${a.k}${a.transA ? ' Aᵀ' : ''}${a.transB ? ' Bᵀ' : ''}`;
        const s = shapes.get(key) ?? shapes.set(key, { ms: 0, flops: 0, calls: 0 }).get(key)!;
        s.ms += ms;
        s.flops += 2 * a.m * a.n * a.k;
        s.calls++;
      };
    }
    const value = Reflect.get(target, key, receiver);
    return typeof value === 'function' ? value.bind(target) : value;
  },
});

/** The tape ops (src/models/tape-ops.ts) timed per op, ms into `forwardOps` (nested ops count in both). */
const forwardOps = new Map<string, number>();
const opsTable = tapeOps as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(opsTable)) {
  if (typeof fn !== 'function' || name === 'shape') continue;
  opsTable[name] = (...args: unknown[]) => {
    const t0 = clock();
    const r = (fn as (...a: unknown[]) => unknown)(...args);
    forwardOps.set(name, (forwardOps.get(name) ?? 0) + clock() - t0);
    return r;
  };
}

const steps = Number(stepsArg);
const rows = new Map<string, number[]>();
const push = (k: string, ms: number) => (rows.get(k) ?? rows.set(k, []).get(k)!).push(ms);
withBackend(timed, () => { for (let s = 0; s <= steps; s++) {
  const w0 = performance.now();
  const t0 = clock();
  opt.zeroGrad();
  gemm.ms = 0;
  gemm.flops = 0;
  forwardOps.clear();
  const out = model.forward(inp, t.batch, t.seqLen);
  const tCe = clock();
  const loss = crossEntropyMean(out.logits, tgt, -100);
  const t1 = clock();
  forwardOps.set('crossEntropyMean', t1 - tCe);
  const fwdGemm = { ...gemm };
  gemm.ms = 0;
  gemm.flops = 0;
  const ops = new Map<string, number>();
  timeBackwardSteps(loss, ops);
  backward(loss, undefined, { recycleValues: true }); // as src/train/train-step.ts
  const t2 = clock();
  const bwdGemm = { ...gemm };
  clipGradNorm(opt.params, c.gradClip);
  const t3 = clock();
  opt.step();
  const t4 = clock();
  const wall = performance.now() - w0;
  if (s === 0) continue; // warm-up
  push('forward', t1 - t0);
  push('  forward GEMMs', fwdGemm.ms);
  push('  forward GEMM GFLOP', fwdGemm.flops / 1e9);
  for (const [op, ms] of forwardOps) push(`  forward ${op}`, ms);
  push('backward', t2 - t1);
  push('  backward GEMMs', bwdGemm.ms);
  push('  backward GEMM GFLOP', bwdGemm.flops / 1e9);
  for (const [op, ms] of ops) push(`  backward ${op}`, ms);
  push('clip', t3 - t2);
  push('AdamW', t4 - t3);
  push(`total ${clockName}`, t4 - t0);
  push('total wall', wall);
} });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`5M training step, ${backend().threads()} thread(s), kernels: ${nativeKernelsStatus()}; median ${clockName} ms over ${steps} steps`);
for (const [k, xs] of rows) console.log(`${k.padEnd(34)} ${median(xs).toFixed(1).padStart(8)}`);
if (process.env.SHAPES) {
  console.log(`\nGEMM shapes (m×n×k), all steps incl. warm-up: calls, ${clockName} ms, GFLOP/s`);
  for (const [k, v] of [...shapes].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) console.log(`${k.padEnd(28)} ${String(v.calls).padStart(6)} ${v.ms.toFixed(1).padStart(9)} ${(v.flops / v.ms / 1e6).toFixed(1).padStart(7)}`);
}
