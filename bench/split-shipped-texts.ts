/**
 * Writes the training and held-out parts of the shipped TinyStories subset exactly as
 * `linscope pretrain` splits them (the last 5 % of the documents held out), for evaluations of
 * pretrained models on text they never saw (bench/RESULTS-prune-p5m.md).
 *
 *   node --import tsx bench/split-shipped-texts.ts [OUT_DIR=out]
 *   → OUT_DIR/tinystories-train-part.txt, OUT_DIR/tinystories-heldout.txt (documents joined by blank lines)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitSources } from '../src/train/corpus.ts';
import { defaultPretrainSources } from '../src/train/shipped-data.ts';

async function main(): Promise<void> {
  const out = process.argv[2] ?? 'out';
  mkdirSync(out, { recursive: true });
  const split = await splitSources(defaultPretrainSources(), 0.05);
  const stories = split.find((s) => s.name === 'tinystories');
  if (!stories) throw new Error('the shipped sources have no "tinystories" corpus');
  writeFileSync(join(out, 'tinystories-train-part.txt'), stories.train.join('\n\n'));
  writeFileSync(join(out, 'tinystories-heldout.txt'), stories.validation.join('\n\n'));
  console.log(`${stories.train.length} training and ${stories.validation.length} held-out stories written to ${out}/`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
