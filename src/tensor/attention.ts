/**
 * Scaled dot-product attention over [B, T, H·Dh] projections, blocked with an online softmax
 * (FlashAttention, Dao et al. 2022, on the CPU): for each block of query rows and each key tile it
 * can see (src/tensor/attention-tiles.ts),
 *   S = scale · Q Kᵀ + bias,   m' = max(m, rowmax S),   P = e^(S − m'),
 *   ℓ ← e^(m − m') ℓ + rowsum P,   O ← e^(m − m') O + P V,
 * and finally O ← O / ℓ: QKᵀ and PV are strided GEMMs on the [B, T, H·Dh] buffers (no transposes),
 * and tiles above the causal diagonal, wholly outside a sliding window, or wholly padding are never
 * computed. The result is softmax(S) V, as in HF's eager attention.
 *
 * Masks: causal (key j visible to query i iff j ≤ queryOffset + i), key padding (keyMask), optional
 * ALiBi bias slope_h · keyPosition_j, and an optional sliding window. Grouped-query attention maps
 * query head h to key/value head ⌊h / (H / H_kv)⌋. A row that sees no key gets all zeros.
 * On request it keeps the probabilities (for analysis) and each row's log-sum-exp (for the backward,
 * which recomputes P tile by tile from it: src/autograd/ops/attention.ts).
 *
 * Without kept probabilities, float32 inputs run the same loop in C (native/kernels.c
 * lk_attention_fwd_f32, through the OpenBLAS the backend loaded) with the work items spread over the
 * BLAS's threads; this TypeScript loop is its fallback and test oracle (test/tensor/native-attention.test.ts).
 */
import { backend, type Backend } from '../backend/index.ts';
import { candidatesFor } from '../backend/native-library.ts';
import { attentionGeometry, expRowOnline, geometryOf, keyBlock, keyTiles, scoreTile, type AttentionGeometry, type AttentionOptions } from './attention-tiles.ts';
import { allFloat32, nativeKernels, type NativeKernels } from './native-kernels.ts';
import { Tensor, allocate, type TypedArray } from './tensor.ts';

export { DEFAULT_BLOCKS, type AttentionOptions } from './attention-tiles.ts';

export interface AttentionResult {
  out: Tensor;
  probs?: Tensor;
  /** log Σ_j e^(S_ij) of each row, [B, H, Tq] flat (−∞ where the row sees no key), with keepLse. */
  lse?: Float64Array;
}

export function attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions): AttentionResult {
  const g = attentionGeometry(q, k, v, o);
  const { B, Tq, Tk, H, Dh, qWidth, kvWidth, queryBlock } = g;
  const out = new Tensor(allocate(q.dtype, B * Tq * qWidth), [B, Tq, qWidth]);
  const probs = o.keepProbs ? new Tensor(allocate(q.dtype, B * H * Tq * Tk), [B, H, Tq, Tk]) : undefined;
  const lse = o.keepLse ? new Float64Array(B * H * Tq) : undefined;
  const qd = q.data, kd = k.data, vd = v.data, od = out.data;
  const be = backend();
  if (!probs && nativeAttention(be, g, { q: qd, k: kd, v: vd, ldq: qWidth, ldkv: kvWidth, ldkb: g.kvBatchStride }, od, lse)) return { out, lse };
  // the TypeScript loop's scratch (the C kernel has its own): a score tile, the rows' masks and state
  const tileSize = Math.max(g.tileArea, keyBlock(g, 1));
  const s = allocate(q.dtype, tileSize);
  const rowStart = new Int32Array(queryBlock), rowEnd = new Int32Array(queryBlock);
  // running max m, sum ℓ and the rescaling factor e^(m − m') of each row of the block
  const m = new Float64Array(queryBlock), l = new Float64Array(queryBlock), corr = new Float64Array(queryBlock);
  // with kept probabilities: the max each tile's row was exponentiated against, to normalise at the end
  const maxTiles = Math.ceil(Tk / keyBlock(g, queryBlock)) + 2;
  const tileMax = probs ? new Float64Array(queryBlock * maxTiles) : undefined;
  // These products are thin (one side is Dh wide): OpenBLAS's threads cost more than they gain here
  // (measured 3.5× the CPU time with 2 threads), so run them on one.
  onOneThread(be, () => {
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const kvBase = b * g.kvBatchStride + Math.floor(h / g.group) * Dh;
        for (let i0 = 0; i0 < Tq; i0 += queryBlock) {
          const rows = Math.min(queryBlock, Tq - i0);
          const oBase = b * Tq * qWidth + i0 * qWidth + h * Dh;
          m.fill(-Infinity, 0, rows);
          l.fill(0, 0, rows);
          const tiles = keyTiles(g, b, i0, i0 + rows);
          for (let t = 0; t < tiles.length; t += 2) {
            const j0 = tiles[t], cols = tiles[t + 1] - j0;
            scoreTile(g, be, qd, kd, b, h, i0, rows, j0, cols, s, rowStart, rowEnd);
            for (let r = 0; r < rows; r++) {
              corr[r] = expRowOnline(s, r * cols, rowStart[r], rowEnd[r], cols, m, l, r);
              if (tileMax) tileMax[r * maxTiles + t / 2] = m[r];
            }
            if (probs) {
              for (let r = 0; r < rows; r++) {
                probs.data.set(s.subarray(r * cols, (r + 1) * cols), ((b * H + h) * Tq + i0 + r) * Tk + j0);
              }
            }
            if (t > 0) {
              // O ← e^(m − m') O for the rows whose max moved
              for (let r = 0; r < rows; r++) {
                const c = corr[r];
                if (c === 1) continue;
                const start = oBase + r * qWidth;
                for (let d = start; d < start + Dh; d++) od[d] *= c;
              }
            }
            // O += P V[j0:j1] (the first tile overwrites)
            be.gemm({
              transA: false, transB: false, m: rows, n: Dh, k: cols, alpha: 1,
              a: s, lda: cols, b: vd.subarray(kvBase + j0 * kvWidth), ldb: kvWidth,
              beta: t === 0 ? 0 : 1, c: od.subarray(oBase), ldc: qWidth,
            });
          }
          for (let r = 0; r < rows; r++) {
            const inv = l[r] > 0 ? 1 / l[r] : 0;
            const start = oBase + r * qWidth;
            if (tiles.length === 0) od.fill(0, start, start + Dh);
            else if (inv !== 1) for (let d = start; d < start + Dh; d++) od[d] *= inv;
            if (lse) lse[(b * H + h) * Tq + i0 + r] = l[r] > 0 ? m[r] + Math.log(l[r]) : -Infinity;
            if (probs && tileMax) normaliseProbs(probs.data, ((b * H + h) * Tq + i0 + r) * Tk, tiles, tileMax, r * maxTiles, m[r], inv);
          }
        }
      }
    }
  });
  return { out, probs, lse };
}

/** BLAS found by the native attention kernels, per loaded kernels object. */
const blasFound = new WeakMap<NativeKernels, boolean>();

/**
 * The C kernels that call OpenBLAS's sgemm themselves (attention forward here, backward in
 * src/autograd/ops/attention.ts, few-row products in few-row-gemm.ts) when they can run on this
 * backend: the C kernels loaded, OpenBLAS the backend, its cblas_sgemm found (once).
 */
export function nativeAttentionKernels(be: Backend): NativeKernels | null {
  const nk = nativeKernels();
  if (!nk || be.name !== 'openblas') return null;
  let found = blasFound.get(nk);
  if (found === undefined) {
    found = nk.attentionInit(candidatesFor().openblas.join(';')) === 0;
    blasFound.set(nk, found);
  }
  return found ? nk : null;
}

/** What every C attention kernel takes besides its arrays and the geometry's numbers. */
export interface NativeAttentionArgs {
  keyMask: Uint8Array | null;
  slopes: Float64Array | null;
  positions: Float64Array | null;
  /** The BLAS's thread count, over which the kernel spreads its work items. */
  threads: number;
}

/**
 * Runs one C attention kernel (`call`, which returns its status) when it can run here: float32
 * `arrays`, a valid sliding window, the kernels loaded on OpenBLAS (`nativeAttentionKernels`). The
 * kernel spreads its work items over the BLAS's thread count itself, so the BLAS runs on one thread
 * meanwhile. False when it did not run, and the caller runs the TypeScript loop.
 */
export function runNativeAttention(
  be: Backend, g: AttentionGeometry, arrays: readonly (TypedArray | null)[], call: (nk: NativeKernels, args: NativeAttentionArgs) => number,
): boolean {
  if (!allFloat32(...arrays) || (g.window !== undefined && !(g.window >= 1))) return false;
  const nk = nativeAttentionKernels(be);
  if (!nk) return false;
  const positions = g.alibiPositions ? Float64Array.from(g.alibiPositions) : null;
  const args = { keyMask: keyMaskBytes(g.keyMask), slopes: positions ? Float64Array.from(g.alibiSlopes!) : null, positions, threads: be.threads() };
  let status = 0;
  onOneThread(be, () => {
    status = call(nk, args);
  });
  return status === 0;
}

/** A key mask as the native kernels take it: 1 for real tokens, 0 for padding. */
function keyMaskBytes(mask: ArrayLike<number> | undefined): Uint8Array | null {
  if (!mask) return null;
  const bytes = new Uint8Array(mask.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = mask[i] === 0 ? 0 : 1;
  return bytes;
}

/** q, k, v for the native kernel: arrays starting at each one's first value, rows ldq / ldkv apart, each sequence's k/v rows ldkb apart. */
interface StridedQkv { q: TypedArray; k: TypedArray; v: TypedArray; ldq: number; ldkv: number; ldkb: number }

/**
 * The same blocked attention in C (native/kernels.c lk_attention_fwd_f32: the same tiles, online
 * softmax and GEMMs; work items over the BLAS's thread count): false when the native kernels or the
 * OpenBLAS backend are unavailable or the data is not float32, and the TypeScript loop runs.
 */
function nativeAttention(be: Backend, g: AttentionGeometry, x: StridedQkv, od: TypedArray, lse: Float64Array | undefined): boolean {
  return runNativeAttention(be, g, [x.q, x.k, x.v, od], (nk, a) => nk.attentionForward(
    x.q as Float32Array, x.k as Float32Array, x.v as Float32Array, od as Float32Array, g.B, g.Tq, g.Tk, g.H, g.Hkv, g.Dh,
    x.ldq, x.ldkv, x.ldkb, g.qWidth, g.offset, g.causal ? 1 : 0, g.window ?? 0, g.scale,
    a.keyMask, g.maskedBefore ?? null, a.slopes, a.positions, g.queryBlock, g.tileArea, lse ?? null, a.threads,
  ));
}

/**
 * attention() on q, k, v that are the column ranges [qAt, qAt + H·Dh), [kAt, kAt + Hkv·Dh), [vAt, …)
 * of one fused projection y [B, T, W] (GPT-2's c_attn output [q | k | v]), read in place by the
 * native kernel: no copies of q, k and v. Self-attention only (keys = queries, no cache); returns
 * null when the native kernel cannot run (the caller then splits y and calls `attention`).
 */
export function attentionFromFused(y: Tensor, qAt: number, kAt: number, vAt: number, o: Omit<AttentionOptions, 'keepProbs' | 'keepLse'>): Tensor | null {
  const [B, T, W] = y.shape;
  const g = geometryOf(B, T, T, [o.numHeads * o.headDim, o.numKvHeads * o.headDim, o.numKvHeads * o.headDim], o);
  if (qAt < 0 || kAt < 0 || vAt < 0 || qAt + g.qWidth > W || kAt + g.kvWidth > W || vAt + g.kvWidth > W) throw new Error(`attention: q/k/v columns at ${qAt}/${kAt}/${vAt} do not fit a fused width of ${W}`);
  const out = new Tensor(allocate(y.dtype, B * T * g.qWidth), [B, T, g.qWidth]);
  const d = y.data;
  return nativeAttention(backend(), g, { q: d.subarray(qAt), k: d.subarray(kAt), v: d.subarray(vAt), ldq: W, ldkv: W, ldkb: T * W }, out.data, undefined) ? out : null;
}

/** Kept probabilities of one row: each tile's segment was e^(S − m_tile); make it e^(S − m) / ℓ. */
function normaliseProbs(p: TypedArray, rowBase: number, tiles: number[], tileMax: Float64Array, at: number, mFinal: number, inv: number): void {
  for (let t = 0; t < tiles.length; t += 2) {
    const f = inv === 0 ? 0 : Math.exp(tileMax[at + t / 2] - mFinal) * inv;
    if (f === 1) continue;
    for (let j = rowBase + tiles[t]; j < rowBase + tiles[t + 1]; j++) p[j] *= f;
  }
}

/** Run `fn` with the BLAS on one thread, restoring the previous count. */
export function onOneThread(be: Backend, fn: () => void): void {
  const threads = be.threads();
  if (threads > 1) be.setThreads(1);
  try {
    fn();
  } finally {
    if (threads > 1) be.setThreads(threads);
  }
}

/** ALiBi slopes for `n` heads (Press et al.; BLOOM's construction for non-powers of two). */
export function alibiSlopes(n: number): Float64Array {
  const closest = 2 ** Math.floor(Math.log2(n));
  const base = 2 ** -(2 ** -(Math.log2(closest) - 3));
  const slopes = new Float64Array(n);
  for (let i = 0; i < closest; i++) slopes[i] = base ** (i + 1);
  if (closest < n) {
    const extraBase = 2 ** -(2 ** -(Math.log2(2 * closest) - 3));
    for (let i = 0; i < n - closest; i++) slopes[closest + i] = extraBase ** (2 * i + 1);
  }
  return slopes;
}
