/**
 * Writes the seeded exports of test/helpers/export-kinds.ts (SEEDED_EXPORTS) into OUT, for
 * bench/export-hf-reference.py to compute their transformers references (see there).
 * Run: node --import tsx bench/export-reference-folders.ts OUT
 */
import { join, resolve } from 'node:path';
import { buildSeededExport, SEEDED_EXPORTS } from '../test/helpers/export-kinds.ts';
import { fixturesDir } from '../test/helpers/paths.ts';

const out = resolve(process.argv[2] ?? '/tmp/linscope-seeded');
for (const which of SEEDED_EXPORTS) {
  await buildSeededExport(which, fixturesDir, join(out, which));
  console.log(`wrote ${join(out, which)}`);
}
