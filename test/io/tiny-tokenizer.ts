/**
 * A tiny GPT-2-style byte-level BPE tokenizer.json, built here for tests (the shared fixtures ship
 * no tokenizer files). Ids: 0 `<s>`, 1 `</s>`, 2 `<pad>`, 3..258 the 256 byte symbols, then merges.
 */

/** GPT-2's reversible byte -> printable character table. */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + extra++);
  }
  return table;
}

export const TINY_MERGES = ['t h', 'th e', 'Ġ the', 'Ġ c', 'Ġc a', 'Ġca t'];

export function tinyTokenizerJson(): object {
  const specials = ['<s>', '</s>', '<pad>'];
  const vocab: Record<string, number> = {};
  specials.forEach((s, i) => (vocab[s] = i));
  byteToUnicode().forEach((ch, b) => (vocab[ch] = 3 + b));
  let next = 3 + 256;
  for (const merge of TINY_MERGES) vocab[merge.replace(' ', '')] = next++;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, vocab, merges: TINY_MERGES,
    },
  };
}

export function tinyTokenizerConfig(): Record<string, unknown> {
  return {
    bos_token: '<s>',
    eos_token: { content: '</s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
    pad_token: '<pad>',
    clean_up_tokenization_spaces: false,
    model_max_length: 128,
  };
}
