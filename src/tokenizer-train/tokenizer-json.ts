/**
 * The Hugging Face files of a byte-level BPE tokenizer: `tokenizer.json` (ByteLevel pre-tokenizer
 * and decoder, BPE model with vocab and merges, special tokens as added tokens, a post-processor
 * that prepends BOS as Llama tokenizers do) and `tokenizer_config.json`.
 */

export interface ByteLevelBpeFiles {
  /** Special tokens, ids 0…k−1 in this order. */
  specialTokens: readonly string[];
  /** Token strings from id k on (base symbols, then merged tokens). */
  tokens: readonly string[];
  merges: readonly (readonly [string, string])[];
  bosToken: string;
  eosToken: string;
  /** Prepend BOS when encoding with special tokens (default true). */
  addBos?: boolean;
  /** tokenizer_config.json's model_max_length. */
  modelMaxLength?: number;
}

/** The tokenizer.json object. */
export function byteLevelTokenizerJson(f: ByteLevelBpeFiles): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  f.specialTokens.forEach((t, i) => (vocab[t] = i));
  f.tokens.forEach((t, i) => {
    if (t in vocab) throw new Error(`tokenizer: token ${JSON.stringify(t)} appears twice in the vocabulary`);
    vocab[t] = f.specialTokens.length + i;
  });
  const bosId = vocab[f.bosToken];
  if (bosId === undefined || !f.specialTokens.includes(f.bosToken)) throw new Error(`tokenizer: BOS token ${JSON.stringify(f.bosToken)} is not a special token`);
  if (!f.specialTokens.includes(f.eosToken)) throw new Error(`tokenizer: EOS token ${JSON.stringify(f.eosToken)} is not a special token`);
  const addBos = f.addBos ?? true;
  const bos = { SpecialToken: { id: f.bosToken, type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: f.specialTokens.map((content, id) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [...(addBos ? [bos] : []), { Sequence: { id: 'A', type_id: 0 } }],
      pair: [...(addBos ? [bos] : []), { Sequence: { id: 'A', type_id: 0 } }, ...(addBos ? [{ SpecialToken: { id: f.bosToken, type_id: 1 } }] : []), { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: addBos ? { [f.bosToken]: { id: f.bosToken, ids: [bosId], tokens: [f.bosToken] } } : {},
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab, merges: f.merges.map(([a, b]) => [a, b]),
    },
  };
}

/** The tokenizer_config.json object. */
export function byteLevelTokenizerConfig(f: ByteLevelBpeFiles): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: f.bosToken,
    eos_token: f.eosToken,
    add_bos_token: f.addBos ?? true,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: f.modelMaxLength ?? 2048,
  };
}
