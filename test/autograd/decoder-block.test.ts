/** A whole tiny decoder layer, differentiated end to end: every op composed, checked at once. */
import { test } from 'node:test';
import { add, scale } from '../../src/autograd/ops/arith.ts';
import { attention } from '../../src/autograd/ops/attention.ts';
import { crossEntropy } from '../../src/autograd/ops/cross-entropy.ts';
import { embedding } from '../../src/autograd/ops/embedding.ts';
import { linear, matmul } from '../../src/autograd/ops/linalg.ts';
import { cosineDistanceMean } from '../../src/autograd/ops/losses.ts';
import { layerNorm, rmsNorm } from '../../src/autograd/ops/norms.ts';
import { rope, sequentialPositions } from '../../src/autograd/ops/rope.ts';
import { reshape, sliceLast } from '../../src/autograd/ops/shape.ts';
import { swiGlu } from '../../src/autograd/ops/fused.ts';
import type { Var } from '../../src/autograd/var.ts';
import { ropeInverseFrequencies } from '../../src/tensor/rope.ts';
import { Rng } from '../../src/tensor/random.ts';
import { assertGradients, randn } from './gradcheck-helpers.ts';

test('decoder layer (RMSNorm, fused QKV, partial RoPE, GQA, SwiGLU, tied LM head, CE + cosine regulariser)', () => {
  const rng = new Rng(5);
  const [B, T, V, D, H, Hkv, Dh, F] = [2, 3, 7, 8, 2, 1, 4, 6];
  const ids = [1, 4, 6, 0, 2, 2];
  const targets = [4, 6, -100, 2, 2, 5];
  const invFreq = ropeInverseFrequencies(2, 10000);
  const positions = sequentialPositions(B, T);
  const qkvOut = (H + 2 * Hkv) * Dh;

  const layer = (table: Var, norm1: Var, wqkv: Var, wo: Var, norm2w: Var, norm2b: Var, wgu: Var, wd: Var) => {
    const x0 = embedding(table, ids, [B, T]);
    const qkv = linear(rmsNorm(x0, norm1, 1e-6), wqkv);
    const ropeOpts = (heads: number) => ({ numHeads: heads, headDim: Dh, rotaryDim: 2, invFreq, style: 'half' as const, positions });
    const q = rope(sliceLast(qkv, 0, H * Dh), ropeOpts(H));
    const k = rope(sliceLast(qkv, H * Dh, (H + Hkv) * Dh), ropeOpts(Hkv));
    const v = sliceLast(qkv, (H + Hkv) * Dh, qkvOut);
    const attn = attention(q, k, v, { numHeads: H, numKvHeads: Hkv, headDim: Dh, scale: 1 / Math.sqrt(Dh) });
    const x1 = add(x0, linear(attn, wo));
    const gu = linear(layerNorm(x1, norm2w, norm2b, 1e-5), wgu);
    const x2 = add(x1, linear(swiGlu(sliceLast(gu, 0, F), sliceLast(gu, F, 2 * F)), wd));
    const logits = matmul(reshape(x2, B * T, D), table, { transB: true });
    const ce = crossEntropy(logits, targets);
    const reg = cosineDistanceMean(reshape(x1, B * T, D), reshape(x2, B * T, D));
    return add(ce, scale(reg, 0.3));
  };
  assertGradients(layer, [
    randn(rng, [V, D]), randn(rng, [D], 0.3), randn(rng, [qkvOut, D], 0.5), randn(rng, [D, H * Dh], 0.5),
    randn(rng, [D], 0.3), randn(rng, [D], 0.3), randn(rng, [2 * F, D], 0.5), randn(rng, [D, F], 0.5),
  ]);
});
