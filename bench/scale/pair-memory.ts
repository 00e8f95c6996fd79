/**
 * Memory of one layer-major linearity pair at hidden size d, in units of d² float64 (8·d² bytes):
 * the pair's statistics (src/analysis/linearity-pair.ts) fed with random rows, then solved as the
 * analysis does (scores, both variants, exact and robust). Prints the RSS growth while the
 * statistics are held and the peak growth through the solve, so the need at d = 5120 or 8192 can
 * be read off a small d (the solve's work arrays are all d × d or d × 2d).
 *
 *   node --import tsx bench/scale/pair-memory.ts 1024 2048
 */
import { LinearityPairAccumulator } from '../../src/analysis/linearity-pair.ts';
import { Rng } from '../../src/tensor/random.ts';

const rss = () => process.memoryUsage().rss;
const peak = () => process.resourceUsage().maxRSS * 1024;
for (const d of process.argv.slice(2).map(Number)) {
  const unit = 8 * d * d;
  const base = rss();
  const basePeak = peak();
  const pair = new LinearityPairAccumulator({ dim: d, block: 0 });
  const rng = new Rng(d);
  const n = d + 64;
  const x = rng.randn([n, d], 1);
  const y = rng.randn([n, d], 1);
  pair.add({ x, y });
  const held = rss() - base;
  pair.result();
  const through = Math.max(peak() - base, rss() - base, peak() - basePeak);
  console.log(`d ${d}: statistics held ${(held / unit).toFixed(2)} d² float64 (${(held / 2 ** 20).toFixed(0)} MiB, incl. ${(2 * n * d * 4 / 2 ** 20).toFixed(0)} MiB of rows); peak through the solve ${(through / unit).toFixed(2)} d² (${(through / 2 ** 30).toFixed(2)} GiB)`);
}
