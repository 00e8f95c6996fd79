/**
 * Shared fixtures of the pretraining tests: a temporary folder, a small repetitive corpus a tiny model
 * learns from, and a pretraining config that runs a step in milliseconds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePretrainConfig, type PretrainConfig } from '../../src/train/pretrain-config.ts';

/** Runs `fn` in a fresh temporary folder that is removed afterwards. */
export async function withTmp<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-robust-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A small repetitive corpus a tiny model learns from; returns the file path. */
export function writeCorpus(dir: string, name = 'stories.txt'): string {
  const names = ['Tom', 'Anna', 'Ben', 'Lily', 'Max'];
  const things = ['ball', 'cat', 'tree', 'cake', 'boat'];
  const paragraphs: string[] = [];
  for (let i = 0; i < 60; i++) {
    const n = names[i % 5], t = things[(i * 3) % 5];
    paragraphs.push(`${n} had a red ${t}. ${n} liked the ${t} very much. One day ${n} gave the ${t} to a friend.`);
  }
  const path = join(dir, name);
  writeFileSync(path, paragraphs.join('\n\n'));
  return path;
}

/** A pretraining config that runs a step in milliseconds. */
export function tinyPretrainConfig(steps: number, extra: Record<string, unknown> = {}): PretrainConfig {
  return parsePretrainConfig({
    model: { hiddenSize: 16, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 32 },
    tokenizer: { vocabSize: 300, minFrequency: 1 },
    seqLen: 16, batchSize: 4, steps,
    optimizer: { lr: 1e-2, minLr: 1e-3, warmupSteps: 2, weightDecay: 0.01 },
    seed: 7,
    data: { validationFraction: 0.1 },
    eval: { every: 0, batches: 1 },
    linearity: { every: 0, batches: 1 },
    checkpoint: { every: 0 },
    ...extra,
  });
}
