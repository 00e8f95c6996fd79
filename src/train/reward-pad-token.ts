/**
 * The pad token of a reward-model export, chosen so that Hugging Face transformers computes the same
 * reward as linscope for padded batches too.
 *
 * transformers' `<Arch>ForSequenceClassification` (4.42: LlamaForSequenceClassification.forward,
 * GPT2ForSequenceClassification.forward) pools the logits of the token just before the FIRST
 * occurrence of `config.pad_token_id` in `input_ids`:
 *
 *   sequence_lengths = (argmax(input_ids == pad_token_id) − 1) mod T
 *
 * linscope's reward is the score of the last real token (reward-model.ts). The two agree for every
 * padding side only if the pad id never occurs inside a real sequence. A tokenizer whose BOS is also
 * its EOS (the pretraining recipe's byte-level BPE: `<|endoftext|>` = 0 for both) puts that id first
 * in every sequence, so `pad_token_id = eos_token_id` makes transformers pool position T − 1: the
 * right answer without padding, a padding token's state in a right-padded batch.
 *
 * Rule: the first of config.pad_token_id, config.eos_token_id that occurs in none of the tokenized
 * sequences is the pad id. Otherwise a pad token is added, as transformers users do
 * (`tokenizer.add_special_tokens({"pad_token": "<pad>"})` + `resize_token_embeddings`): id = the old
 * vocab_size, a zero row appended to the token embedding (and to an untied LM head), `<pad>` added to
 * tokenizer.json's added_tokens and named pad_token in tokenizer_config.json / special_tokens_map.json.
 * A tokenizer without tokenizer.json cannot get the token: the export is refused, never saved with a
 * pad id transformers would pool differently.
 */
import { readFileSync } from 'node:fs';
import { Tensor } from '../tensor/tensor.ts';
import { tokenizerFilesFor } from '../export/tokenizer-files.ts';

export const ADDED_PAD_TOKEN = '<pad>';

export interface RewardPadding {
  padId: number;
  /** A `<pad>` token was added at id = the old vocab_size. */
  added: boolean;
  /** One line saying why. */
  reason: string;
}

/** The export's pad id for sequences tokenized as linscope scored them (see the module comment). */
export function rewardPadding(config: Record<string, unknown>, sequences: Iterable<readonly number[]>): RewardPadding {
  const seen = new Set<number>();
  for (const s of sequences) for (const id of s) seen.add(id);
  const candidates = [...new Set([config.pad_token_id, config.eos_token_id].filter((x): x is number => typeof x === 'number'))];
  for (const id of candidates) {
    if (!seen.has(id)) return { padId: id, added: false, reason: `pad_token_id ${id} (${id === config.pad_token_id ? 'the model\'s pad token' : 'its EOS'}) occurs in none of the scored sequences` };
  }
  const V = config.vocab_size;
  if (typeof V !== 'number') throw new Error('the model config has no vocab_size: cannot add the pad token the reward export needs');
  const why = candidates.length === 0
    ? 'the model config has neither pad_token_id nor eos_token_id'
    : `token id${candidates.length > 1 ? 's' : ''} ${candidates.join(', ')} (${candidates.length > 1 ? 'pad and EOS' : 'EOS'}) occur${candidates.length > 1 ? '' : 's'} inside the tokenized texts (e.g. as their BOS)`;
  return {
    padId: V, added: true,
    reason: `${why}, and transformers pools the token before the first pad_token_id: added "${ADDED_PAD_TOKEN}" as token ${V} (zero embedding row) and made it pad_token_id`,
  };
}

/**
 * The token embedding (and an untied LM head) with one zero row appended: every 2-D tensor with
 * `vocabSize` rows. A tensor of that shape whose name is not an embedding or head is refused.
 */
export function withPadRow(tensors: Record<string, Tensor>, vocabSize: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.shape.length !== 2 || t.shape[0] !== vocabSize) continue;
    if (!/(embed|wte|lm_head|embed_out)/.test(name)) {
      throw new Error(`cannot tell whether "${name}" [${t.shape.join(', ')}] is indexed by token id: refusing to add the reward export's pad token`);
    }
    const cols = t.shape[1];
    const data = new Float32Array((vocabSize + 1) * cols);
    data.set(t.to('float32').data as Float32Array);
    out[name] = new Tensor(data, [vocabSize + 1, cols]);
  }
  if (Object.keys(out).length === 0) throw new Error(`no token embedding with ${vocabSize} rows: cannot add the reward export's pad token`);
  return out;
}

/**
 * tokenizer.json, tokenizer_config.json (and special_tokens_map.json when the source has one) of
 * `tokenizerDir` with `<pad>` added at `padId` and named the pad token; these replace the copied files.
 */
export function padTokenFiles(tokenizerDir: string | undefined, vocabSize: number, padId: number): Record<string, string> {
  const files = tokenizerFilesFor(tokenizerDir, vocabSize);
  const text = (name: string): string | undefined =>
    files.write[name] ?? (files.copy[name] ? readFileSync(files.copy[name], 'utf8') : undefined);
  const tokJson = text('tokenizer.json');
  if (tokJson === undefined) {
    throw new Error(`the tokenizer of ${tokenizerDir ?? 'this model'} has no tokenizer.json to add a pad token to, and its EOS occurs inside the texts: refusing to export a reward model that transformers would pool differently in padded batches`);
  }
  const tok = JSON.parse(tokJson) as { added_tokens?: { id: number; content: string }[]; model?: { vocab?: unknown } };
  const vocab = tok.model?.vocab;
  const taken = (s: string) =>
    (tok.added_tokens ?? []).some((a) => a.content === s) ||
    (Array.isArray(vocab) ? vocab.some((v) => Array.isArray(v) && v[0] === s) : vocab !== null && typeof vocab === 'object' && s in vocab);
  if (taken(ADDED_PAD_TOKEN)) throw new Error(`the tokenizer already has a token "${ADDED_PAD_TOKEN}" that is not its pad token: refusing to add the reward export's pad token`);
  const entry = { content: ADDED_PAD_TOKEN, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  tok.added_tokens = [...(tok.added_tokens ?? []), { id: padId, ...entry }];
  const out: Record<string, string> = { 'tokenizer.json': `${JSON.stringify(tok, null, 2)}\n` };
  const cfgText = text('tokenizer_config.json');
  const cfg = (cfgText ? JSON.parse(cfgText) : {}) as Record<string, unknown>;
  cfg.pad_token = ADDED_PAD_TOKEN;
  if (cfg.added_tokens_decoder && typeof cfg.added_tokens_decoder === 'object') {
    (cfg.added_tokens_decoder as Record<string, unknown>)[String(padId)] = entry;
  }
  out['tokenizer_config.json'] = `${JSON.stringify(cfg, null, 2)}\n`;
  const mapText = text('special_tokens_map.json');
  if (mapText) out['special_tokens_map.json'] = `${JSON.stringify({ ...JSON.parse(mapText), pad_token: ADDED_PAD_TOKEN }, null, 2)}\n`;
  return out;
}
