/**
 * One timed pair solve in its own process (for bench/solve-paths.ts, which gives each its own peak
 * RSS): `old` = the single-eigendecomposition path (`method: 'eigen'`, what linscope did before),
 * `new` = what `linearity` does now: the token side from the rows when N ≤ 0.85·d, else certified
 * Cholesky factors of the statistics (eigen fallback). Prints one JSON line.
 *
 *   node --import tsx bench/solve/one-solve.ts --dir /tmp/linscope-solve/d4096-n2048 --method new --threads 2
 */
import { parseArgs } from 'node:util';
import { backend } from '../../src/backend/index.ts';
import { factorNormalMatrix, solveFromTokenSpectrum, solvePairLinearity, type PairLinearity } from '../../src/analysis/linearity-solve.ts';
import { centredRows, TOKEN_SIDE_MAX, tokenSpectrum } from '../../src/analysis/linearity-tokens.ts';
import { readPairData } from './pair-data.ts';

const { values } = parseArgs({ options: { dir: { type: 'string' }, method: { type: 'string', default: 'new' }, threads: { type: 'string', default: '1' } } });
const { x, y, stats } = readPairData(values.dir!);
backend().setThreads(Number(values.threads));
const rssBefore = process.resourceUsage().maxRSS;
const t = performance.now();
let result: PairLinearity;
let path: string;
if (values.method === 'old') {
  result = solvePairLinearity(stats, { method: 'eigen' });
  path = 'eigen (syevd d×d)';
} else if (stats.tokens <= TOKEN_SIDE_MAX * stats.dim) {
  const spectrum = tokenSpectrum(centredRows([{ x, y }], stats.tokens, stats.dim));
  result = solveFromTokenSpectrum(spectrum, stats.tokens, stats.dim);
  path = 'token side (syevd N×N)';
} else {
  const factor = factorNormalMatrix(stats);
  result = solvePairLinearity(stats, {}, factor);
  path = factor && 'kind' in factor ? 'Cholesky' : 'eigen fallback';
}
const seconds = (performance.now() - t) / 1000;
const scores = [result.withResidual.exact, result.withResidual.robust, result.withoutResidual.exact, result.withoutResidual.robust];
console.log(JSON.stringify({
  tool: 'linscope', method: values.method, path, threads: backend().threads(), seconds, scores,
  maxRssMB: process.resourceUsage().maxRSS / 1024, inputRssMB: rssBefore / 1024,
}));
