/**
 * The reward-model export as Hugging Face transformers 4.42 reads it, checked without transformers:
 * LlamaForSequenceClassification's state-dict names (the body under `model.`, `score.weight`
 * [1, d], no lm_head when tied), its config fields (architectures, num_labels, pad_token_id), and its
 * pooling rule written out here from transformers' code —
 *   sequence_lengths = (argmax(input_ids == pad_token_id) − 1) mod T
 * — applied to a right-padded batch of the export reloaded by linscope, which must give the rewards
 * linscope trained with. A tokenizer whose BOS is its EOS (byte-level BPE, `<|endoftext|>` = 0) gets
 * a `<pad>` token (src/train/reward-pad-token.ts); a pad id that occurs in the texts is never written.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { noGrad } from '../../src/autograd/index.ts';
import { openModelSource } from '../../src/io/model-source.ts';
import { loadHFTokenizer } from '../../src/io/tokenizer.ts';
import { Rng } from '../../src/tensor/random.ts';
import { hfConfig, type ModelShape } from '../../src/train/model-shape.ts';
import { initRewardHead, loadRewardHead, pairBatch, rewards, saveRewardModel } from '../../src/train/reward-model.ts';
import { ADDED_PAD_TOKEN, padTokenFiles, rewardPadding } from '../../src/train/reward-pad-token.ts';
import { TrainableModel } from '../../src/train/trainable-model.ts';
import { trainByteLevelBpe, writeTokenizerFiles } from '../../src/tokenizer-train/train.ts';

/** The safetensors header, read here from the file format (u64 length + JSON). */
function readHeader(path: string): Record<string, { shape: number[] }> {
  const buf = readFileSync(path);
  return JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString('utf8'));
}

const root = mkdtempSync(join(tmpdir(), 'linscope-reward-layout-'));
after(() => rmSync(root, { recursive: true, force: true }));

const texts = [
  'Human: what is a cat? Assistant: a small animal.',
  'Human: what is a cat? Assistant: no idea',
  'Human: name a colour. Assistant: blue, or red, or green.',
  'Human: name a colour. Assistant: colour',
];
const V = 270;
const shape: ModelShape = { vocabSize: V, hiddenSize: 16, intermediateSize: 32, numLayers: 2, numHeads: 2, maxPositions: 64, initializerRange: 0.2, bosTokenId: 0, eosTokenId: 0 };

/** transformers 4.42's pooled position of each row (LlamaForSequenceClassification.forward). */
function hfPooledPositions(ids: Int32Array, B: number, T: number, pad: number): number[] {
  return Array.from({ length: B }, (_, b) => {
    let first = 0; // argmax of an all-false row is 0
    for (let t = 0; t < T; t++) if (ids[b * T + t] === pad) { first = t; break; }
    return (((first - 1) % T) + T) % T;
  });
}

test('BOS = EOS tokenizer: the export adds <pad>, has HF LlamaForSequenceClassification\'s names and fields, and HF\'s pooling of a right-padded batch gives linscope\'s rewards', async () => {
  const tokDir = join(root, 'tok');
  writeTokenizerFiles(tokDir, trainByteLevelBpe(texts, { vocabSize: V, minFrequency: 1 }));
  const tokenizer = loadHFTokenizer(tokDir)!;
  const seqs = texts.map((t) => tokenizer.encode(t));
  assert.ok(seqs.every((s) => s[0] === 0), 'the tokenizer prepends <|endoftext|> = 0 (also its EOS)');
  // the old rule (pad = EOS = 0) would make transformers pool position T − 1 of every row: a pad token's state for the shorter ones
  const old = pairBatch([{ chosen: seqs[0], rejected: seqs[1] }, { chosen: seqs[2], rejected: seqs[3] }], 0);
  assert.notDeepEqual(hfPooledPositions(old.inputs, old.batch, old.seqLen, 0), Array.from(old.lastIndex, (i) => i % old.seqLen));

  const model = TrainableModel.initialize(hfConfig(shape), new Rng(11));
  const head = initRewardHead(model, new Rng(12));
  const dir = join(root, 'reward');
  const padding = saveRewardModel(dir, model, head, tokDir, seqs);
  assert.equal(padding.added, true);
  assert.equal(padding.padId, V);
  assert.match(padding.reason, /occurs inside the tokenized texts.*added "<pad>" as token 270/);

  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['LlamaForSequenceClassification']);
  assert.equal(config.num_labels, 1);
  assert.equal(config.vocab_size, V + 1);
  assert.equal(config.pad_token_id, V);
  assert.equal(config.bos_token_id, 0);
  assert.equal(config.eos_token_id, 0);
  assert.equal(config.tie_word_embeddings, true);

  // LlamaForSequenceClassification's state dict: model.* body, score.weight, no lm_head (tied)
  const header = readHeader(join(dir, 'model.safetensors'));
  const names = Object.keys(header).filter((n) => n !== '__metadata__').sort();
  const layer = (i: number) => ['input_layernorm.weight', 'post_attention_layernorm.weight', 'self_attn.q_proj.weight', 'self_attn.k_proj.weight',
    'self_attn.v_proj.weight', 'self_attn.o_proj.weight', 'mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight'].map((n) => `model.layers.${i}.${n}`);
  assert.deepEqual(names, ['model.embed_tokens.weight', 'model.norm.weight', 'score.weight', ...layer(0), ...layer(1)].sort());
  assert.deepEqual(header['score.weight'].shape, [1, 16]);
  assert.deepEqual(header['model.embed_tokens.weight'].shape, [V + 1, 16]);

  const source = await openModelSource(dir);
  const back = TrainableModel.fromSource(source);
  const emb = source.getTensor('model.embed_tokens.weight', 'float32').data;
  const orig = model.namedTensors()['model.embed_tokens.weight'].data;
  assert.deepEqual(Array.from(emb.subarray(0, V * 16)), Array.from(orig));
  assert.ok(Array.from(emb.subarray(V * 16)).every((x) => x === 0), 'the <pad> row is zero');

  // the tokenizer: <pad> is token V and the pad token; the texts encode as before
  const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  assert.deepEqual(tok.added_tokens.at(-1), { id: V, content: ADDED_PAD_TOKEN, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  assert.equal(JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')).pad_token, ADDED_PAD_TOKEN);
  const backTok = (await source.tokenizer())!;
  assert.equal(backTok.padId, V);
  assert.deepEqual(texts.map((t) => backTok.encode(t)), seqs);

  // HF's pooling of a right-padded batch of the reloaded export = linscope's rewards of the original
  const want = noGrad(() => Array.from(rewards(model, head, pairBatch([{ chosen: seqs[0], rejected: seqs[1] }, { chosen: seqs[2], rejected: seqs[3] }], 0)).rewards.value.data));
  const b = pairBatch([{ chosen: seqs[0], rejected: seqs[1] }, { chosen: seqs[2], rejected: seqs[3] }], V);
  const pooled = hfPooledPositions(b.inputs, b.batch, b.seqLen, V);
  assert.deepEqual(pooled, seqs.map((s) => s.length - 1));
  const score = loadRewardHead(source, back)!.value.data;
  const normed = noGrad(() => back.forward(b.inputs, b.batch, b.seqLen).normed.value.data);
  pooled.forEach((t, row) => {
    let r = 0;
    for (let j = 0; j < 16; j++) r += score[j] * normed[(row * b.seqLen + t) * 16 + j];
    assert.ok(Math.abs(r - want[row]) < 1e-5, `row ${row}: ${r} vs ${want[row]}`);
  });
});

test('pad id: the model\'s pad token, else its EOS, when it occurs in no sequence; else a <pad> token, or a refusal without tokenizer.json', () => {
  const seqs = [[1, 5, 6], [1, 7]];
  assert.deepEqual(rewardPadding({ pad_token_id: 3, eos_token_id: 2, vocab_size: 10 }, seqs), { padId: 3, added: false, reason: 'pad_token_id 3 (the model\'s pad token) occurs in none of the scored sequences' });
  assert.equal(rewardPadding({ pad_token_id: 5, eos_token_id: 2, vocab_size: 10 }, seqs).padId, 2);
  assert.deepEqual([rewardPadding({ eos_token_id: 1, vocab_size: 10 }, seqs).padId, rewardPadding({ eos_token_id: 1, vocab_size: 10 }, seqs).added], [10, true]);
  assert.equal(rewardPadding({ vocab_size: 10 }, seqs).added, true);
  assert.throws(() => padTokenFiles(undefined, 10, 10), /no tokenizer\.json to add a pad token to.*refusing to export/);
});
