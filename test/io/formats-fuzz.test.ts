/**
 * Robustness of the PyTorch and SentencePiece parsers: random byte changes and truncations of the
 * committed fixtures must give either a result or one clear line (an Error naming the file),
 * never a crash of another kind, a hang or a multi-line message. Deterministic (seeded).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorchBinFile } from '../../src/io/torch-bin.ts';
import { parseSentencePieceModel } from '../../src/io/sentencepiece-model.ts';
import { SentencePieceCodec } from '../../src/io/sentencepiece-encode.ts';
import { Rng } from '../../src/tensor/random.ts';
import { repoRoot } from '../helpers/paths.ts';

const data = join(repoRoot, 'test', 'data');

function expectCleanOutcome(where: string, fn: () => void): 'ok' | 'error' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof Error, `${where}: threw a non-Error`);
    assert.ok(!(err instanceof RangeError) && !(err instanceof TypeError), `${where}: ${err.constructor.name}: ${err.message}`);
    assert.ok(!err.message.includes('\n'), `${where}: multi-line message`);
    assert.ok(err.message.includes(where), `${where}: message does not name the file: ${err.message}`);
    return 'error';
  }
}

test('mutated and truncated torch.save files fail with one clear line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-fuzz-'));
  try {
    const rng = new Rng(5);
    const sources = [join(data, 'torch-bin', 'odd', 'int64.bin'), join(data, 'torch-bin', 'odd', 'legacy.bin'), join(data, 'torch-bin', 'qwen2-sharded', 'pytorch_model-00002-of-00002.bin')];
    const path = join(dir, 'f.bin');
    const seen = { ok: 0, error: 0 };
    for (let k = 0; k < 120; k++) {
      const orig = readFileSync(sources[k % sources.length]);
      const buf = Buffer.from(orig);
      let bytes: Buffer = buf;
      if (k % 5 === 4) bytes = buf.subarray(0, Math.floor(rng.uniform() * buf.length));
      else {
        const changes = 1 + Math.floor(rng.uniform() * 4);
        // aim half the changes at the pickle / headers near the start, where parsing happens
        for (let c = 0; c < changes; c++) buf[Math.floor(rng.uniform() * (rng.uniform() < 0.5 ? Math.min(buf.length, 1200) : buf.length))] = Math.floor(rng.uniform() * 256);
      }
      writeFileSync(path, bytes);
      seen[expectCleanOutcome(path, () => {
        const f = new TorchBinFile(path);
        for (const name of f.names()) {
          try {
            f.readTensor(name);
          } catch (err) {
            if (!/int64|is not a|linscope reads float32/.test((err as Error).message)) throw err;
          }
        }
      })]++;
    }
    assert.ok(seen.error > 20, `only ${seen.error} of 120 mutations were rejected`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mutated SentencePiece models fail with one clear line or still encode', () => {
  const rng = new Rng(9);
  const orig = readFileSync(join(data, 'sentencepiece', 'unigram.model'));
  for (let k = 0; k < 100; k++) {
    const buf = Buffer.from(orig);
    for (let c = 0; c < 3; c++) buf[Math.floor(rng.uniform() * buf.length)] = Math.floor(rng.uniform() * 256);
    const bytes = k % 4 === 3 ? buf.subarray(0, Math.floor(rng.uniform() * buf.length)) : buf;
    expectCleanOutcome('m.model', () => new SentencePieceCodec(parseSentencePieceModel(bytes, 'm.model'), 'm.model').encode('Once upon a time, 42 cats.'));
  }
});
