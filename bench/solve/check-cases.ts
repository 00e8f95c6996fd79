/**
 * New solve vs the baseline on the analysis tests' pair cases (N > d, N < d, N = d, rank-deficient,
 * large offsets) for seeds 1…20: prints the largest |Δ| of every score and whether ranks match.
 *   node --import tsx bench/solve/check-cases.ts
 */
import { LinearityAccumulator } from '../../src/analysis/linearity-accumulator.ts';
import { solvePairLinearity } from '../../src/analysis/linearity-solve.ts';
import { pairCases } from '../../test/analysis/fixtures.ts';
import { solvePairBaseline } from './baseline.ts';

const worst = new Map<string, number>();
let rankMismatch = 0;
for (let seed = 1; seed <= 20; seed++) {
  for (const c of pairCases(seed)) {
    const acc = new LinearityAccumulator(c.x.dim(-1));
    acc.add(c.x, c.y);
    const s = acc.statistics();
    const a = solvePairBaseline(s);
    const b = solvePairLinearity(s);
    for (const v of ['withResidual', 'withoutResidual'] as const) {
      const dv = Math.max(Math.abs(a[v].exact - b[v].exact), Math.abs(a[v].robust! - b[v].robust!));
      worst.set(c.name, Math.max(worst.get(c.name) ?? 0, dv));
      if (a[v].rank !== b[v].rank) rankMismatch++;
    }
  }
}
for (const [name, d] of worst) console.log(`${name}: max |Δ score| ${d.toExponential(2)}`);
console.log(`rank mismatches: ${rankMismatch}`);
