import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward, param } from '../../src/autograd/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { consecutiveStatePenalty, weightedPenalty } from '../../src/train/regularizer.ts';

// three states of 2 tokens in d = 2
const H = [
  [[1, 0], [0, 2]],
  [[1, 1], [0, 3]],
  [[0, 1], [3, 4]],
];
const states = () => H.map((h, i) => param(Tensor.from(h.flat(), [1, 2, 2]), `h${i}`));

test('cosine penalty = Σ over consecutive pairs of the token-mean of 1 − cos (hand computed)', () => {
  // pair 0→1: token 0 cos((1,0),(1,1)) = 1/√2; token 1 cos((0,2),(0,3)) = 1
  // pair 1→2: token 0 cos((1,1),(0,1)) = 1/√2; token 1 cos((0,3),(3,4)) = 12/15 = 0.8
  const expected = ((1 - Math.SQRT1_2) + 0) / 2 + ((1 - Math.SQRT1_2) + (1 - 0.8)) / 2;
  const r = consecutiveStatePenalty(states(), 'cosine')!;
  assert.ok(Math.abs(r.item() - expected) < 1e-6, `${r.item()} vs ${expected}`);
  const w = weightedPenalty(states(), { kind: 'cosine', lambda: 0.5 })!;
  assert.ok(Math.abs(w.penalty.item() - 0.5 * expected) < 1e-6);
  assert.ok(Math.abs(w.raw.item() - expected) < 1e-6);
});

test('mse penalty = Σ over pairs of the mean squared difference (hand computed)', () => {
  // pair 0→1: diffs (0,1),(0,1) → 2/4; pair 1→2: (1,0),(3,1) → (1 + 9 + 1)/4
  const expected = 2 / 4 + 11 / 4;
  assert.ok(Math.abs(consecutiveStatePenalty(states(), 'mse')!.item() - expected) < 1e-6);
});

test('cosine penalty gradient: ∂/∂h of the middle state gets contributions from both pairs', () => {
  const s = states();
  backward(consecutiveStatePenalty(s, 'cosine')!);
  // token 1 of h1 = (0, 3): pair 0→1 has cos = 1 with (0,2) (gradient ⟂ component is 0); pair 1→2 with b = (3,4):
  // ∂(1 − cos)/∂a = −(b/(|a||b|) − cos·a/|a|²) = −((3,4)/15 − 0.8·(0,3)/9), times 1/2 for the token mean
  const g = s[1].grad!.data;
  const expected = [-(3 / 15) / 2, -(4 / 15 - (0.8 * 3) / 9) / 2];
  assert.ok(Math.abs(g[2] - expected[0]) < 1e-6 && Math.abs(g[3] - expected[1]) < 1e-6, `${g[2]}, ${g[3]}`);
});

test("'none' and λ = 0 add nothing", () => {
  assert.equal(consecutiveStatePenalty(states(), 'none'), null);
  assert.equal(weightedPenalty(states(), { kind: 'cosine', lambda: 0 }), null);
  assert.throws(() => consecutiveStatePenalty(states().slice(0, 1), 'cosine'), /at least 2 states/);
});
