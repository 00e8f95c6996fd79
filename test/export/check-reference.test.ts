/**
 * check-reference compares the intended model — an export's maps between blocks and its LASER
 * factors applied — with transformers' own run of the same folder through its modeling file
 * (references written once by bench/export-hf-reference.py with transformers 4.42.4 and PyTorch
 * 1.13; the folders are rebuilt here from seeded parts). The plain base model does not match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkReference } from '../../src/cli/check-reference.ts';
import { buildSeededExport, SEEDED_EXPORTS } from '../helpers/export-kinds.ts';
import { fixturesDir, repoRoot, skipUnless } from '../helpers/paths.ts';

const base = { 'llama-maps': 'llama', 'gpt2-factored': 'gpt2' } as const;

for (const which of SEEDED_EXPORTS) {
  test(`${which}: linscope's run of the export matches transformers' (modeling_linscope.py)`, { skip: skipUnless(join(fixturesDir, base[which])) }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'linscope-checkref-'));
    try {
      const folder = join(root, which);
      await buildSeededExport(which, fixturesDir, folder);
      const reference = join(repoRoot, 'test', 'fixtures', 'export', `${which}.reference.safetensors`);
      const lines: string[] = [];
      const result = await checkReference({ model: folder, reference, tolerance: 1e-4, log: (l) => lines.push(l) });
      assert.ok(result.pass, lines.join('\n'));
      assert.ok(result.comparisons.some((c) => c.name === 'logits'));
      assert.ok(result.comparisons.length >= 3);
      const plain = await checkReference({ model: join(fixturesDir, base[which]), reference, tolerance: 1e-4, log: () => {} });
      assert.equal(plain.pass, false, 'the base model (no maps, no reduction) must not match');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
