/**
 * The C twins of the non-GEMM kernels (native/kernels.c): found, built when missing or stale, and
 * loaded with koffi on first use. The TypeScript kernels stay the reference and the fallback.
 *
 * - The library's file name carries a hash of its source, the compiler flags and the CPU model
 *   (build/linscope-kernels-<hash>.so), so a build that no longer matches native/kernels.c is never
 *   loaded: a missing or stale build is compiled on first use when `gcc` is present (scripts/setup.sh
 *   does it ahead of time), and otherwise the TypeScript kernels run and `nativeKernelsStatus()` says why.
 * - `LINSCOPE_NATIVE_KERNELS=0` forces the TypeScript kernels; `LINSCOPE_NATIVE_KERNELS_DIR` moves the
 *   build folder (default build/ in the checkout).
 * - Kernels run on as many threads as the BLAS (`backend().threads()`, set by --threads /
 *   LINSCOPE_THREADS), splitting rows or element ranges with OpenMP; small inputs and memory-bound
 *   passes stay on one thread, and idle OpenMP threads sleep (OMP_WAIT_POLICY=passive unless set)
 *   unless OpenBLAS is its OpenMP build (LINSCOPE_OPENBLAS_BUILD=openmp), whose threads are the same team.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { backend } from '../backend/index.ts';
import { OpenBlasBackend } from '../backend/openblas.ts';
import { expTables } from './fast-exp.ts';
import { bindStatisticsKernels, type NativeStatisticsKernels } from './native-statistics.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KERNELS_SOURCE = join(root, 'native', 'kernels.c');
/** Where builds go: build/ in the checkout, or $LINSCOPE_NATIVE_KERNELS_DIR. */
export const KERNELS_BUILD_DIR = process.env.LINSCOPE_NATIVE_KERNELS_DIR || join(root, 'build');
/**
 * Compiler flags: host CPU, no fused multiply-add (results equal the TypeScript kernels'), no
 * FP-exception flags kept (lets clamps vectorise; values unchanged), no errno from libm calls (a
 * loop calling sqrt() vectorises only then: the AdamW step; √ is correctly rounded either way, and
 * without -fassociative-math no sum is reordered), OpenMP.
 */
export const KERNELS_FLAGS = ['-O3', '-march=native', '-ffp-contract=off', '-fno-trapping-math', '-fno-math-errno', '-fopenmp', '-fPIC', '-shared'];
const VERSION = 7;

/** Activation codes of kernels.c. */
export const ACT = { none: 0, gelu_tanh: 1, silu: 2, relu: 3, gelu_erf: 4 } as const;

type F32 = Float32Array;
export interface NativeKernels {
  layerNorm(x: F32, y: F32, w: F32 | null, b: F32 | null, rows: number, n: number, eps: number, threads: number): void;
  rmsNorm(x: F32, y: F32, w: F32, rows: number, n: number, eps: number, offset: number, threads: number): void;
  softmaxRows(src: F32, dst: F32, rows: number, n: number, threads: number): void;
  activate(x: F32, y: F32, count: number, kind: number, threads: number): void;
  siluMul(gate: F32, up: F32, y: F32, count: number, threads: number): void;
  biasActivate(y: F32, b: F32, rows: number, n: number, kind: number, threads: number): void;
  axpy(a: F32, b: F32, out: F32, s: number, count: number, threads: number): void;
  swiGluForward(gate: F32, up: F32, y: F32, sig: F32, count: number, threads: number): void;
  swiGluBackward(gate: F32, up: F32, sig: F32, grad: F32, gg: F32 | null, gu: F32 | null, count: number, threads: number): void;
  /** `scratch` holds V·threads float64s. */
  crossEntropyForward(x: F32, probs: F32, targets: Int32Array, rows: number, V: number, ignore: number, loss: Float64Array, scratch: Float64Array, threads: number): void;
  /** log-probs.ts logitRows: per row (at[r], or r when null) its log-sum-exp, argmax and (with targets) the target's rank. */
  logitRows(logits: F32, at: Int32Array | null, rows: number, V: number, targets: Int32Array | null, lse: Float64Array, argmax: Int32Array, rank: Int32Array | null, scratch: Float64Array, threads: number): void;
  crossEntropyBackward(probs: F32, targets: Int32Array, rows: number, V: number, ignore: number, w: number, threads: number): void;
  /** `scratch` holds n·(threads + 1) float64s. */
  rmsNormBackward(x: F32, g: F32, w: F32, offset: number, eps: number, rows: number, n: number, gx: F32 | null, dw: Float64Array | null, scratch: Float64Array, threads: number): void;
  /** gx = (accumulate ? gx : 0) + g·f'(x) for GELU-tanh (ACT.gelu_tanh) or SiLU (ACT.silu). */
  activationBackward(x: F32, g: F32, gx: F32, count: number, kind: number, accumulate: number, threads: number): void;
  /** `scratch` holds 3·n·threads float64s. */
  layerNormBackward(x: F32, g: F32, w: F32 | null, eps: number, rows: number, n: number, gx: F32 | null, dw: Float64Array | null, scratch: Float64Array, threads: number): void;
  /** adam.ts updateAdam on float32 arrays in float64 arithmetic (`plain`: 1 when l2 = 0 and decay = 1). */
  adamStep(theta: F32, grad: F32, m: F32, v: F32, n: number, stepSize: number, bc2Sqrt: number, beta2: number, c1: number, c2: number, eps: number, l2: number, decay: number, plain: number, threads: number): void;
  /** ss + Σ g², float64, in index order. */
  sumSquares(g: F32, n: number, ss: number): number;
  /** g ← g·coef. */
  scaleInPlace(g: F32, n: number, coef: number, threads: number): void;
  /** The blocked attention backward (ops/attention.ts), accumulating into dq, dk, dv; −1 when attentionInit found no BLAS. */
  attentionBackward(
    q: F32, k: F32, v: F32, out: F32, dOut: F32, lse: Float64Array, dq: F32 | null, dk: F32 | null, dv: F32 | null,
    B: number, Tq: number, Tk: number, H: number, Hkv: number, Dh: number, offset: number, causal: number, window: number, scale: number,
    keyMask: Uint8Array | null, maskedBefore: Int32Array | null, slopes: Float64Array | null, positions: Float64Array | null,
    queryBlock: number, tileArea: number, threads: number,
  ): number;
  /** gt[ids[i]] += g[i], rows of d, in row order. */
  embeddingBackward(gt: F32, g: F32, ids: Int32Array, count: number, d: number, threads: number): void;
  /** The cos/sin rows (count × half each) of `positions` (rope.ts). */
  ropeTable(positions: Float64Array, count: number, half: number, invFreq: F32, scaling: number, cos: F32, sin: F32): void;
  /** RoPE in place with token t's cos/sin from table row rows[t]; sign −1 rotates by −θ. */
  ropeApply(x: F32, tokens: number, heads: number, headDim: number, half: number, cos: F32, sin: F32, rows: Int32Array, sign: number, interleaved: number, threads: number): void;
  /** Finds cblas_sgemm in the first already-loaded library of the ';'-separated list; 0 on success. */
  attentionInit(candidates: string): number;
  /** The blocked attention forward (attention.ts without kept probabilities); −1 when attentionInit found no BLAS. */
  attentionForward(
    q: F32, k: F32, v: F32, out: F32, B: number, Tq: number, Tk: number, H: number, Hkv: number, Dh: number,
    ldq: number, ldkv: number, ldkb: number, ldo: number, offset: number, causal: number, window: number, scale: number,
    keyMask: Uint8Array | null, maskedBefore: Int32Array | null, slopes: Float64Array | null, positions: Float64Array | null,
    queryBlock: number, tileArea: number, lse: Float64Array | null, threads: number,
  ): number;
  /** few-row-gemm.ts: C = A·Bᵀ in column slabs of `step`, one cblas_sgemm each, over threads; −1 when attentionInit found no BLAS. */
  sgemmColumnSlabs(a: F32, lda: number, b: F32, ldb: number, c: F32, ldc: number, m: number, n: number, k: number, step: number, threads: number): number;
  /** half-weight.ts: C = X·Wᵀ for a 16-bit W [n, k] (`f16` 1: F16, 0: BF16) in slabs of `step` rows over threads; −1 when attentionInit found no BLAS. */
  halfProduct(w: Uint16Array, f16: number, n: number, k: number, x: F32, ldx: number, m: number, c: F32, ldc: number, step: number, threads: number): number;
  /** half-weight.ts: y = W·x for one row x and a 16-bit W [n, k], W read as stored, each y[j] in 16 float32 lanes (thread-count independent). */
  halfGemv(w: Uint16Array, f16: number, n: number, k: number, x: F32, y: F32, threads: number): void;
  /** half.ts decodeBF16/decodeF16 (`f16` 1): `rows` runs of `width` values, run r from bits[r·stride], into out one after the other. */
  decodeHalf(bits: Uint16Array, rows: number, width: number, stride: number, f16: number, out: F32): void;
  /** Index of the first NaN or ±∞ of values[0, n), or −1; `kind` FINITE_KIND (16-bit kinds test the stored bits). */
  firstNonFinite(values: F32 | Float64Array | Uint16Array, n: number, kind: number): number;
  /** The float64 linearity-statistics loops (native-statistics.ts). */
  statistics: NativeStatisticsKernels;
}

/** Elementwise passes over fewer elements than this stay in TypeScript (a koffi call costs about as much). */
export const NATIVE_CALL_MIN = 1024;

/** `kind` codes of lk_first_nonfinite. */
export const FINITE_KIND = { float32: 0, float64: 1, BF16: 2, F16: 3 } as const;

/** The build file for the current source, flags and CPU (its name changes whenever one of them does). */
export function kernelsLibraryPath(): string {
  const h = createHash('sha256');
  h.update(readFileSync(KERNELS_SOURCE));
  h.update(KERNELS_FLAGS.join(' '));
  h.update(cpus()[0]?.model ?? '');
  return join(KERNELS_BUILD_DIR, `linscope-kernels-${h.digest('hex').slice(0, 16)}.so`);
}

export type BuildResult = { ok: true; path: string; built: boolean } | { ok: false; reason: string };

/**
 * Compiles native/kernels.c into `kernelsLibraryPath()` unless it is there already (a temporary
 * file renamed into place, so concurrent processes never load a half-written library); older builds
 * are removed. Never throws: a missing compiler or a compile error comes back as a reason.
 */
export function buildNativeKernels(): BuildResult {
  try {
    return build();
  } catch (e) {
    return { ok: false, reason: (e as Error).message.split('\n')[0] }; // e.g. a read-only build folder
  }
}

function build(): BuildResult {
  if (!existsSync(KERNELS_SOURCE)) return { ok: false, reason: `${KERNELS_SOURCE} is missing` };
  const path = kernelsLibraryPath();
  if (existsSync(path)) return { ok: true, path, built: false };
  mkdirSync(KERNELS_BUILD_DIR, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const r = spawnSync('gcc', [...KERNELS_FLAGS, KERNELS_SOURCE, '-o', tmp, '-lm'], { encoding: 'utf8' });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, reason: missing ? 'no C compiler (gcc not found)' : `gcc failed to start: ${r.error.message}` };
  }
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    return { ok: false, reason: `gcc failed on native/kernels.c: ${r.stderr.trim().split('\n')[0]}` };
  }
  renameSync(tmp, path);
  for (const f of readdirSync(KERNELS_BUILD_DIR)) {
    if (/^linscope-kernels-[0-9a-f]{16}\.so$/.test(f) && join(KERNELS_BUILD_DIR, f) !== path) rmSync(join(KERNELS_BUILD_DIR, f), { force: true });
  }
  return { ok: true, path, built: true };
}

function open(path: string): NativeKernels {
  // libgomp reads its wait policy once, as it loads. With OpenBLAS's pthread build, OpenMP threads
  // that spin after a kernel would take the core OpenBLAS's next GEMM needs: they sleep at once. The
  // OpenMP build (LINSCOPE_OPENBLAS_BUILD=openmp) loads libgomp first (the backend is opened before
  // the kernels) and its threads are the GEMMs' threads too, so there libgomp keeps its default (a
  // short spin before sleeping; with passive threads the linearity job and LASER were 5–10 % slower
  // at 2 threads). A user's own setting wins, and child processes (a PyTorch peer, say) do not
  // inherit ours.
  const be = backend();
  const openmpBlas = be instanceof OpenBlasBackend && be.threading === 'openmp';
  const policy = process.env.OMP_WAIT_POLICY;
  if (policy === undefined && !openmpBlas) process.env.OMP_WAIT_POLICY = 'passive';
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(path);
  } finally {
    if (policy === undefined) delete process.env.OMP_WAIT_POLICY;
  }
  const version = (lib.func('int lk_version()') as () => number)();
  if (version !== VERSION) throw new Error(`${path} has calling convention ${version}, expected ${VERSION}`);
  const t = expTables();
  const init = lib.func('int lk_init(void *pow2_64ths, int n64ths, void *pow2, int npow2, void *fraction, int nfraction, double log2e64, double ln2over64)') as (...a: unknown[]) => number;
  if (init(t.pow2_64ths, t.pow2_64ths.length, t.pow2, t.pow2.length, t.pow2Fraction, t.pow2Fraction.length, t.log2e64, t.ln2over64) !== 0) {
    throw new Error(`${path}: lk_init rejected the exp tables`);
  }
  const f = (sig: string) => lib.func(sig) as (...a: unknown[]) => void;
  return {
    layerNorm: f('void lk_layernorm_f32(void *x, void *y, void *w, void *b, int64_t rows, int64_t n, double eps, int nt)'),
    rmsNorm: f('void lk_rmsnorm_f32(void *x, void *y, void *w, int64_t rows, int64_t n, double eps, float offset, int nt)'),
    softmaxRows: f('void lk_softmax_rows_f32(void *src, void *dst, int64_t rows, int64_t n, int nt)'),
    activate: f('void lk_activate_f32(void *x, void *y, int64_t count, int kind, int nt)'),
    siluMul: f('void lk_silu_mul_f32(void *gate, void *up, void *y, int64_t count, int nt)'),
    biasActivate: f('void lk_bias_act_f32(void *y, void *b, int64_t rows, int64_t n, int kind, int nt)'),
    axpy: f('void lk_axpy_f32(void *a, void *b, void *out, double s, int64_t count, int nt)'),
    swiGluForward: f('void lk_swiglu_fwd_f32(void *gate, void *up, void *y, void *sig, int64_t count, int nt)'),
    swiGluBackward: f('void lk_swiglu_bwd_f32(void *gate, void *up, void *sig, void *grad, void *gg, void *gu, int64_t count, int nt)'),
    crossEntropyForward: f('void lk_xent_fwd_f32(void *x, void *probs, void *targets, int64_t rows, int64_t V, int32_t ignore, void *loss, void *scratch, int nt)'),
    logitRows: f('void lk_logit_rows_f32(void *logits, void *at, int64_t rows, int64_t V, void *targets, void *lse, void *argmax, void *rank, void *scratch, int nt)'),
    crossEntropyBackward: f('void lk_xent_bwd_f32(void *probs, void *targets, int64_t rows, int64_t V, int32_t ignore, double w, int nt)'),
    activationBackward: f('void lk_act_backward_f32(void *x, void *g, void *gx, int64_t count, int kind, int accumulate, int nt)'),
    layerNormBackward: f('void lk_layernorm_bwd_f32(void *x, void *g, void *w, double eps, int64_t rows, int64_t n, void *gx, void *dw, void *scratch, int nt)'),
    rmsNormBackward: f('void lk_rmsnorm_bwd_f32(void *x, void *g, void *w, double offset, double eps, int64_t rows, int64_t n, void *gx, void *dw, void *scratch, int nt)'),
    adamStep: f('void lk_adam_f32(void *theta, void *grad, void *m, void *v, int64_t n, double stepSize, double bc2Sqrt, double beta2, double c1, double c2, double eps, double l2, double decay, int plain, int nt)'),
    sumSquares: lib.func('double lk_sumsq_f32(void *g, int64_t n, double ss)') as NativeKernels['sumSquares'],
    scaleInPlace: f('void lk_scale_f32(void *g, int64_t n, double coef, int nt)'),
    attentionBackward: lib.func(
      'int lk_attention_bwd_f32(void *q, void *k, void *v, void *o, void *dO, void *L, void *dq, void *dk, void *dv, ' +
      'int64_t B, int64_t Tq, int64_t Tk, int H, int Hkv, int Dh, int64_t offset, int causal, int64_t window, double scale, ' +
      'void *keyMask, void *maskedBefore, void *slopes, void *positions, int64_t queryBlock, int64_t tileArea, int nt)',
    ) as NativeKernels['attentionBackward'],
    embeddingBackward: f('void lk_embedding_bwd_f32(void *gt, void *g, void *ids, int64_t count, int64_t d, int nt)'),
    ropeTable: f('void lk_rope_table_f32(void *positions, int64_t count, int half, void *invFreq, double scaling, void *cs, void *sn)'),
    ropeApply: f('void lk_rope_apply_f32(void *x, int64_t tokens, int heads, int headDim, int half, void *cs, void *sn, void *rows, int sign, int interleaved, int nt)'),
    attentionInit: lib.func('int lk_attention_init(const char *candidates)') as (c: string) => number,
    attentionForward: lib.func(
      'int lk_attention_fwd_f32(void *q, void *k, void *v, void *out, int64_t B, int64_t Tq, int64_t Tk, int H, int Hkv, int Dh, ' +
      'int64_t ldq, int64_t ldkv, int64_t ldkb, int64_t ldo, int64_t offset, int causal, int64_t window, double scale, void *keyMask, ' +
      'void *maskedBefore, void *slopes, void *positions, int64_t queryBlock, int64_t tileArea, void *lse, int nt)',
    ) as NativeKernels['attentionForward'],
    sgemmColumnSlabs: lib.func('int lk_sgemm_column_slabs(void *a, int64_t lda, void *b, int64_t ldb, void *c, int64_t ldc, int64_t m, int64_t n, int64_t k, int64_t step, int nt)') as NativeKernels['sgemmColumnSlabs'],
    halfProduct: lib.func('int lk_half_product(void *w, int f16, int64_t n, int64_t k, void *x, int64_t ldx, int64_t m, void *c, int64_t ldc, int64_t step, int nt)') as NativeKernels['halfProduct'],
    halfGemv: f('void lk_half_gemv(void *w, int f16, int64_t n, int64_t k, void *x, void *y, int nt)'),
    decodeHalf: f('void lk_decode_half_f32(void *bits, int64_t rows, int64_t width, int64_t stride, int f16, void *out)'),
    firstNonFinite: lib.func('int64_t lk_first_nonfinite(void *values, int64_t n, int kind)') as NativeKernels['firstNonFinite'],
    statistics: bindStatisticsKernels(lib),
  };
}

let loaded: NativeKernels | null | undefined;
let status = '';
let enabled = true;

function load(): NativeKernels | null {
  if (process.env.LINSCOPE_NATIVE_KERNELS === '0') {
    status = 'TypeScript (LINSCOPE_NATIVE_KERNELS=0)';
    return null;
  }
  const built = buildNativeKernels();
  if (!built.ok) {
    status = `TypeScript (native kernels unavailable: ${built.reason}; run bash scripts/setup.sh)`;
    return null;
  }
  try {
    const k = open(built.path);
    status = `native C (${built.path.startsWith(root) ? built.path.slice(root.length + 1) : built.path}${built.built ? ', built now' : ''})`;
    return k;
  } catch (e) {
    status = `TypeScript (native kernels failed to load: ${(e as Error).message.split('\n')[0]})`;
    return null;
  }
}

/** The native kernels, or null when they are switched off or unavailable (then the TypeScript ones run). */
export function nativeKernels(): NativeKernels | null {
  if (!enabled) return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** Which kernels run, for `linscope`'s reports: "native C (…)" or "TypeScript (why)". */
export function nativeKernelsStatus(): string {
  if (!enabled) return 'TypeScript (native kernels switched off in this process)';
  nativeKernels();
  return status;
}

/** Switches the native kernels on or off for this process (tests and benchmarks compare both paths). */
export function setNativeKernels(on: boolean): void {
  enabled = on;
}

/** Runs `fn` with the native kernels on or off, restoring the previous setting. */
export function withNativeKernels<R>(on: boolean, fn: () => R): R {
  const previous = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/** Threads for a kernel call: the BLAS's thread count. */
export function kernelThreads(): number {
  return backend().threads();
}

/** True when every array is a Float32Array (the native kernels' only dtype). */
export function allFloat32(...arrays: Array<ArrayLike<number> | null | undefined>): boolean {
  for (const a of arrays) if (a && !(a instanceof Float32Array)) return false;
  return true;
}
