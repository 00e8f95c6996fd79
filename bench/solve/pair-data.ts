/**
 * The inputs of the pair-solve benchmark (bench/solve-paths.ts), written once per (d, N) into a
 * folder: float32 rows of X and Y (N × d, as a model's hidden states are), and the float64 centred
 * statistics the layer-major run would have accumulated from them (XcᵀXc, XcᵀDc, norms). X has a
 * decaying column scale 1/(1 + j/16) (a realistic, full-rank spectrum); D = Y − X is partly linear
 * in X: D = 0.5·X·(1 + 0.3·tanh(X shifted by one element)) + 0.1·noise.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backend } from '../../src/backend/index.ts';
import type { CentredPairStatistics } from '../../src/analysis/linearity-statistics.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

export interface PairData {
  x: Tensor;
  y: Tensor;
  stats: CentredPairStatistics;
}

const zero = (d: number) => new Float64Array(d);

function centred(a: Float32Array, n: number, d: number): Float64Array {
  const out = Float64Array.from(a);
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += out[r * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) out[r * d + j] -= mean[j];
  return out;
}

/** Writes the folder for (d, N) unless it is there already; returns its path. */
export function writePairData(root: string, d: number, n: number): string {
  const dir = join(root, `d${d}-n${n}`);
  if (existsSync(join(dir, 'meta.json'))) return dir;
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(d * 7919 + n);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) x[r * d + j] = rng.normal() / (1 + j / 16);
  for (let i = 0; i < x.length; i++) {
    const delta = 0.5 * x[i] * (1 + 0.3 * Math.tanh(x[(i + 1) % x.length])) + 0.1 * rng.normal();
    y[i] = x[i] + delta;
  }
  const xc = centred(x, n, d);
  const yc = centred(y, n, d);
  const dc = new Float64Array(n * d);
  let xx = 0;
  let yy = 0;
  let dd = 0;
  for (let i = 0; i < dc.length; i++) {
    dc[i] = yc[i] - xc[i];
    xx += xc[i] * xc[i];
    yy += yc[i] * yc[i];
    dd += dc[i] * dc[i];
  }
  const be = backend();
  const cxx = new Float64Array(d * d);
  const cxd = new Float64Array(d * d);
  be.gemm({ transA: true, transB: false, m: d, n: d, k: n, alpha: 1, a: xc, lda: d, b: xc, ldb: d, beta: 0, c: cxx, ldc: d });
  be.gemm({ transA: true, transB: false, m: d, n: d, k: n, alpha: 1, a: xc, lda: d, b: dc, ldb: d, beta: 0, c: cxd, ldc: d });
  writeFileSync(join(dir, 'x.f32'), x);
  writeFileSync(join(dir, 'y.f32'), y);
  writeFileSync(join(dir, 'cxx.f64'), cxx);
  writeFileSync(join(dir, 'cxd.f64'), cxd);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ d, n, xx, yy, dd }));
  return dir;
}

function readArray<T extends Float32Array | Float64Array>(path: string, kind: new (b: ArrayBuffer) => T): T {
  const buf = readFileSync(path);
  return new kind(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function readPairData(dir: string): PairData {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { d: number; n: number; xx: number; yy: number; dd: number };
  const { d, n } = meta;
  const x = new Tensor(readArray(join(dir, 'x.f32'), Float32Array), [n, d]);
  const y = new Tensor(readArray(join(dir, 'y.f32'), Float32Array), [n, d]);
  const stats: CentredPairStatistics = {
    tokens: n, dim: d, cxx: readArray(join(dir, 'cxx.f64'), Float64Array), cxd: readArray(join(dir, 'cxd.f64'), Float64Array),
    xx: meta.xx, dd: meta.dd, yy: meta.yy, meanX: zero(d), meanDelta: zero(d), meanY: zero(d),
  };
  return { x, y, stats };
}
