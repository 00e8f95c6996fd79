/**
 * The linearity pair solve, old vs new vs PyTorch, in ONE command: for each d and token count N,
 * at each BLAS thread count, separate processes run (order alternating per round) linscope's old
 * solve (one d × d eigendecomposition, `method: 'eigen'`), its new one (token side when N ≤ d,
 * certified Cholesky otherwise; bench/solve/one-solve.ts) and PyTorch's lstsq and eigh on the same
 * inputs (bench/solve/torch_solve.py); each reports its time, scores and peak RSS. Prints a Markdown
 * table (medians over rounds) for bench/RESULTS-linearity.md, with `uptime` before and after.
 *
 *   node --import tsx bench/solve-paths.ts                          # d 4096; N 2048, 8192; threads 1, 2
 *   node --import tsx bench/solve-paths.ts --dims 4096,5120 --rounds 2 --no-torch
 *
 * Inputs (float32 rows and float64 statistics, bench/solve/pair-data.ts) are written once to --dir
 * (default /tmp/linscope-solve; d 4096 with N 8192 takes 0.8 GB there). Every process gets
 * OPENBLAS_NUM_THREADS = the thread count (torch's set_num_threads does not limit Debian's OpenBLAS).
 */
import { execSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { peerEnvironment } from './peers/peer-env.ts';
import { writePairData } from './solve/pair-data.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values } = parseArgs({
  options: {
    dims: { type: 'string', default: '4096' },
    tokens: { type: 'string', default: '2048,8192' },
    threads: { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '1' },
    dir: { type: 'string', default: '/tmp/linscope-solve' },
    torch: { type: 'boolean', default: true },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
  allowNegative: true,
});
const list = (s: string) => s.split(',').map(Number);

interface Run {
  tool: string;
  method: string;
  path?: string;
  seconds: number;
  scores: (number | null)[];
  maxRssMB: number;
}

function run(kind: 'old' | 'new' | 'eigh' | 'lstsq', dir: string, threads: number): Run {
  const env = peerEnvironment(threads); // both tools: the same OpenBLAS kernels and allocator setting
  const args = kind === 'old' || kind === 'new'
    ? [process.execPath, ['--import', 'tsx', join(here, 'solve', 'one-solve.ts'), '--dir', dir, '--method', kind, '--threads', String(threads)]] as const
    : [values.python!, [join(here, 'solve', 'torch_solve.py'), dir, kind, String(threads)]] as const;
  const r = spawnSync(args[0], args[1], { cwd: root, env, encoding: 'utf8', timeout: 60 * 60_000 });
  if (r.status !== 0) throw new Error(`${kind} failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Run;
  console.error(`  ${kind.padEnd(5)} ${out.seconds.toFixed(2)} s  ${out.path ?? ''}  peak RSS ${out.maxRssMB.toFixed(0)} MB`);
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const maxDiff = (a: Run, b: Run, only?: number[]) =>
  Math.max(...a.scores.map((v, i) => (only && !only.includes(i)) || v === null || b.scores[i] === null ? 0 : Math.abs(v - b.scores[i]!)));

const uptime = () => execSync('uptime').toString().trim();
const before = uptime();
console.error(`uptime before: ${before}`);
const kinds = ['old', 'new', ...(values.torch ? ['eigh', 'lstsq'] as const : [])] as const;
const rows: string[] = [];
for (const d of list(values.dims!)) {
  for (const n of list(values.tokens!)) {
    const dir = writePairData(values.dir!, d, n);
    for (const threads of list(values.threads!)) {
      const runs: Record<string, Run[]> = { old: [], new: [], eigh: [], lstsq: [] };
      for (let r = 0; r < Number(values.rounds); r++) {
        console.error(`d ${d}, N ${n}, ${threads} thread(s), round ${r + 1}`);
        const order = r % 2 === 0 ? [...kinds] : [...kinds].reverse();
        for (const k of order) runs[k].push(run(k, dir, threads));
      }
      const t = (k: string) => (runs[k].length ? median(runs[k].map((x) => x.seconds)) : Number.NaN);
      const rss = (k: string) => (runs[k].length ? Math.max(...runs[k].map((x) => x.maxRssMB)).toFixed(0) : '—');
      const peer = Math.min(t('eigh'), t('lstsq'));
      const diff = maxDiff(runs.new[0], runs.old[0]);
      const lstsqDiff = runs.lstsq.length ? maxDiff(runs.lstsq[0], runs.new[0], [0, 2]).toExponential(1) : '—';
      rows.push(`| ${d} | ${n} | ${threads} | ${t('old').toFixed(2)} | ${t('new').toFixed(2)} | ${runs.new[0].path} | ${(t('old') / t('new')).toFixed(2)} | ` +
        `${values.torch ? t('eigh').toFixed(2) : '—'} | ${values.torch ? t('lstsq').toFixed(2) : '—'} | ${values.torch ? (peer / t('new')).toFixed(2) : '—'} | ` +
        `${diff.toExponential(1)} | ${lstsqDiff} | ${rss('old')} / ${rss('new')} / ${rss('eigh')} / ${rss('lstsq')} |`);
      console.error(rows.at(-1));
    }
  }
}
const after = uptime();
console.error(`uptime after: ${after}`);
console.log(`uptime before: \`${before}\`; after: \`${after}\``);
console.log('');
console.log('| d | N | threads | old s | new s | new path | old/new | torch eigh s | torch lstsq s | torch best/new | max abs Δ new−old (4 scores) | abs Δ lstsq−new (exact) | peak RSS MB old / new / eigh / lstsq |');
console.log('| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
