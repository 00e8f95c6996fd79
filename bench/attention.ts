/**
 * Attention alone on GPT-2 small's shape (1 × 1024 tokens, 12 heads × Dh 64, causal, float32): the
 * inference forward and the training forward + backward (the autograd op), median wall and CPU time.
 *
 *   node --expose-gc --import tsx bench/attention.ts [--baseline DIR] [--grid] [--threads N] [--runs N] [--tokens T]
 *
 * --baseline DIR also times the kernels of another linscope checkout (e.g. a `git worktree` of the
 * commit before), interleaved run by run with this one, on the same inputs, and checks both agree.
 * --grid times both for a grid of tile shapes (query rows × keys) instead.
 */
import { execSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { backend } from '../src/backend/index.ts';
import { backward } from '../src/autograd/graph.ts';
import { sum } from '../src/autograd/ops/arith.ts';
import { param } from '../src/autograd/var.ts';
import { Rng } from '../src/tensor/random.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' }, grid: { type: 'boolean' }, threads: { type: 'string' },
    runs: { type: 'string', default: '7' }, tokens: { type: 'string', default: '1024' },
  },
});
const [H, Dh] = [12, 64];
const T = Number(args.tokens);
const RUNS = Number(args.runs);
if (args.threads) backend().setThreads(Number(args.threads));

type Forward = (q: Tensor, k: Tensor, v: Tensor, o: Record<string, unknown>) => { out: Tensor };
type Op = (q: ReturnType<typeof param>, k: ReturnType<typeof param>, v: ReturnType<typeof param>, o: Record<string, unknown>) => ReturnType<typeof param>;
interface Impl { name: string; forward: Forward; op: Op }

async function load(dir: string, name: string): Promise<Impl> {
  const fwd = await import(resolve(dir, 'src/tensor/attention.ts'));
  const op = await import(resolve(dir, 'src/autograd/ops/attention.ts'));
  return { name, forward: fwd.attention, op: op.attention };
}

/** Wall and process CPU time of fn, after a full collection (run node with --expose-gc) so that no
 * earlier garbage is collected on its clock. */
function clock(fn: () => void): { ms: number; cpuMs: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const c0 = process.cpuUsage(), t0 = performance.now();
  fn();
  const t1 = performance.now(), c1 = process.cpuUsage(c0);
  return { ms: t1 - t0, cpuMs: (c1.user + c1.system) / 1000 };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rng = new Rng(1);
const q = rng.randn([1, T, H * Dh]), k = rng.randn([1, T, H * Dh]), v = rng.randn([1, T, H * Dh]);
const opts = { numHeads: H, numKvHeads: H, headDim: Dh, scale: 1 / Math.sqrt(Dh) };
const uptime = () => execSync('uptime').toString().trim();

console.log(`attention, 1 × ${T} tokens, ${H} heads × ${Dh}, causal, float32, ${backend().name} ${backend().threads()} thread(s); ${RUNS} interleaved runs, medians`);
console.log(`before: ${uptime()}`);
const self = await load(resolve(import.meta.dirname, '..'), 'this tree');
if (args.grid) {
  const grid: Array<{ query: number; key: number }> = [];
  for (const query of [64, 128]) for (const key of [128, 256, 512, 1024]) if (query <= key) grid.push({ query, key });
  const times = grid.map(() => [] as number[]);
  const train = grid.map(() => [] as number[]);
  for (let r = 0; r < RUNS; r++) {
    grid.forEach((blocks, i) => times[i].push(clock(() => self.forward(q, k, v, { ...opts, blocks })).cpuMs));
    grid.forEach((blocks, i) => {
      const [pq, pk, pv] = [param(q), param(k), param(v)];
      train[i].push(clock(() => backward(sum(self.op(pq, pk, pv, { ...opts, blocks })))).cpuMs);
    });
  }
  for (let i = 0; i < grid.length; i++) console.log(`tile ${grid[i].query} × ${grid[i].key}: forward ${median(times[i]).toFixed(1)} ms CPU (min ${Math.min(...times[i]).toFixed(1)}), forward + backward ${median(train[i]).toFixed(1)} ms CPU (min ${Math.min(...train[i]).toFixed(1)})`);
} else {
  const impls = [self];
  if (args.baseline) impls.push(await load(args.baseline, `baseline ${args.baseline}`));
  if (impls.length > 1) {
    const a = impls[0].forward(q, k, v, opts).out.data, b = impls[1].forward(q, k, v, opts).out.data;
    let rel = 0, den = 0;
    for (let i = 0; i < a.length; i++) { rel = Math.max(rel, Math.abs(a[i] - b[i])); den = Math.max(den, Math.abs(b[i])); }
    console.log(`max |difference| / max |baseline| of the outputs: ${(rel / den).toExponential(2)}`);
  }
  const fwd = impls.map(() => ({ ms: [] as number[], cpu: [] as number[] }));
  const train = impls.map(() => ({ ms: [] as number[], cpu: [] as number[] }));
  // ABBA order: whichever kernel runs second in a round measured ~10 % slower here, whichever it was
  const order = (r: number) => (r % 2 === 0 ? impls.map((_, i) => i) : impls.map((_, i) => impls.length - 1 - i));
  for (let r = 0; r < RUNS + 1; r++) {
    for (const i of order(r)) {
      const f = clock(() => impls[i].forward(q, k, v, opts));
      if (r > 0) { fwd[i].ms.push(f.ms); fwd[i].cpu.push(f.cpuMs); } // the first run warms up
    }
    for (const i of order(r)) {
      const [pq, pk, pv] = [param(q), param(k), param(v)];
      const t = clock(() => backward(sum(impls[i].op(pq, pk, pv, opts))));
      if (r > 0) { train[i].ms.push(t.ms); train[i].cpu.push(t.cpuMs); }
    }
  }
  impls.forEach((impl, i) => {
    console.log(`${impl.name}: forward ${median(fwd[i].ms).toFixed(1)} ms (${median(fwd[i].cpu).toFixed(1)} ms CPU); forward + backward ${median(train[i].ms).toFixed(1)} ms (${median(train[i].cpu).toFixed(1)} ms CPU)`);
  });
}
console.log(`after: ${uptime()}`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
