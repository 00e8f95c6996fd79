/**
 * LASER's exact truncated SVD, the old route (one gesdd of the whole matrix, then keep r components)
 * against the default one (src/linalg/truncated-svd.ts: 'lq' = the LQ of the wide orientation, the
 * small triangle's SVD with only the r kept vectors, the reflectors applied to those; 'gesdd-part'
 * for a square matrix = its SVD with only the kept vectors), interleaved in one process, on
 * N(0, 0.02²) float64 matrices of the given shapes with r = ⌊ρ·min(m, n)⌋. Prints, per shape and
 * route, the median and best process CPU time (all threads) and wall time, and checks that both
 * routes give the same components (singular values and U_r·S_r·V_rᵀ, relative to max |A|).
 * Set the BLAS threads with OPENBLAS_NUM_THREADS (LINSCOPE_THREADS also works).
 *
 *   OPENBLAS_NUM_THREADS=1 node --import tsx bench/laser-svd.ts [shapes=3072x768,768x3072,768x768,4096x11008] [rho=0.1] [reps=5] [keep=top]
 *
 * Shapes with more than 10⁷ entries are run `reps` = 1 time per route.
 */
import { execSync } from 'node:child_process';
import { backend } from '../src/backend/index.ts';
import { keptRank } from '../src/laser/rank.ts';
import { exactRoute, reconstruct, truncatedSvd, type TruncatedSvd } from '../src/linalg/truncated-svd.ts';
import { Rng } from '../src/tensor/random.ts';

const [shapesArg = '3072x768,768x3072,768x768,4096x11008', rhoArg = '0.1', repsArg = '5', keepArg = 'top'] = process.argv.slice(2);
const keep = keepArg as 'top' | 'bottom';
const uptime = () => execSync('uptime').toString().trim();
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor((x.length - 1) / 2)];

console.log(`before: ${uptime()}`);
console.log(`backend ${backend().name}, ${backend().threads()} BLAS threads, keep ${keep}, ρ = ${rhoArg}`);
console.log('| shape | r | route | CPU ms median | CPU ms best | wall ms median | runs |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
const notes: string[] = [];
for (const shape of shapesArg.split(',')) {
  const [m, n] = shape.split('x').map(Number);
  const r = keptRank(Number(rhoArg), m, n);
  const a = new Rng(1).randn([m, n], 0.02, 'float64').data as Float64Array;
  const reps = m * n > 1e7 ? 1 : Number(repsArg);
  const routes = ['gesdd', exactRoute(m, n)] as const; // old, default
  const label = (i: number) => (i === 0 ? 'gesdd of A (old)' : `${routes[1]} (default)`);
  const times = routes.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
  const last: TruncatedSvd[] = [];
  if (reps > 1) for (const via of routes) truncatedSvd(a, m, n, r, { keep, exactVia: via }); // warm-up
  for (let i = 0; i < reps; i++) {
    for (const [k, via] of routes.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      last[k] = truncatedSvd(a, m, n, r, { keep, exactVia: via });
      times[k].wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      times[k].cpu.push((c.user + c.system) / 1000);
    }
  }
  for (const [k, t] of times.entries()) {
    console.log(`| ${m}×${n} | ${r} | ${label(k)} | ${median(t.cpu).toFixed(0)} | ${Math.min(...t.cpu).toFixed(0)} | ${median(t.wall).toFixed(0)} | ${reps} |`);
  }
  const [g, q] = last;
  let scale = 0;
  for (const x of a) scale = Math.max(scale, Math.abs(x));
  let sDiff = 0;
  for (let i = 0; i < r; i++) sDiff = Math.max(sDiff, Math.abs(g.s[i] - q.s[i]) / g.s[0]);
  const rg = reconstruct(g), rq = reconstruct(q);
  let recDiff = 0;
  for (let i = 0; i < rg.length; i++) recDiff = Math.max(recDiff, Math.abs(rg[i] - rq[i]));
  notes.push(`${m}×${n}: max |Δσ|/σ₁ = ${sDiff.toExponential(1)}, max |Δ(U_r·S_r·V_rᵀ)|/max|A| = ${(recDiff / scale).toExponential(1)}`);
}
for (const line of notes) console.log(line);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
console.log(`after: ${uptime()}`);
