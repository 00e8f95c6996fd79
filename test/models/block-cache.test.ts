/**
 * Streaming with a block cache (sequential work: generation): the weights read first stay while
 * they fit in the budget, the rest are read at every use; the tokens equal the in-memory model's.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openModelSource } from '../../src/io/model-source.ts';
import { createModel } from '../../src/models/decoder.ts';
import { generate } from '../../src/models/generate.ts';
import type { WeightSource } from '../../src/models/types.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';

const dir = join(fixturesDir, 'llama');

test('generate streamed with a block cache: same tokens; cached weights read once, the rest every step', { skip: skipUnless(dir) }, async () => {
  const source = await openModelSource(dir);
  const prompts = [[1, 5, 9, 2], [1, 7, 3, 3]];
  const want = generate(createModel(source), prompts, { maxNewTokens: 5 }).sequences;
  const run = (cacheBytes: number) => {
    const reads = new Map<string, number>();
    const count = (name: string) => reads.set(name, (reads.get(name) ?? 0) + 1);
    const counting: WeightSource = Object.create(source, {
      getTensor: { value: (name: string, dtype?: 'float32' | 'float64') => (count(name), source.getTensor(name, dtype)) },
      getStoredTensor: { value: source.getStoredTensor && ((name: string) => (count(name), source.getStoredTensor!(name))) },
    });
    const model = createModel(counting, { streaming: true, cacheBytes });
    assert.deepEqual(generate(model, prompts, { maxNewTokens: 5 }).sequences, want, `cache ${cacheBytes} bytes`);
    return { reads, model };
  };
  const all = run(1e9);
  assert.ok(all.reads.size > 0, 'the weights were read through the counting source');
  for (const [name, n] of all.reads) assert.equal(n, 1, `${name}: read once with a large cache`);
  const none = run(0);
  assert.ok([...none.reads.values()].every((n) => n > 1), 'without a cache every weight is read at each step');
  // a cache of about one block: the first weights read stay, later ones are read again
  const block = all.model.blockWeightNames(0).reduce((s, n) => s + all.model.weightShape(n).reduce((a, b) => a * b, 4), 0);
  const part = run(block + all.model.weightShape(all.model.globalWeightNames()[0]).reduce((a, b) => a * b, 4));
  const once = [...part.reads].filter(([, n]) => n === 1).map(([name]) => name);
  assert.ok(once.length > 0 && once.length < part.reads.size, `some weights cached (${once.length} of ${part.reads.size})`);
});
