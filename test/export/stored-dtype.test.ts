/**
 * Exports of models held in their stored 16-bit dtype: the safetensors writer copies a 16-bit
 * weight's bits unchanged (and decodes it only for another dtype), lazy tensors are produced when
 * written; `laser apply` and `prune` exports of a BF16 checkpoint — streamed, unreplaced weights
 * read as they are written — are byte-identical to the exports of the same model decoded to
 * float32 in memory (the reference path), and are written in the checkpoint's dtype.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBF16, encodeF16 } from '../../src/io/half.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadSafetensors, openSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import { checkpointDtype } from '../../src/io/stored-tensor.ts';
import { exportModel } from '../../src/laser/export.ts';
import { LaserEditor } from '../../src/laser/intervention.ts';
import { parseInterventions } from '../../src/laser/parse.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { exportPrunedModel } from '../../src/prune/export.ts';
import { PrunedModel } from '../../src/prune/pruned-model.ts';
import { HalfWeight } from '../../src/tensor/half-weight.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `linscope-stored-export-${tag}-`));

test('the writer copies 16-bit bits unchanged, decodes them for another dtype, and produces lazy tensors when written', () => {
  const dir = tmp('writer');
  try {
    const values = Float32Array.from([0.1, -2.5, 3e-3, 65504, -0, 1 / 3]);
    const bits = new Uint16Array(values.length);
    encodeBF16(values, bits);
    const half = new HalfWeight(bits, 'BF16', [2, 3]) as unknown as Tensor;
    let loads = 0;
    const lazy = { lazy: true as const, shape: [3], load: () => (loads++, Tensor.from([1, 2, 3])) };
    writeSafetensors(join(dir, 'bf16.safetensors'), { w: half, l: lazy }, undefined, { dtype: 'BF16' });
    writeSafetensors(join(dir, 'f16.safetensors'), { w: half }, undefined, { dtype: 'F16' });
    assert.equal(loads, 1);
    const a = openSafetensors(join(dir, 'bf16.safetensors'));
    assert.deepEqual(new Uint16Array(a.readBytes('w').slice().buffer), bits);
    assert.deepEqual(Array.from(a.readTensor('l').data), [1, 2, 3]);
    const f16 = new Uint16Array(bits.length);
    encodeF16(half.data, f16); // the decoded BF16 values, rounded to F16 independently
    assert.deepEqual(new Uint16Array(openSafetensors(join(dir, 'f16.safetensors')).readBytes('w').slice().buffer), f16);
    assert.throws(() => writeSafetensors(join(dir, 'bad.safetensors'), { l: { lazy: true, shape: [4], load: () => Tensor.from([1, 2, 3]) } }),
      /declared \[4\] but loaded as \[3\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A copy of a fixture with its weights stored BF16. */
function bf16Copy(arch: string): string {
  const dir = tmp(arch);
  const src = join(fixturesDir, arch);
  copyFileSync(join(src, 'config.json'), join(dir, 'config.json'));
  writeSafetensors(join(dir, 'model.safetensors'), loadSafetensors(join(src, 'model.safetensors')), { format: 'pt' }, { dtype: 'BF16' });
  return dir;
}

function weightBytes(dir: string): Buffer[] {
  return readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort().map((f) => readFileSync(join(dir, f)));
}

for (const arch of ['llama', 'gpt2'] as const) {
  test(`${arch} BF16: streamed laser apply and prune exports equal the float32 in-memory path's, byte for byte, in BF16`, { skip: skipUnless(join(fixturesDir, arch)) }, async () => {
    const dir = bf16Copy(arch);
    const outs: string[] = [];
    try {
      const source = await openModelSource(dir);
      const dtype = checkpointDtype(source, (await loadModel(source, { streaming: true })).weightNames());
      assert.equal(dtype, 'BF16');
      const exports: Record<string, Buffer[][]> = { laser: [], prune: [] };
      for (const mode of [{ storedDtype: false }, { streaming: true }]) {
        const model = await loadModel(source, mode);
        const applied = new LaserEditor(model).applyAll(parseInterventions('out:1:0.1,q:0:0.5', model.numLayers));
        const laserOut = tmp('laser');
        outs.push(laserOut);
        exportModel(laserOut, {
          config: source.config, weightNames: () => model.weightNames(), getWeight: (n) => model.getWeight(n), dir: source.dir,
          ...(model.streaming ? { streamed: model } : {}),
        }, { dtype, applied });
        exports.laser.push(weightBytes(laserOut));
        const base = await loadModel(source, mode);
        const d = base.config.hiddenSize;
        const weight = Tensor.zeros([d, d], 'float64');
        for (let i = 0; i < d; i++) weight.data[i * d + i] = 1 + 0.01 * i;
        const pruneOut = tmp('prune');
        outs.push(pruneOut);
        exportPrunedModel(pruneOut, new PrunedModel(base, [{ start: 2, count: 1, map: { input: 'residual', weight } }, { start: 3, count: 1 }]), { dtype });
        exports.prune.push(weightBytes(pruneOut));
        const header = JSON.parse(readFileSync(join(pruneOut, 'config.json'), 'utf8'));
        assert.equal(header.torch_dtype, 'bfloat16');
      }
      for (const kind of ['laser', 'prune'] as const) {
        const [reference, streamed] = exports[kind];
        assert.equal(reference.length, streamed.length);
        reference.forEach((b, i) => assert.ok(b.equals(streamed[i]), `${arch} ${kind}: file ${i} differs`));
      }
      const reloaded = openSafetensors(join(outs[0], 'model.safetensors'));
      assert.ok(reloaded.names().every((n) => reloaded.info(n).dtype === 'BF16'));
    } finally {
      for (const d of [dir, ...outs]) rmSync(d, { recursive: true, force: true });
    }
  });
}

test('linscope laser apply on a BF16 checkpoint writes BF16 (torch_dtype bfloat16) unless --dtype says otherwise', { skip: skipUnless(join(fixturesDir, 'llama')) }, async () => {
  const { run } = await import('../../src/cli/commands/laser.ts');
  const { captureConsole } = await import('../helpers/console.ts');
  const dir = bf16Copy('llama');
  try {
    for (const [extra, dtype, torch] of [[[], 'BF16', 'bfloat16'], [['--dtype', 'F32'], 'F32', 'float32']] as const) {
      const out = join(dir, `out-${dtype}`);
      const { result: code } = await captureConsole(() => run(['apply', '-m', dir, '-i', 'out:1:0.1', '-o', out, ...extra]));
      assert.equal(code, 0);
      const file = openSafetensors(join(out, 'model.safetensors'));
      assert.ok(file.names().every((n) => file.info(n).dtype === dtype), `${dtype}: ${[...new Set(file.names().map((n) => file.info(n).dtype))]}`);
      assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype, torch);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
