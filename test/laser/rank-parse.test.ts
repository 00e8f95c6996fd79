import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keptRank } from '../../src/laser/rank.ts';
import { parseIntervention, parseInterventions } from '../../src/laser/parse.ts';
import { formatInterventions, PAPER_RHOS } from '../../src/laser/types.ts';

test('keptRank is ⌊ρ·min(m,n)⌋, at least 1', () => {
  assert.equal(keptRank(0.01, 4096, 16384), 40);
  assert.equal(keptRank(0.1, 768, 3072), 76);
  assert.equal(keptRank(0.005, 64, 256), 1); // ⌊0.32⌋ = 0 → 1
  assert.equal(keptRank(1, 10, 20), 10);
  assert.equal(keptRank(0.29, 100, 100), 29); // 0.29·100 = 28.999…96 in binary
  assert.throws(() => keptRank(0, 4, 4), /\(0, 1\]/);
  assert.throws(() => keptRank(1.5, 4, 4), /\(0, 1\]/);
});

test("keptRank 'authors' reproduces int(min·(10 − rate)·0.1)", () => {
  // (10 − 9.9)·0.1·1600 = 15.99999… → 15, one less than the exact 16
  assert.equal(keptRank(0.01, 1600, 6400, 'authors'), 15);
  assert.equal(keptRank(0.01, 1600, 6400), 16);
  for (const rho of PAPER_RHOS) assert.equal(keptRank(rho, 4096, 11008, 'authors'), keptRank(rho, 4096, 11008));
});

test('parse compact interventions', () => {
  assert.deepEqual(parseInterventions('out:5:0.01,in:3:0.1'), [
    { type: 'out', layer: 5, rho: 0.01 },
    { type: 'in', layer: 3, rho: 0.1 },
  ]);
  assert.deepEqual(parseIntervention('q:-1:0.5', 12), { type: 'q', layer: 11, rho: 0.5 });
  assert.equal(formatInterventions(parseInterventions(' out:5:0.01 , in:3:0.1 ')), 'out:5:0.01,in:3:0.1');
  assert.deepEqual(parseInterventions(''), []);
  assert.throws(() => parseIntervention('mlp:1:0.1'), /unknown matrix type "mlp"/);
  assert.throws(() => parseIntervention('q:1'), /type:layer:rho/);
  assert.throws(() => parseIntervention('q:x:0.1'), /not an integer/);
  assert.throws(() => parseIntervention('q:1:2'), /\(0, 1\]/);
  assert.throws(() => parseIntervention('q:12:0.1', 12), /out of range/);
});

import { parseLayers, parseRhos, parseTypes } from '../../src/laser/parse.ts';

test('parse layer, ρ and type lists', () => {
  assert.deepEqual(parseLayers('all', 4), [3, 2, 1, 0]);
  assert.deepEqual(parseLayers('last:2', 4), [3, 2]);
  assert.deepEqual(parseLayers('3-1', 4), [3, 2, 1]);
  assert.deepEqual(parseLayers('0,-1,1-2', 4), [0, 3, 1, 2]);
  assert.throws(() => parseLayers('5', 4), /out of range/);
  assert.deepEqual(parseRhos('0.9, 0.01'), [0.9, 0.01]);
  assert.throws(() => parseRhos('0'), /\(0, 1\]/);
  assert.deepEqual(parseTypes('in,out'), ['in', 'out']);
  assert.throws(() => parseTypes('fc'), /unknown matrix type/);
});
