/**
 * Fuzz: `config.json` of real fixture models (GPT-2, Llama, OPT, BLOOM) under thousands of JSON
 * value swaps, numeric changes, truncations and byte damage, each loaded beside the model's real
 * weights and run on a few tokens. Accepted configs must give logits of the right shape that are
 * all finite: a config that silently turns the model into NaNs is not a correct load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openModelSource } from '../../src/io/model-source.ts';
import { DecoderModel } from '../../src/models/decoder.ts';
import { fixturesDir, skipUnless } from '../helpers/paths.ts';
import { fuzz, fuzzDir } from './harness.ts';
import { jsonFileMutator } from './mutate.ts';

const root = fuzzDir('linscope-fuzz-config-');
test.after(() => rmSync(root, { recursive: true, force: true }));

for (const arch of ['gpt2', 'llama', 'opt', 'bloom']) {
  const fixture = join(fixturesDir, arch);
  test(`fuzz: ${arch} config.json (500 mutations)`, { skip: skipUnless(fixture) }, async () => {
    const dir = join(root, arch);
    mkdirSync(dir);
    copyFileSync(join(fixture, 'model.safetensors'), join(dir, 'model.safetensors'));
    const base = readFileSync(join(fixture, 'config.json'));
    const vocab = JSON.parse(base.toString()).vocab_size as number;
    const warn = console.warn;
    console.warn = () => {}; // configs with fewer layers warn about unused tensors, by design
    try {
      const report = await fuzz({
        path: join(dir, 'config.json'),
        files: [dir],
        bases: [base],
        mutate: jsonFileMutator(),
        load: async () => {
          const model = new DecoderModel(await openModelSource(dir), { streaming: true });
          return model.forward([[1, 2, 3, 4]]).logits;
        },
        check: (logits) => {
          if (logits.shape.length !== 3 || logits.shape[1] !== 4 || logits.shape[2] < 1) return `logits of shape [${logits.shape}]`;
          for (const v of logits.data) if (!Number.isFinite(v)) return `non-finite logits (${v}) with vocab ${vocab}`;
          return undefined;
        },
        iterations: 500,
        seed: 31,
      });
      const kinds = [...new Set(report.failures.map((f) => f.replace(/^seed \d+ iteration \d+ \(\d+ bytes\): /, '').slice(0, 160)))];
      assert.deepEqual(kinds.slice(0, 8), [], `${report.failures.length} failures`);
      assert.ok(report.accepted > 50 && report.refused > 100, JSON.stringify({ accepted: report.accepted, refused: report.refused }));
    } finally {
      console.warn = warn;
    }
  });
}
