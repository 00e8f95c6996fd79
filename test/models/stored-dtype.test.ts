/**
 * Weights kept in their stored 16-bit dtype (src/tensor/half-weight.ts): every fixture architecture,
 * saved as BF16 and as F16, gives the same logits and hidden states with its weights held 16-bit
 * (decoded per GEMM) as with every weight decoded to float32 on load (`storedDtype: false`, the
 * reference path), cached and streaming; the embedding, products in both layouts (Linear [out, in]
 * and Conv1D [in, out]) and a tied head all take the 16-bit path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import { loadModel } from '../../src/models/decoder.ts';
import { maxAbsDiff } from '../../src/tensor/elementwise.ts';
import { isHalf } from '../../src/tensor/half-weight.ts';
import { matmul } from '../../src/tensor/matmul.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { HalfWeight } from '../../src/tensor/half-weight.ts';
import { encodeBF16 } from '../../src/io/half.ts';
import { fixtureArchs, fixturesDir, repoRoot, skipUnless } from '../helpers/paths.ts';

/** A copy of a fixture folder with its weights stored as `dtype`. */
function halfCopy(arch: string, dtype: 'BF16' | 'F16'): string {
  const dir = mkdtempSync(join(tmpdir(), `linscope-stored-${arch}-`));
  const src = join(fixturesDir, arch);
  copyFileSync(join(src, 'config.json'), join(dir, 'config.json'));
  writeSafetensors(join(dir, 'model.safetensors'), loadSafetensors(join(src, 'model.safetensors')), { format: 'pt' }, { dtype });
  return dir;
}

for (const arch of fixtureArchs) {
  test(`${arch}: BF16 and F16 weights held 16-bit give the float32 path's outputs`, { skip: skipUnless(join(fixturesDir, arch)) }, async () => {
    for (const dtype of ['BF16', 'F16'] as const) {
      const dir = halfCopy(arch, dtype);
      try {
        const source = await openModelSource(dir);
        const reference = await loadModel(source, { storedDtype: false });
        const kept = await loadModel(source);
        const streamed = await loadModel(source, { streaming: true });
        assert.ok(kept.weightNames().some((n) => isHalf(kept.getWeight(n))), `${arch} ${dtype}: no weight held 16-bit`);
        assert.ok(!reference.weightNames().some((n) => isHalf(reference.getWeight(n))));
        const V = reference.config.vocabSize;
        const ids = [[5, 17, 300 % V, 42, 7, 999 % V], [1, 2, 3, 4, 5, 6]];
        const a = reference.forward(ids, { outputHiddenStates: true });
        for (const m of [kept, streamed]) {
          const b = m.forward(ids, { outputHiddenStates: true });
          assert.ok(maxAbsDiff(a.logits, b.logits) <= 1e-6, `${arch} ${dtype} logits: ${maxAbsDiff(a.logits, b.logits)}`);
          a.hiddenStates!.forEach((h, i) => assert.ok(maxAbsDiff(h, b.hiddenStates![i]) <= 1e-6, `${arch} ${dtype} hidden ${i}`));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
}

test('a product with a 16-bit weight equals the product with its decoded float32 copy, in every slab layout', () => {
  const rows = 1100, cols = 4099; // 4.5 M elements: more than one 4 M-element slab in both layouts
  const w = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 0.37) * 0.1);
  const bits = new Uint16Array(w.length);
  encodeBF16(w, bits);
  const half = new HalfWeight(bits, 'BF16', [rows, cols]) as unknown as Tensor;
  const dense = half.clone();
  const xT = new Tensor(new Float32Array(3 * cols).map((_, i) => Math.cos(i)), [3, cols]);
  const x = new Tensor(new Float32Array(3 * rows).map((_, i) => Math.cos(i)), [3, rows]);
  // BLAS may sum a narrower product in another order: equal up to float32 rounding of the sums (Σ|terms| ≈ 40 here)
  for (const [got, want] of [[matmul(xT, half, { transB: true }), matmul(xT, dense, { transB: true })], [matmul(x, half), matmul(x, dense)]]) {
    assert.ok(maxAbsDiff(got, want) <= 1e-6, `max |Δ| ${maxAbsDiff(got, want)}`);
  }
});

test('PyTorch .bin float16/bfloat16 matrices (sharded, mixed) are held 16-bit and give the float32 path\'s outputs', async () => {
  const dir = join(repoRoot, 'test', 'data', 'torch-bin', 'qwen2-sharded');
  const source = await openModelSource(dir);
  const reference = await loadModel(source, { storedDtype: false });
  const kept = await loadModel(source);
  const held = kept.weightNames().filter((n) => isHalf(kept.getWeight(n)));
  assert.ok(held.length > 0);
  const ids = [[5, 17, 30, 42, 7, 99]];
  const a = reference.forward(ids, { outputHiddenStates: true });
  const b = kept.forward(ids, { outputHiddenStates: true });
  assert.ok(maxAbsDiff(a.logits, b.logits) <= 1e-6);
  a.hiddenStates!.forEach((h, i) => assert.ok(maxAbsDiff(h, b.hiddenStates![i]) <= 1e-6));
});
