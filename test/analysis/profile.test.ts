import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anisotropy, meanCosineSimilarity } from '../../src/analysis/anisotropy.ts';
import { residualStates } from '../../src/analysis/hidden-states.ts';
import { worstTokens } from '../../src/analysis/linear-fit.ts';
import { LinearityAccumulator } from '../../src/analysis/linearity-accumulator.ts';
import { LinearityProfileAccumulator } from '../../src/analysis/linearity-profile.ts';
import { backend } from '../../src/backend/index.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

/** A toy residual stream: h ← h + attn(h), h ← h + mlp(h), with nonlinear parts. */
function toyForward(rng: Rng, tokens: number, d: number, blocks: number, parallel = false) {
  const weights = Array.from({ length: blocks }, () => [rng.randn([d, d], 0.5 / Math.sqrt(d), 'float64'), rng.randn([d, d], 0.8 / Math.sqrt(d), 'float64')]);
  return () => {
    const h0 = rng.randn([tokens, d], 1, 'float64');
    for (let r = 0; r < tokens; r++) h0.data[r * d] += 30; // a large common offset
    const states = [h0];
    const attnOutputs: Tensor[] = [];
    const mlpOutputs: Tensor[] = [];
    const apply = (x: Float64Array, w: Tensor, f: (v: number) => number) => {
      const out = new Float64Array(tokens * d);
      for (let r = 0; r < tokens; r++) for (let k = 0; k < d; k++) {
        const v = x[r * d + k];
        for (let j = 0; j < d; j++) out[r * d + j] += f(v) * w.data[k * d + j];
      }
      return out;
    };
    for (let b = 0; b < blocks; b++) {
      const x = states[b].data as Float64Array;
      const attn = apply(x, weights[b][0], Math.tanh);
      const mid = x.map((v, i) => v + attn[i]);
      const mlp = apply(parallel ? x : mid, weights[b][1], (v) => v / (1 + Math.exp(-1.7 * v)));
      attnOutputs.push(new Tensor(attn, [tokens, d]));
      mlpOutputs.push(new Tensor(mlp, [tokens, d]));
      states.push(new Tensor(mid.map((v, i) => v + mlp[i]), [tokens, d]));
    }
    return { states, attnOutputs, mlpOutputs };
  };
}

test('profile: every block and part equals a separate LinearityAccumulator over the same forwards', () => {
  const d = 7;
  const L = 3;
  for (const parallel of [false, true]) {
    const forward = toyForward(new Rng(parallel ? 2 : 1), 40, d, L, parallel);
    const forwards = [forward(), forward(), forward()];
    const profile = new LinearityProfileAccumulator({ dim: d, blocks: L, parts: true, chunkRows: 16, mlpInput: parallel ? 'blockInput' : 'afterAttention' });
    for (const f of forwards) profile.add(f);
    const r = profile.result();
    assert.equal(r.tokens, 120);
    assert.equal(r.blocks.length, L);
    for (let b = 0; b < L; b++) {
      const layer = new LinearityAccumulator(d);
      const attention = new LinearityAccumulator(d);
      const mlp = new LinearityAccumulator(d);
      for (const f of forwards) {
        layer.add(f.states[b], f.states[b + 1]);
        attention.addDelta(f.states[b], f.attnOutputs[b]);
        const mlpX = parallel ? f.states[b] : new Tensor((f.states[b].data as Float64Array).map((v, i) => v + f.attnOutputs[b].data[i]), [40, d]);
        mlp.addDelta(mlpX, f.mlpOutputs[b]);
      }
      for (const [name, acc] of [['layer', layer], ['attention', attention], ['mlp', mlp]] as const) {
        const want = acc.result();
        const got = r.blocks[b][name]!;
        for (const v of ['withResidual', 'withoutResidual'] as const) {
          close(got[v].exact, want[v].exact, 1e-11, `parallel=${parallel} block ${b} ${name} ${v}`);
          close(got[v].robust!, want[v].robust!, 1e-9, `parallel=${parallel} block ${b} ${name} ${v} robust`);
        }
      }
    }
    // per-token residuals of a part through the profile's fit
    const fit = profile.fit(1, 'attention');
    for (const part of ['layer', 'attention', 'mlp'] as const) {
      const partFit = profile.fit(1, part);
      const res = forwards.map((f) => profile.residuals(partFit, f, 1, part).residual.reduce((a, c) => a + c, 0));
      close(res.reduce((a, c) => a + c, 0), 1 - r.blocks[1][part]!.withResidual.exact, 1e-10, `Σ per-token residual of ${part}`);
    }
    const worst = worstTokens(profile.residuals(fit, forwards[0], 1, 'attention'), 3, 'relative');
    assert.equal(worst.length, 3);
    assert.ok(worst[0].relative >= worst[1].relative && worst[1].relative >= worst[2].relative);
  }
});

test('profile: tracking a subset of blocks, and anisotropy / mean cosine per state', () => {
  const d = 6;
  const forward = toyForward(new Rng(4), 30, d, 4);
  const f = forward();
  const all = new LinearityProfileAccumulator({ dim: d, blocks: 4 });
  const some = new LinearityProfileAccumulator({ dim: d, blocks: 4, track: [2, 0], anisotropy: false });
  all.add(f);
  some.add(f);
  const ra = all.result();
  const rs = some.result();
  assert.deepEqual(rs.blocks.map((b) => b.block), [0, 2]);
  close(rs.blocks[1].layer.withResidual.exact, ra.blocks[2].layer.withResidual.exact, 1e-13, 'subset');
  assert.ok(rs.anisotropy.every(Number.isNaN), 'no anisotropy when not asked for');
  for (let i = 0; i <= 4; i++) {
    // authors' anisotropy: σ_max² / Σσ² of the centred rows, by SVD
    const x = Float64Array.from(f.states[i].data);
    const mean = new Float64Array(d);
    for (let r = 0; r < 30; r++) for (let j = 0; j < d; j++) mean[j] += x[r * d + j] / 30;
    for (let r = 0; r < 30; r++) for (let j = 0; j < d; j++) x[r * d + j] -= mean[j];
    const { s } = backend().gesdd(x, 30, d, true);
    const want = (s[0] * s[0]) / s.reduce((a, v) => a + v * v, 0);
    close(ra.anisotropy[i], want, 1e-12, `anisotropy state ${i}`);
    close(anisotropy(f.states[i]), want, 1e-12, `anisotropy() state ${i}`);
    // mean cosine over distinct pairs, naively
    let sum = 0;
    const row = (r: number) => Array.from(f.states[i].data.subarray(r * d, r * d + d));
    const norm = (v: number[]) => Math.sqrt(v.reduce((a, c) => a + c * c, 0));
    for (let p = 0; p < 30; p++) for (let q = 0; q < 30; q++) {
      if (p === q) continue;
      const a = row(p);
      const b = row(q);
      sum += a.reduce((acc, v, j) => acc + v * b[j], 0) / (norm(a) * norm(b));
    }
    close(ra.meanCosine[i], sum / (30 * 29), 1e-12, `mean cosine state ${i}`);
    close(meanCosineSimilarity(f.states[i]), sum / (30 * 29), 1e-12, `meanCosineSimilarity() state ${i}`);
  }
});

test('profile: input checks and residualStates', () => {
  const p = new LinearityProfileAccumulator({ dim: 3, blocks: 2, parts: true });
  const t = Tensor.zeros([4, 3]);
  assert.throws(() => p.add({ states: [t, t] }), /expected 3 states/);
  assert.throws(() => p.add({ states: [t, t, t] }), /parts need attnOutputs/);
  assert.throws(() => new LinearityProfileAccumulator({ dim: 3, blocks: 2, track: [2] }), /out of range/);
  const hs = [Tensor.zeros([2, 3]), Tensor.zeros([2, 3]), Tensor.full([2, 3], 1)];
  const pre = Tensor.full([2, 3], 2);
  assert.equal(residualStates({ hiddenStates: hs, preFinalNorm: pre })[2], pre);
  assert.equal(residualStates({ hiddenStates: hs }, 'finalNorm')[2], hs[2]);
  assert.equal(residualStates({ hiddenStates: hs }, 'skip').length, 2);
  assert.throws(() => residualStates({ hiddenStates: hs }), /preFinalNorm/);
});
