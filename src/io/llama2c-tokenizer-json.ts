/**
 * A llama2.c tokenizer (`tok*.bin`, src/io/llama2c-tokenizer.ts) as the Hugging Face files of the
 * same tokenizer: `tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`, laid out as
 * transformers' own LlamaTokenizerFast (SentencePiece BPE, legacy normaliser):
 *
 * - normaliser: prepend "▁" to non-empty text, replace " " by "▁" (llama2.c's dummy-prefix " "
 *   token and its pieces, whose "▁" the llama2.c exporter turned into spaces);
 * - BPE model with `byte_fallback` (a character not in the vocabulary becomes its UTF-8 bytes
 *   `<0xXX>`, ids 3…258, as llama2.c's encode does);
 * - merges: every split of every mergeable piece into two vocabulary pieces, ranked by the score of
 *   the merged piece, highest first (llama2.c merges the adjacent pair whose concatenation scores
 *   highest; transformers' SentencePiece converter builds its merges the same way);
 * - specials: id 0 `<unk>`, 1 `<s>` (BOS, prepended), 2 `</s>` (llama2.c stores them as "<unk>",
 *   "\n<s>\n", "\n</s>\n"); decoder as LlamaTokenizerFast's.
 *
 * Same ids for the same text as `Llama2cTokenizer.encode`, checked on every line of the shipped
 * TinyStories texts (test/io/llama2c-tokenizer-json.test.ts).
 */
import type { Llama2cTokenizer } from './llama2c-tokenizer.ts';

const SPECIALS = ['<unk>', '<s>', '</s>'] as const;
const BYTE_PIECES = 256;

/** The three Hugging Face tokenizer files of a llama2.c tokenizer, as JSON records by file name. */
export function llama2cTokenizerFiles(tok: Llama2cTokenizer, modelMaxLength = 2048): Record<string, Record<string, unknown>> {
  const vocab: Record<string, number> = Object.create(null); // no inherited keys ("constructor" is a possible piece)
  const piece = (id: number): string => tok.idToToken(id)!.replaceAll(' ', '▁');
  SPECIALS.forEach((s, id) => (vocab[s] = id));
  for (let id = SPECIALS.length; id < tok.vocabSize; id++) {
    const p = piece(id);
    if (p in vocab) throw new Error(`llama2.c tokenizer: piece ${JSON.stringify(p)} appears twice (ids ${vocab[p]} and ${id}); cannot write tokenizer.json`);
    vocab[p] = id;
  }
  const firstMergeable = SPECIALS.length + BYTE_PIECES;
  const merges: { left: string; right: string; score: number; id: number; cut: number }[] = [];
  for (let id = firstMergeable; id < tok.vocabSize; id++) {
    const chars = [...piece(id)];
    for (let cut = 1; cut < chars.length; cut++) {
      const left = chars.slice(0, cut).join('');
      const right = chars.slice(cut).join('');
      const l = vocab[left];
      const r = vocab[right];
      // byte pieces never merge (llama2.c concatenates their text, "<0xXX>", which is no piece)
      if (l !== undefined && r !== undefined && l >= firstMergeable && r >= firstMergeable) {
        merges.push({ left, right, score: tok.score(id), id, cut });
      }
    }
  }
  merges.sort((a, b) => b.score - a.score || a.id - b.id || a.cut - b.cut);

  const added = SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const bos = { SpecialToken: { id: '<s>', type_id: 0 } };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true,
      vocab, merges: merges.map((m) => `${m.left} ${m.right}`),
    },
  };
  const tokenizerConfig = {
    tokenizer_class: 'LlamaTokenizerFast',
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    pad_token: null,
    add_bos_token: true,
    add_eos_token: false,
    legacy: true,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
  };
  const specialTokensMap = { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' };
  return { 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': tokenizerConfig, 'special_tokens_map.json': specialTokensMap };
}
