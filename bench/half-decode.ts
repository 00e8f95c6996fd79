/**
 * Loading and streaming 16-bit checkpoints: BF16/F16 → float32 decoding and the NaN/±∞ scans
 * every loaded tensor goes through (src/io/half.ts, src/tensor/finite.ts, half-weight.ts
 * hasNonFiniteHalf), C (native/kernels.c) vs the TypeScript loops, interleaved rounds in one
 * process, median milliseconds. The inputs are Llama-2-7B's MLP matrix (11008 × 4096 = 45 M values)
 * and GPT-2-small's parameter count in float32 (124 M values).
 *
 *   node --import tsx bench/half-decode.ts [rounds=7]
 */
import { decodeBF16, decodeF16, encodeBF16 } from '../src/io/half.ts';
import { firstNonFinite } from '../src/tensor/finite.ts';
import { hasNonFiniteHalf } from '../src/tensor/half-weight.ts';
import { nativeKernelsStatus, withNativeKernels } from '../src/tensor/native-kernels.ts';
import { backend } from '../src/backend/index.ts';

const rounds = Number(process.argv[2] ?? 7);
const n16 = 11008 * 4096;
const f32 = new Float32Array(n16);
for (let i = 0; i < n16; i++) f32[i] = Math.sin(i) * 0.05;
const bits = new Uint16Array(n16);
encodeBF16(f32, bits);
const out = new Float32Array(n16);
const big = new Float32Array(124_000_000);
for (let i = 0; i < big.length; i += 1009) big[i] = Math.cos(i);

const cases: Array<[string, () => unknown]> = [
  ['decode BF16 → float32, 45 M values', () => decodeBF16(bits, out)],
  ['decode F16 → float32, 45 M values', () => decodeF16(bits, out)],
  ['NaN/±∞ scan of BF16 bits, 45 M values', () => hasNonFiniteHalf(bits, 'BF16')],
  ['NaN/±∞ scan of float32, 124 M values', () => firstNonFinite(big)],
];
const median = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1];
console.log(`kernels: ${nativeKernelsStatus()}; ${backend().threads()} thread(s); ${rounds} interleaved rounds, median ms`);
console.log('| work | TypeScript | C | TS / C |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, run] of cases) {
  const ts: number[] = [], c: number[] = [];
  withNativeKernels(false, run);
  run();
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    withNativeKernels(false, run);
    ts.push(performance.now() - t);
    t = performance.now();
    run();
    c.push(performance.now() - t);
  }
  console.log(`| ${name} | ${median(ts).toFixed(1)} | ${median(c).toFixed(1)} | ${(median(ts) / median(c)).toFixed(1)}× |`);
}
console.log(`\npeak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
