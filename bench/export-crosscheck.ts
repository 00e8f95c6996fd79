/**
 * Export cross-check, step 1 (linscope side): writes every export kind (test/helpers/export-kinds.ts)
 * of the 9 shared fixtures and stories260K into OUT, with the intended model's logits on fixed ids
 * beside each folder (`<kind>.expected.safetensors`) and `manifest.json`; prints linscope's reload
 * error per export. Step 2 (bench/export-hf-crosscheck.py) loads the same folders in Hugging Face
 * transformers (with and without trust_remote_code) and compares.
 *
 * Run: node --import tsx bench/export-crosscheck.ts [OUT]     (default /tmp/linscope-export-crosscheck)
 * Not run by the test suite (the suite's test/export/roundtrip.test.ts checks the linscope side).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeSafetensors } from '../src/io/safetensors.ts';
import { loadModel } from '../src/models/decoder.ts';
import { printTable } from '../src/report/table.ts';
import { buildExport, EVAL_IDS, EXPORT_KINDS, kindApplies } from '../test/helpers/export-kinds.ts';
import { fixtureArchs, fixturesDir, stories260KDir } from '../test/helpers/paths.ts';

const out = resolve(process.argv[2] ?? '/tmp/linscope-export-crosscheck');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const models: [string, string][] = [...fixtureArchs.map((a) => [a, join(fixturesDir, a)] as [string, string]), ['stories260K', stories260KDir]];
const manifest: Record<string, unknown>[] = [];
const rows: Record<string, string | number>[] = [];
for (const [name, dir] of models) {
  for (const kind of EXPORT_KINDS) {
    if (!(await kindApplies(kind, dir))) continue;
    const folder = join(out, name, kind);
    const built = await buildExport(kind, dir, folder);
    const got = (await loadModel(folder)).forward(EVAL_IDS).logits;
    let worst = 0;
    for (let i = 0; i < got.size; i++) worst = Math.max(worst, Math.abs(got.data[i] - built.expected.data[i]));
    const expectedFile = join(out, name, `${kind}.expected.safetensors`);
    writeSafetensors(expectedFile, { logits: built.expected.to('float32') }, { format: 'pt' });
    manifest.push({ model: name, kind, folder, expected: expectedFile, custom_code: built.customCode, note: built.note, linscope_reload_max_abs: worst });
    rows.push({ model: name, kind, 'custom code': built.customCode ? 'yes' : 'no', 'linscope reload max|Δ|': worst.toExponential(2), note: built.note });
  }
}
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify({ input_ids: EVAL_IDS, exports: manifest }, null, 2)}\n`);
printTable(rows);
console.log(`wrote ${manifest.length} exports and ${join(out, 'manifest.json')}`);
