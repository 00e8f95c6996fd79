/**
 * A product with a BF16 weight: decoded per GEMM into the reused float32 scratch (what linscope
 * does, src/tensor/half-weight.ts) against the same weight held as float32, interleaved rounds.
 * Prints the median time of each, the max |Δ| between them, and whether OpenBLAS exports
 * cblas_sbgemm (the bf16 GEMM the alternative would use).
 *
 *   node --import tsx bench/scale/half-gemm.ts [rows=11008] [cols=4096] [tokens=64] [rounds=5]
 */
import { execFileSync } from 'node:child_process';
import { encodeBF16 } from '../../src/io/half.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { HalfWeight } from '../../src/tensor/half-weight.ts';
import { matmul } from '../../src/tensor/matmul.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { backend } from '../../src/backend/index.ts';

const [rows = 11008, cols = 4096, tokens = 64, rounds = 5] = process.argv.slice(2).map(Number);
const rng = new Rng(1);
const w32 = rng.rand([rows, cols], -0.035, 0.035);
const bits = new Uint16Array(w32.size);
encodeBF16(w32.data as Float32Array, bits);
const half = new HalfWeight(bits, 'BF16', [rows, cols]) as unknown as Tensor;
const dense = half.clone(); // the float32 path holds exactly the decoded BF16 values
const x = rng.randn([tokens, cols]);
const time = (f: () => Tensor) => { const t0 = performance.now(); const y = f(); return { ms: performance.now() - t0, y }; };
const t16: number[] = [], t32: number[] = [];
let diff = 0;
for (let r = 0; r < rounds; r++) {
  const a = time(() => matmul(x, dense, { transB: true }));
  const b = time(() => matmul(x, half, { transB: true }));
  t32.push(a.ms); t16.push(b.ms);
  diff = Math.max(diff, maxAbsDiff(a.y, b.y));
}
const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
let sbgemm = 'unknown';
try {
  const syms = execFileSync('nm', ['-D', '/usr/lib/x86_64-linux-gnu/libopenblas.so.0'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  sbgemm = /\bcblas_sbgemm\b/.test(syms) ? 'exported' : 'not exported';
} catch { /* nm missing */ }
console.log(`backend ${backend().name}; x [${tokens}, ${cols}] · Wᵀ, W [${rows}, ${cols}], ${rounds} interleaved rounds`);
console.log(`float32 weight: median ${median(t32).toFixed(1)} ms  (${t32.map((t) => t.toFixed(0)).join(' / ')})`);
console.log(`BF16 weight:    median ${median(t16).toFixed(1)} ms  (${t16.map((t) => t.toFixed(0)).join(' / ')})  → ${(median(t16) / median(t32)).toFixed(2)}× the time, ${(bits.byteLength / 1e6).toFixed(0)} MB held instead of ${(w32.size * 4 / 1e6).toFixed(0)} MB`);
console.log(`max |Δ| BF16 path vs float32 path: ${diff.toExponential(3)}; cblas_sbgemm in libopenblas: ${sbgemm}`);
