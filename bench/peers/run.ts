/**
 * The peer table of linscope vs PyTorch (HF-eager-style, bench/peers/torch_peers.py) in ONE
 * command: forward, linearity job, 5M training step, LASER per-intervention evaluation, sliding-window
 * perplexity, greedy generation, at 1 and
 * 2 BLAS threads, linscope and torch processes interleaved (order alternating per round), medians,
 * each process's peak RSS, `uptime` before and after, and the float32 GEMM peak (linscope's sgemm
 * at 2048³, the same OpenBLAS) measured in the same run so the forward's share of it can be stated.
 * The first round also checks each torch job's outputs against linscope's (max abs diff).
 * Writes bench/RESULTS-peers.md (or --out).
 *
 *   node --import tsx bench/peers/run.ts            # 2 rounds (orders L,T then T,L), 1 timed run per process
 *   node --import tsx bench/peers/run.ts --quick    # 1 round
 *   options: --rounds N, --reps N (timed runs per process after its warm-up), --threads 1,2,
 *            --jobs forward,linearity,train,laser,perplexity,generate, --dir D (inputs; default /tmp/linscope-peers),
 *            --out FILE, --python PATH (default /usr/bin/python3),
 *            --append TITLE (add the tables as a section "## TITLE" at the end of --out instead of rewriting it),
 *            --torch-malloc cached|glibc|both (default cached; see below),
 *            --torch-openblas pthread|both (default both when Debian's OpenMP build is installed; see below),
 *            --linscope-openblas system|openmp (LINSCOPE_OPENBLAS_BUILD of linscope's processes; default system)
 *
 * Every process gets OPENBLAS_NUM_THREADS (and LINSCOPE_THREADS) = the thread count: Debian's
 * PyTorch calls OpenBLAS, whose threads torch.set_num_threads does not limit. Both tools get the
 * same OpenBLAS kernel set (linscope's OPENBLAS_CORETYPE policy, applied to every child's
 * environment; each process reports the core it loaded and a mismatch fails the cell).
 *
 * The allocator: PyTorch takes every tensor from malloc, and glibc serves blocks above its mmap
 * threshold (at most 32 MB) with fresh mmap'd pages, so every large activation is faulted in anew,
 * which on these virtual machines costs more than the arithmetic done in it (GPT-2 forward: 11.6 s
 * with glibc's defaults against 2.05 s without fresh pages, 2026-12-03). linscope sets glibc's mmap
 * and trim thresholds for itself (src/backend/glibc-malloc.ts), and a user who tunes PyTorch for CPU
 * runs it with a caching allocator (tcmalloc or jemalloc preloaded, as PyTorch's performance tuning
 * guide suggests), so `cached` (the default) gives every process, PyTorch's too, linscope's own
 * thresholds as MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ (bench/peers/peer-env.ts; tcmalloc
 * measured the same for PyTorch). `glibc` keeps glibc's defaults for torch; `both` times torch both
 * ways, interleaved, and adds the glibc-default column.
 *
 * PyTorch's threads: on Debian's default (pthread) build of OpenBLAS, torch runs fastest with one
 * intra-op thread beside OpenBLAS's (bench/peers/peer-env.ts). On Debian's OpenMP build
 * (libopenblas0-openmp) its intra-op threads and OpenBLAS's are one libgomp team, and torch with as
 * many intra-op threads as BLAS threads is faster still. With `--torch-openblas both` (the default
 * when that build is installed) every cell above one thread also times torch that way, interleaved
 * in the same rounds, and the ratio is taken against the faster PyTorch.
 */
import { execSync, spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { cpus, getPriority, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installedOpenmpBuild } from '../../src/backend/native-library.ts';
import { timeBackendGemm } from '../gemm.ts';
import { forwardFlops } from '../forward.ts';
import { FLOOR_FLOPS, floorSeconds } from './floors.ts';
import { DEFAULT_DIR, makeInputs } from './make-inputs.ts';
import { CACHED_MALLOC, peerEnvironment, TORCH_INTRA_OP_THREADS } from './peer-env.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    reps: { type: 'string' },
    threads: { type: 'string', default: '1,2' },
    jobs: { type: 'string', default: 'forward,linearity,train,laser,perplexity,generate' },
    dir: { type: 'string', default: DEFAULT_DIR },
    out: { type: 'string', default: join(root, 'bench', 'RESULTS-peers.md') },
    python: { type: 'string', default: '/usr/bin/python3' },
    append: { type: 'string' },
    'torch-malloc': { type: 'string', default: 'cached' },
    'torch-openblas': { type: 'string' },
    'linscope-openblas': { type: 'string', default: 'system' },
  },
});
const rounds = Number(values.rounds ?? (values.quick ? 1 : 2));
const reps = Number(values.reps ?? 1);
const threadCounts = values.threads!.split(',').map(Number);
const jobs = values.jobs!.split(',');
const dir = values.dir!;
const torchMalloc = values['torch-malloc']!;
if (!['cached', 'glibc', 'both'].includes(torchMalloc)) throw new Error(`--torch-malloc ${torchMalloc}: expected cached, glibc or both`);
const ompDir = installedOpenmpBuild();
const torchOpenblas = values['torch-openblas'] ?? (ompDir ? 'both' : 'pthread');
if (!['pthread', 'both'].includes(torchOpenblas)) throw new Error(`--torch-openblas ${torchOpenblas}: expected pthread or both`);
if (torchOpenblas === 'both' && !ompDir) throw new Error('--torch-openblas both: Debian\'s OpenMP build of OpenBLAS is not installed (apt-get install libopenblas0-openmp)');

const JOB_TITLES: Record<string, string> = {
  forward: 'GPT-2-small forward, 1024 tokens, all hidden states + logits',
  linearity: 'linearity job, GPT-2-small, 4 × 512 tokens, 12 pairs',
  train: 'one training step, 5M config (8 × 256 tokens, AdamW)',
  laser: 'LASER out:11:0.1 (exact SVD) + 64-case evaluation',
  perplexity: 'perplexity, GPT-2-small, 2048 tokens, windows of 1024 every 512',
  generate: 'greedy generation, GPT-2-small, 24-token prompt + 64 tokens, KV cache',
};

interface JobLine {
  tool: 'linscope' | 'torch';
  job: string;
  threads: number;
  seconds: number[];
  maxRssMB: number;
  maxAbsDiff?: number;
  /** The OpenBLAS kernel set the process loaded. */
  blasCore: string;
  /** Which of Debian's OpenBLAS builds the process mapped. */
  blasThreading?: 'openmp' | 'pthread';
  /** torch only: its intra-op threads. */
  intraOpThreads?: number;
}

const uptime = () => execSync('uptime').toString().trim();

type Tool = 'linscope' | 'torch' | 'torch-glibc' | 'torch-openmp';
/** The OpenBLAS builds linscope's processes loaded (src/backend/native-library.ts picks one). */
const linscopeBuilds = new Set<string>();

function runOne(tool: Tool, job: string, threads: number, check: boolean): JobLine | string {
  const env = peerEnvironment(threads, {
    glibcDefaults: tool === 'torch-glibc' || ((tool === 'torch' || tool === 'torch-openmp') && torchMalloc === 'glibc'),
    openmpBlas: tool === 'torch-openmp' ? ompDir : undefined,
  });
  if (tool === 'linscope') env.LINSCOPE_OPENBLAS_BUILD = values['linscope-openblas'];
  const args = tool === 'linscope'
    ? ['--import', 'tsx', join(here, 'linscope-job.ts'), job, dir, String(reps)]
    : [join(here, 'torch_peers.py'), job, dir, String(reps), ...(check ? ['--check'] : [])];
  const r = spawnSync(tool === 'linscope' ? process.execPath : values.python!, args, { cwd: root, env, encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.stderr.trim()) process.stderr.write(r.stderr);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) return `${tool} ${job} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  const got = JSON.parse(line) as JobLine;
  if (tool === 'linscope') {
    linscopeBuilds.add(got.blasThreading ?? 'unknown');
    return got;
  }
  const wanted = tool === 'torch-openmp' ? 'openmp' : 'pthread'; // the first torch: the system's default build
  if (got.blasThreading !== wanted) return `${tool} ${job}: loaded the ${got.blasThreading} build of OpenBLAS, not the ${wanted} one`;
  return got;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const before = uptime();
const startedAt = new Date().toISOString();
console.error(`uptime before: ${before}`);
makeInputs(dir);

interface Cell { linscope: number[]; torch: number[]; torchGlibc: number[]; torchOmp: number[]; rssL: number[]; rssT: number[]; diff?: number; errors: string[]; cores: Set<string> }
const cells = new Map<string, Cell>();
const peaks = new Map<number, number>();
const dgemmPeaks = new Map<number, number>();
for (const threads of threadCounts) {
  const peak = timeBackendGemm({ m: 2048, n: 2048, k: 2048, transA: false, transB: false }, values.quick ? 1 : 2, threads);
  const dpeak = timeBackendGemm({ m: 2048, n: 2048, k: 2048, transA: false, transB: false, dtype: 'float64' }, values.quick ? 1 : 2, threads);
  peaks.set(threads, peak.medianGflops);
  dgemmPeaks.set(threads, dpeak.medianGflops);
  console.error(`threads ${threads}: sgemm 2048³ ${peak.medianGflops.toFixed(1)} GFLOP/s, dgemm ${dpeak.medianGflops.toFixed(1)} GFLOP/s`);
  for (const job of jobs) {
    const cell: Cell = { linscope: [], torch: [], torchGlibc: [], torchOmp: [], rssL: [], rssT: [], errors: [], cores: new Set() };
    cells.set(`${job}:${threads}`, cell);
    for (let r = 0; r < rounds; r++) {
      // linscope first in round 0 (torch checks its outputs), then alternate
      const order: Tool[] = r % 2 === 0 ? ['linscope', 'torch'] : ['torch', 'linscope'];
      if (torchMalloc === 'both') order.push('torch-glibc');
      if (torchOpenblas === 'both' && threads > 1) order.splice(r % 2 === 0 ? 2 : 1, 0, 'torch-openmp');
      for (const tool of order) {
        const got = runOne(tool, job, threads, r === 0);
        if (typeof got === 'string') {
          cell.errors.push(got);
          console.error(got);
          continue;
        }
        console.error(`${job} t=${threads} round ${r + 1} ${tool}: ${got.seconds.map((s) => s.toFixed(2)).join(', ')} s, ${got.maxRssMB.toFixed(0)} MB, OpenBLAS ${got.blasCore}`);
        cell.cores.add(got.blasCore);
        if (tool === 'torch-glibc') {
          cell.torchGlibc.push(...got.seconds);
          continue;
        }
        if (tool === 'torch-openmp') {
          cell.torchOmp.push(...got.seconds);
          cell.rssT.push(got.maxRssMB);
          continue;
        }
        (tool === 'linscope' ? cell.linscope : cell.torch).push(...got.seconds);
        (tool === 'linscope' ? cell.rssL : cell.rssT).push(got.maxRssMB);
        if (got.maxAbsDiff !== undefined) cell.diff = got.maxAbsDiff;
      }
    }
  }
}
const after = uptime();
console.error(`uptime after: ${after}`);

// ------------------------------------------------------------------ RESULTS-peers.md
const load1 = Number(/load average: ([\d.]+)/.exec(before)?.[1] ?? loadavg()[0]);
const command = `node --import tsx bench/peers/run.ts${values.quick ? ' --quick' : ''}${torchMalloc !== 'cached' ? ` --torch-malloc ${torchMalloc}` : ''}${values.rounds ? ` --rounds ${rounds}` : ''}${values.reps ? ` --reps ${reps}` : ''}${values.threads !== '1,2' ? ` --threads ${values.threads}` : ''}${values.jobs !== 'forward,linearity,train,laser,perplexity,generate' ? ` --jobs ${values.jobs}` : ''}${values['linscope-openblas'] !== 'system' ? ` --linscope-openblas ${values['linscope-openblas']}` : ''}${values.append ? ` --append "${values.append}"` : ''}`;
const lines: string[] = [
  '# linscope vs PyTorch on the same CPU: the peer table',
  '',
  `Command: \`${command}\` (one command; \`--quick\` for a shorter run). Written by bench/peers/run.ts.`,
  '',
  `- Run started ${startedAt}; ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; Node ${process.version}; PyTorch from \`${values.python}\`.`,
  `- \`uptime\` before: \`${before}\``,
  `- \`uptime\` after: \`${after}\``,
  load1 > 0.7
    ? `- **Measured under load** (load average ${load1} at the start): other processes shared the cores, so times and ratios are noisy; re-run on a quiet machine for the numbers to quote.`
    : '- The machine was quiet at the start (load average ≤ 0.7).',
  ...(getPriority() > 0 ? [`- Run with a lowered priority (nice ${getPriority()}), as every process it started.`] : []),
  `- ${rounds} round(s); in each, one linscope process and one torch process per job and thread count (order alternating), each timing ${reps} run(s) after a warm-up (three warm-up steps for the training job, both tools: PyTorch's heap still grows in its second and third); medians over all timed runs. Peak RSS is each process's own maximum resident set (largest over its processes).`,
  `- Threads: OPENBLAS_NUM_THREADS and LINSCOPE_THREADS = the column's count; PyTorch's own intra-op threads ${TORCH_INTRA_OP_THREADS} on Debian's default (pthread) build of OpenBLAS (bench/peers/peer-env.ts: at 2 threads, torch with 2 intra-op threads beside OpenBLAS's pthreads was 1.3–2× slower).${torchOpenblas === 'both' ? ` Above one thread PyTorch is also timed on Debian's OpenMP build of the same OpenBLAS (\`${ompDir}\`, loaded through LD_LIBRARY_PATH) with as many intra-op threads as BLAS threads: there both share one libgomp team. The ratio is taken against the faster of the two.` : ''} linscope loaded OpenBLAS's ${[...linscopeBuilds].join(' and ') || 'unknown'} build (LINSCOPE_OPENBLAS_BUILD=${values['linscope-openblas']}, src/backend/native-library.ts).`,
  `- OpenBLAS kernel set of every process: ${[...new Set([...cells.values()].flatMap((c) => [...c.cores]))].join(', ') || 'not reported'} (linscope's OPENBLAS_CORETYPE policy applied to both tools).`,
  torchMalloc === 'glibc'
    ? '- Allocator: glibc\'s defaults for every process (`--torch-malloc glibc`): PyTorch faults in fresh pages for every large tensor.'
    : `- Allocator: every process ran with \`${Object.entries(CACHED_MALLOC).map(([k, v]) => `${k}=${v}`).join(' ')}\` (bench/peers/peer-env.ts: the thresholds linscope sets for itself through mallopt, so glibc keeps freed memory for the next tensor, as a caching allocator does; PyTorch's performance tuning guide suggests tcmalloc or jemalloc for the same reason). linscope measured the same either way.${torchMalloc === 'both' ? ' The last two columns time PyTorch again with glibc\'s defaults (fresh pages for every tensor above the mmap threshold), interleaved in the same rounds.' : ''}`,
  '- Same inputs for both (bench/peers/make-inputs.ts): random-weight safetensors of GPT-2-small (12 × 768, vocab 50257) and of configs/pretrain-5m.yaml, the same token ids. The torch side (bench/peers/torch_peers.py) is written the way Hugging Face transformers\' eager modeling code is; the GPT-2 linearity peer runs the transformer body (no LM head: linscope computes only the last position\'s logits there) and solves the same float64 centred normal equations with torch.linalg.eigh.',
  '- Ratio = torch time / linscope time (above 1: linscope faster). Goal of issue #16: ≥ 1.5× everywhere.',
  '- Floor = the job\'s BLAS-3 FLOPs at the GEMM peaks measured in this run (sgemm and dgemm 2048³; bench/peers/floors.ts says what is counted): no tool doing that arithmetic through this OpenBLAS can be faster, so torch ÷ floor bounds the ratio any tool could reach. Where it is near 1.5×, 1.5× would need the whole job to run at the GEMM peak.',
  '',
];
for (const threads of threadCounts) {
  lines.push(`## ${threads} thread${threads > 1 ? 's' : ''} (OPENBLAS_NUM_THREADS=${threads})`, '');
  const glibcColumns = torchMalloc === 'both';
  const ompColumn = torchOpenblas === 'both' && threads > 1;
  const torchHead = ompColumn
    ? `torch s (pthread OpenBLAS, ${TORCH_INTRA_OP_THREADS} intra-op thread) | torch s (OpenMP OpenBLAS, ${threads} intra-op threads) | ratio to the faster torch`
    : 'torch s | ratio';
  lines.push(`| job | linscope s | ${torchHead} | ≥ 1.5× | floor s | torch ÷ floor | linscope peak RSS MB | torch peak RSS MB | max abs diff (first round) |${glibcColumns ? ' torch, glibc malloc s | ratio to it |' : ''}`);
  lines.push(`| --- | ---: | ---: |${ompColumn ? ' ---: |' : ''} ---: | :---: | ---: | ---: | ---: | ---: | ---: |${glibcColumns ? ' ---: | ---: |' : ''}`);
  for (const job of jobs) {
    const c = cells.get(`${job}:${threads}`)!;
    if (c.cores.size > 1) c.errors.push(`different OpenBLAS kernel sets: ${[...c.cores].join(', ')}`);
    const seconds = (xs: number[]) => (xs.length ? median(xs).toFixed(3) : 'failed');
    if (!c.linscope.length || !c.torch.length || (ompColumn && !c.torchOmp.length) || c.cores.size > 1) {
      lines.push(`| ${JOB_TITLES[job] ?? job} | ${seconds(c.linscope)} | ${seconds(c.torch)} |${ompColumn ? ` ${seconds(c.torchOmp)} |` : ''} – | – | | | | | ${c.errors.join('; ').replace(/\|/g, '/')} |`);
      continue;
    }
    const l = median(c.linscope);
    const t = ompColumn ? Math.min(median(c.torch), median(c.torchOmp)) : median(c.torch);
    const ratio = t / l;
    const flops = FLOOR_FLOPS[job]?.();
    const floor = flops ? floorSeconds(flops, peaks.get(threads)!, dgemmPeaks.get(threads)!) : undefined;
    const floorCells = floor === undefined ? '– | –' : `${floor.toFixed(3)} | ${(t / floor).toFixed(2)}×`;
    const tg = c.torchGlibc.length ? median(c.torchGlibc) : undefined;
    const glibcCells = !glibcColumns ? '' : tg === undefined ? ' failed | – |' : ` ${tg.toFixed(3)} | ${(tg / l).toFixed(2)}× |`;
    lines.push(`| ${JOB_TITLES[job] ?? job} | ${l.toFixed(3)} | ${median(c.torch).toFixed(3)} |${ompColumn ? ` ${median(c.torchOmp).toFixed(3)} |` : ''} ${ratio.toFixed(2)}× | ${ratio >= 1.5 ? 'yes' : 'no'} | ${floorCells} | ${Math.max(...c.rssL).toFixed(0)} | ${Math.max(...c.rssT).toFixed(0)} | ${c.diff === undefined ? 'not checked' : c.diff.toExponential(2)} |${glibcCells}`);
  }
  const fwd = cells.get(`forward:${threads}`);
  const peak = peaks.get(threads)!;
  if (fwd?.linscope.length) {
    const flops = forwardFlops();
    const lg = flops / median(fwd.linscope) / 1e9;
    const torchBest = [fwd.torch, fwd.torchOmp].filter((xs) => xs.length).map(median);
    const tg = torchBest.length ? flops / Math.min(...torchBest) / 1e9 : Number.NaN;
    lines.push('', `Forward: ${(flops / 1e9).toFixed(1)} GFLOP of GEMM work (all T² attention scores and the LM head counted) → linscope ${lg.toFixed(1)} GFLOP/s = **${((100 * lg) / peak).toFixed(0)} % of the GEMM peak** (sgemm 2048³ through the same OpenBLAS in this run: ${peak.toFixed(1)} GFLOP/s); torch ${tg.toFixed(1)} GFLOP/s = ${((100 * tg) / peak).toFixed(0)} %. Goal: ≥ 75 %.`);
  }
  lines.push('');
}
lines.push('Equality checks (first round, torch vs linscope outputs on the same inputs): forward = all 13 hidden states and the logits at every position (float32); linearity = the 12 pairs × (exact, ridge) × (with, without residual) scores (float64); training = the loss and the gradient norm before clipping of the first step; LASER = every case\'s answer log-loss (and the first-token ranks, printed by the torch job); perplexity = the mean NLL (torch: float32 cross-entropy per window, as HF\'s loss; linscope: float64 log-sum-exp); generation = how many of the 64 greedy tokens differ from the first mismatch on (0: all equal).', '');
if (values.append) {
  // a section of its own: the command, the run's conditions and the tables (the header's general notes stay above)
  const at = lines.findIndex((l) => l.startsWith('## '));
  const section = [`## ${values.append}`, '', `Command: \`${command}\``, '', ...lines.slice(4, lines.findIndex((l) => l.startsWith('- Same inputs'))), ''];
  const body = lines.slice(at).map((l) => (l.startsWith('## ') ? `#${l}` : l));
  appendFileSync(values.out!, ['', ...section, ...body].join('\n'));
} else writeFileSync(values.out!, lines.join('\n'));
console.error(`wrote ${values.out}`);
