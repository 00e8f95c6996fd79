/**
 * Interleaved A/B of two checkouts of linscope in one process (same machine, same moment, same
 * load): the inference forward of bench/forward.ts (GPT-2 small shape, 1 × 1024 tokens, logits
 * compared bit for bit) or the training step of bench/pretrain.ts (the 5M Llama shape, 8 × 256
 * tokens). The two trees alternate which runs first each round; process CPU time is reported (wall
 * time too, but on a shared machine it mostly measures the other jobs).
 *
 *   git worktree add /tmp/base <commit>
 *   node --import tsx bench/ab-trees.ts --base /tmp/base --branch . --what forward|step [--rounds 6]
 */
import { resolve } from 'node:path';

const arg = (name: string, fallback?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (fallback !== undefined) return fallback;
    throw new Error(`missing --${name}`);
  }
  return process.argv[i + 1];
};
const trees = { base: resolve(arg('base')), branch: resolve(arg('branch', '.')) };
const what = arg('what', 'forward');
const rounds = Number(arg('rounds', '6'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const cpuOf = (f: () => void) => {
  const c = process.cpuUsage(), t = performance.now();
  f();
  const d = process.cpuUsage(c);
  return { cpu: (d.user + d.system) / 1000, wall: performance.now() - t };
};
type Run = () => { cpu: number; wall: number };
const runs: Record<'base' | 'branch', Run> = {} as Record<'base' | 'branch', Run>;
let identical = true;
if (what === 'forward') {
  const ids = [Array.from({ length: 1024 }, (_, i) => (i * 7919) % 50257)];
  const logits: Record<string, Float32Array> = {};
  for (const k of ['base', 'branch'] as const) {
    const mod = await import(`${trees[k]}/bench/forward.ts`);
    const model = mod.buildGpt2Small(0);
    model.forward(ids);
    runs[k] = () => cpuOf(() => { logits[k] = model.forward(ids).logits.data as Float32Array; });
  }
  const check = () => { for (let i = 0; i < logits.base.length; i += 997) if (logits.base[i] !== logits.branch[i]) identical = false; };
  const inner = runs.branch;
  runs.branch = () => { const r = inner(); if (logits.base) check(); return r; };
} else {
  for (const k of ['base', 'branch'] as const) {
    const mod = await import(`${trees[k]}/bench/pretrain.ts`);
    runs[k] = () => {
      const steps = mod.benchPretrainSteps(mod.SHAPE_5M, 8, 256, 2, 'none', 1) as { cpu: number; total: number }[];
      return { cpu: median(steps.map((s) => s.cpu)), wall: median(steps.map((s) => s.total)) };
    };
  }
}
const out: Record<'base' | 'branch', { cpu: number; wall: number }[]> = { base: [], branch: [] };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['base', 'branch'] as const) : (['branch', 'base'] as const);
  for (const k of order) out[k].push(runs[k]());
}
const cpu = (k: 'base' | 'branch') => median(out[k].map((x) => x.cpu));
const wall = (k: 'base' | 'branch') => median(out[k].map((x) => x.wall));
console.log(JSON.stringify({
  what, rounds, ...(what === 'forward' ? { logitsBitIdentical: identical } : {}),
  baseCpuMs: Math.round(cpu('base')), branchCpuMs: Math.round(cpu('branch')), cpuRatio: +(cpu('branch') / cpu('base')).toFixed(3),
  baseWallMs: Math.round(wall('base')), branchWallMs: Math.round(wall('branch')), wallRatio: +(wall('branch') / wall('base')).toFixed(3),
  baseCpuAll: out.base.map((x) => Math.round(x.cpu)), branchCpuAll: out.branch.map((x) => Math.round(x.cpu)),
}));
