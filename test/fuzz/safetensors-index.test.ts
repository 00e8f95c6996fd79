/**
 * Fuzz: `model.safetensors.index.json` of a sharded checkpoint written here (three shards), under
 * thousands of JSON value swaps, numeric changes, truncations and byte damage. A load opens the
 * index and reads every tensor it lists; an accepted index must only name shard files inside the
 * checkpoint folder, and every tensor read must come from the shard the index names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openShardedSafetensors } from '../../src/io/safetensors-sharded.ts';
import { writeShardedSafetensors } from '../../src/io/safetensors-write.ts';
import { Rng } from '../../src/tensor/random.ts';
import { fuzz, fuzzDir } from './harness.ts';
import { jsonFileMutator } from './mutate.ts';

const dir = fuzzDir('linscope-fuzz-index-');
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('fuzz: model.safetensors.index.json (2500 mutations)', async () => {
  const rng = new Rng(3);
  const tensors: Record<string, ReturnType<Rng['randn']>> = {};
  for (let i = 0; i < 6; i++) tensors[`model.layers.${i}.mlp.down_proj.weight`] = rng.randn([4, 4], 1);
  const { indexPath, files } = writeShardedSafetensors(dir, tensors, { maxShardBytes: 150 });
  assert.ok(indexPath && files.length >= 3);
  const base = readFileSync(indexPath);
  const shards = files.map((f) => join(dir, f));
  const report = await fuzz({
    path: indexPath,
    files: shards,
    bases: [base],
    mutate: jsonFileMutator(),
    load: (path) => {
      const reader = openShardedSafetensors(path);
      const index = JSON.parse(readFileSync(path, 'utf8'));
      let n = 0;
      for (const name of reader.names()) n += reader.readTensor(name).size;
      return { names: reader.names(), map: index.weight_map as Record<string, string>, n };
    },
    check: ({ names, map }) => {
      for (const name of names) {
        const file = map[name];
        if (!files.includes(file)) return `"${name}" read from "${file}", not a shard of the checkpoint`;
      }
      return undefined;
    },
    iterations: 2500,
    seed: 21,
  });
  assert.deepEqual(report.failures.slice(0, 5), [], `${report.failures.length} failures`);
  assert.ok(report.accepted > 50 && report.refused > 500, JSON.stringify({ accepted: report.accepted, refused: report.refused }));
});
