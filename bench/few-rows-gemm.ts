/**
 * Products of a few rows with a large transposed float32 weight (x·Wᵀ, W stored [n, k]: a Linear
 * layer or a tied head in a batched generation step): one `cblas_sgemm` call, as PyTorch and
 * linscope before made it, against linscope's `linear` (src/tensor/matmul.ts), which on OpenBLAS
 * cores with the small-matrix sgemm kernel runs such products as column slabs over the BLAS's
 * threads (src/tensor/few-row-gemm.ts; one row runs as gemv, as before).
 * Interleaved rounds in one process, median milliseconds, the max |Δ| between the two results.
 * Each timed call follows a 150 ms pause: OpenBLAS's own threads keep spinning for a while after a
 * multi-threaded call and would otherwise take the second core from the call timed next.
 *
 *   node --import tsx bench/few-rows-gemm.ts [rounds=7] [rows=1,2,4,8,16,32,64]
 *
 * Threads: OPENBLAS_NUM_THREADS / LINSCOPE_THREADS as for every linscope run.
 */
import { backend } from '../src/backend/index.ts';
import { loadNative } from '../src/backend/native-library.ts';
import { linear } from '../src/tensor/matmul.ts';
import { Rng } from '../src/tensor/random.ts';
import { Tensor } from '../src/tensor/tensor.ts';

const [roundsArg = '7', rowsArg = '1,2,4,8,16,32,64'] = process.argv.slice(2);
const rounds = Number(roundsArg);
const rowCounts = rowsArg.split(',').map(Number);
const be = backend();
const fn = loadNative();
if (be.name !== 'openblas' || !fn) throw new Error('few-rows-gemm: needs the OpenBLAS backend');
const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

/** W shapes [n, k]: Llama-2-7B's MLP up/gate and down, its attention projections, its head; GPT-2's tied head. */
const WEIGHTS: Array<[string, number, number]> = [
  ['Llama-2-7B up/gate', 11008, 4096],
  ['Llama-2-7B down', 4096, 11008],
  ['Llama-2-7B q/k/v/o', 4096, 4096],
  ['Llama-2-7B head', 32000, 4096],
  ['GPT-2 tied head', 50257, 768],
];

const pauseCell = new Int32Array(new SharedArrayBuffer(4));
const pause = () => Atomics.wait(pauseCell, 0, 0, 150);
const median = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1];
const rng = new Rng(3);
console.log(`OpenBLAS ${fn.config().trim()} (core ${fn.corename().trim()}), ${be.threads()} thread(s), ${rounds} interleaved rounds, median ms`);
console.log('| W [n, k] | rows | one sgemm call | linscope | ratio | max \\|Δ\\| |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [name, n, k] of WEIGHTS) {
  const w = new Float32Array(n * k);
  for (let i = 0; i < w.length; i++) w[i] = (rng.uniform() - 0.5) * 0.05;
  for (const m of rowCounts) {
    const x = new Float32Array(m * k);
    for (let i = 0; i < x.length; i++) x[i] = rng.uniform() - 0.5;
    const one = new Float32Array(m * n);
    let ours = new Float32Array(0);
    const xt = new Tensor(x, [m, k]);
    const wt = new Tensor(w, [n, k]);
    const callOnce = () => fn.cblas_sgemm(ROW_MAJOR, NO_TRANS, TRANS, m, n, k, 1, x, k, w, k, 0, one, n);
    const callOurs = () => { ours = linear(xt, wt).data as Float32Array<ArrayBuffer>; };
    callOnce();
    callOurs();
    const t1: number[] = [], t2: number[] = [];
    for (let r = 0; r < rounds; r++) {
      pause();
      let t = performance.now();
      callOnce();
      t1.push(performance.now() - t);
      pause();
      t = performance.now();
      callOurs();
      t2.push(performance.now() - t);
    }
    let diff = 0;
    for (let i = 0; i < one.length; i++) diff = Math.max(diff, Math.abs(one[i] - ours[i]));
    console.log(`| ${name} [${n}, ${k}] | ${m} | ${median(t1).toFixed(1)} | ${median(t2).toFixed(1)} | ${(median(t1) / median(t2)).toFixed(2)}× | ${diff.toExponential(1)} |`);
  }
}
console.log(`\npeak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
