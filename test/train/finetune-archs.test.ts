/**
 * `finetune` works for every architecture: each fixture checkpoint (given a small byte-level BPE
 * tokenizer) is fine-tuned on the source-id task with the cosine regulariser on its hidden states,
 * its training cross-entropy falls, its answer loss on held-out examples falls, and the written
 * model reloads as the same architecture.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openModelSource } from '../../src/io/model-source.ts';
import { trainByteLevelBpe, writeTokenizerFiles } from '../../src/tokenizer-train/train.ts';
import { runFinetune, type SftEval } from '../../src/train/finetune.ts';
import { readMetrics, type TrainRecord } from '../../src/train/metrics-log.ts';
import { fixtureArchs, fixturesDir, skipUnless } from '../helpers/paths.ts';

const root = mkdtempSync(join(tmpdir(), 'linscope-ft-archs-'));
after(() => rmSync(root, { recursive: true, force: true }));

const words = ['the', 'dog', 'ran', 'king', 'said', 'war', 'peace', 'city', 'river', 'story', 'play', 'novel', 'encyclopedia'];
const tokenizer = trainByteLevelBpe([words.join(' '), words.reverse().join(' ')], { vocabSize: 300, minFrequency: 1, modelMaxLength: 128 });

for (const arch of fixtureArchs) {
  const fixture = join(fixturesDir, arch);
  test(`${arch}: finetune lowers the loss and writes a ${arch} model`, { skip: skipUnless(fixture) }, async () => {
    const model = join(root, arch);
    writeTokenizerFiles(model, tokenizer);
    for (const f of ['config.json', 'model.safetensors']) symlinkSync(join(fixture, f), join(model, f));
    const out = join(root, `${arch}-ft`);
    const r = await runFinetune({ model, task: 'source-id', outDir: out, steps: 6, batchSize: 8, lr: 3e-3, warmupSteps: 0, trainExamples: 8, evalExamples: 8, maxLen: 48, regularizer: { kind: 'cosine', lambda: 0.1 }, quiet: true });
    const train = readMetrics(join(out, 'metrics.jsonl')).filter((x): x is TrainRecord => x.type === 'train');
    assert.equal(train.length, 6);
    assert.ok(train[0].reg > 0);
    assert.ok(train[5].ce < train[0].ce, `training loss ${train[0].ce} → ${train[5].ce}`);
    const [before, after] = [r.before as SftEval, r.after as SftEval];
    assert.ok(after.answerLoss < before.answerLoss, `answer loss ${before.answerLoss} → ${after.answerLoss}`);
    const saved = await openModelSource(r.modelDir);
    assert.equal(saved.config.model_type, arch);
  });
}
