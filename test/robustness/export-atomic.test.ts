/**
 * Exports are atomic as a whole (#13: a full disk during `laser apply` left a 0-byte laser.json in a
 * folder that still loaded). A full disk is simulated by making the k-th file write fail with
 * ENOSPC, for every k until the export succeeds: each time the target must be exactly what it was
 * before (absent, or the previous complete export), and no partial folder may be left beside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkExportTarget } from '../../src/export/hf-folder.ts';
import { exportModel } from '../../src/laser/export.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { loadModel, type DecoderModel } from '../../src/models/decoder.ts';
import { exportPrunedModel } from '../../src/prune/export.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';

const dir = join(fixturesDir, 'llama');
const ids = [[1, 5, 9, 22, 7, 30]];

/** Run `fn` with the k-th write (writeSync / writeFileSync / copyFileSync call) failing with ENOSPC. */
function withFullDiskAt<T>(k: number, fn: () => T): { result?: T; error?: Error; writes: number } {
  const originals = { writeSync: fs.writeSync, writeFileSync: fs.writeFileSync, copyFileSync: fs.copyFileSync };
  let writes = 0;
  const fail = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const wrap = <F extends (...args: never[]) => unknown>(f: F) => ((...args: Parameters<F>) => {
    if (++writes === k) throw fail();
    return f(...args);
  }) as unknown as F;
  fs.writeSync = wrap(originals.writeSync);
  fs.writeFileSync = wrap(originals.writeFileSync);
  fs.copyFileSync = wrap(originals.copyFileSync);
  syncBuiltinESMExports();
  try {
    return { result: fn(), writes };
  } catch (error) {
    return { error: error as Error, writes };
  } finally {
    Object.assign(fs, originals);
    syncBuiltinESMExports();
  }
}

function snapshot(folder: string): Record<string, string> {
  if (!existsSync(folder)) return {};
  return Object.fromEntries(readdirSync(folder).sort().map((f) => [f, readFileSync(join(folder, f)).toString('base64')]));
}

/** `laser apply` with one intervention at ρ, returning the export call (run it as often as needed). */
function laserEdit(model: DecoderModel, rho: number): { write: (out: string) => unknown; undo: () => void } {
  const editor = new LaserEditor(model);
  const applied = editor.applyAll([{ type: 'out', layer: 1, rho }]);
  const source = { config: model.source.config, weightNames: () => model.weightNames(), getWeight: (n: string) => model.getWeight(n), dir };
  return { write: (out) => exportModel(out, source, { applied }), undo: () => editor.undo() };
}

test('laser apply export: a full disk at any write leaves the target untouched and no partial folder', { skip: skipUnless(dir) }, async () => {
  const model = await loadModel(dir);
  const root = mkdtempSync(join(tmpdir(), 'linscope-atomic-'));
  try {
    const out = join(root, 'model');
    // no previous export: nothing may appear
    let k = 1;
    const half = laserEdit(model, 0.5);
    for (; ; k++) {
      const r = withFullDiskAt(k, () => half.write(out));
      if (!r.error) break;
      assert.match(r.error.message, /ENOSPC/);
      assert.ok(!existsSync(out), `write ${k} failed: ${out} must not exist`);
      assert.deepEqual(readdirSync(root), [], `write ${k} failed: nothing may be left in ${root}`);
    }
    half.undo();
    assert.ok(k > 3, `the export makes several writes (${k})`);
    const first = snapshot(out);
    const before = (await loadModel(out)).forward(ids).logits.data;
    // a previous export: it must survive every failure byte for byte
    const tenth = laserEdit(model, 0.1);
    for (let j = 1; ; j++) {
      const r = withFullDiskAt(j, () => tenth.write(out));
      if (!r.error) break;
      assert.deepEqual(snapshot(out), first, `write ${j} failed: the previous export must be unchanged`);
      assert.deepEqual(readdirSync(root), ['model'], `write ${j} failed: no partial folder beside the target`);
    }
    tenth.undo();
    assert.match(JSON.parse(readFileSync(join(out, 'laser.json'), 'utf8')).interventions, /0\.1/);
    assert.notDeepEqual((await loadModel(out)).forward(ids).logits.data, before);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('prune export: a full disk while writing leaves no folder that loads', { skip: skipUnless(dir) }, async () => {
  const model = await loadModel(dir);
  const root = mkdtempSync(join(tmpdir(), 'linscope-atomic-'));
  try {
    const out = join(root, 'pruned');
    for (let k = 1; ; k++) {
      const r = withFullDiskAt(k, () => exportPrunedModel(out, new PrunedModel(model, [{ start: 1, count: 1 }])));
      if (!r.error) break;
      assert.ok(!existsSync(out), `write ${k} failed: ${out} must not exist`);
      assert.deepEqual(readdirSync(root), []);
    }
    assert.equal((await loadModel(out)).numLayers, model.numLayers - 1);
    // a partial folder a killed export left (its pid is gone) is removed by the next export
    const abandoned = join(root, '.pruned.linscope-partial-2147483646-0badc0de');
    mkdirSync(abandoned);
    exportPrunedModel(out, new PrunedModel(model, [{ start: 2, count: 1 }]));
    assert.deepEqual(readdirSync(root), ['pruned']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an existing folder that is not a model folder is refused, not overwritten', () => {
  const root = mkdtempSync(join(tmpdir(), 'linscope-atomic-'));
  try {
    writeFileSync(join(root, 'notes.txt'), 'mine');
    assert.throws(() => checkExportTarget(root), /not a model folder.*choose another output folder/);
    mkdirSync(join(root, 'empty'));
    checkExportTarget(join(root, 'empty'));
    checkExportTarget(join(root, 'absent'));
    assert.throws(() => checkExportTarget(join(root, 'notes.txt')), /not a folder/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
