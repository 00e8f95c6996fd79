/** Shared setup of the linearity tests: temporary folders, the stories260K probe set, score checks. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { ModelLinearity } from '../../src/linearity/result.ts';
import { datasetsDir } from '../helpers/paths.ts';

export const tinyStories = join(datasetsDir, 'tinystories-valid-subset', 'tinystories_val.txt');

/** A fresh temporary folder, removed when the test file ends. */
export function tempDir(prefix = 'linscope-linearity-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every score of a result is a number in [0, 1] (robust never above exact), ranks positive. */
export function assertSaneScores(r: ModelLinearity, what: string): void {
  assert.ok(r.pairs.length > 0, `${what}: no pairs`);
  for (const p of r.pairs) {
    for (const part of ['layer', 'attention', 'mlp'] as const) {
      const s = p[part];
      if (!s) continue;
      for (const v of ['withResidual', 'withoutResidual'] as const) {
        const { exact, robust, rank } = s[v];
        const where = `${what} pair ${p.block} ${part} ${v}`;
        assert.ok(exact >= -1e-12 && exact <= 1 + 1e-12, `${where}: exact ${exact}`);
        assert.ok(robust >= -1e-12 && robust <= exact + 1e-9, `${where}: robust ${robust} vs exact ${exact}`);
        assert.ok(rank > 0 && rank <= r.model.hiddenSize, `${where}: rank ${rank}`);
      }
    }
  }
}

/** Largest absolute difference between the scores of two results of the same model. */
export function maxScoreDifference(a: ModelLinearity, b: ModelLinearity): number {
  let worst = 0;
  a.pairs.forEach((p, i) => {
    for (const part of ['layer', 'attention', 'mlp'] as const) {
      const x = p[part];
      const y = b.pairs[i][part];
      if (!x || !y) continue;
      for (const v of ['withResidual', 'withoutResidual'] as const) {
        worst = Math.max(worst, Math.abs(x[v].exact - y[v].exact), Math.abs(x[v].robust - y[v].robust));
      }
    }
  });
  return worst;
}
