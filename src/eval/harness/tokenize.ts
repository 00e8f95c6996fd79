/**
 * Turning a (context, continuation) request into token ids the way lm-evaluation-harness's
 * Hugging Face model does (lm_eval/api/model.py TemplateLM._encode_pair / loglikelihood and
 * lm_eval/models/huggingface.py _loglikelihood_tokens, harness commit 4e7e0d47):
 *
 * - trailing whitespace of the context moves to the front of the continuation;
 * - context + continuation is encoded jointly, the context alone, and the continuation tokens are
 *   the joint tokens after the first len(context tokens) — the model input is then
 *   context_enc ++ continuation_enc (not necessarily the joint tokenization);
 * - both encodings add the tokenizer's special tokens as it does by default (BOS for Llama-style
 *   tokenizers, nothing for GPT-2) unless the text already starts with the BOS token's text;
 * - an empty context becomes the prefix token (BOS, else EOS);
 * - the scored window is (context ++ continuation)[-(max_length + 1):][:-1]: long inputs lose
 *   tokens on the left.
 */
import type { EvalTokenizer } from '../model-api.ts';

export interface EncodedRequest {
  context: number[];
  continuation: number[];
}

/** The tokenizer as the harness uses it (encode with its default special tokens, decode one token). */
export interface HarnessTokenizer extends EvalTokenizer {
  bosId?: number;
  eosId?: number;
}

function prefixTokenId(tok: HarnessTokenizer): number {
  const id = tok.bosId ?? tok.eosId;
  if (id === undefined) throw new Error('the tokenizer has neither a BOS nor an EOS token, needed as the context of an empty-context request');
  return id;
}

/** tok_encode(string) with add_special_tokens=None: the default, unless the text starts with the BOS text. */
function tokEncode(tok: HarnessTokenizer, text: string): number[] {
  if (tok.bosId !== undefined) {
    const bosText = tok.decode([tok.bosId]);
    if (bosText !== '' && text.startsWith(bosText)) return tok.encode(text, { addSpecialTokens: false });
  }
  return tok.encode(text);
}

/** Encode one request as the harness does. */
export function encodeRequest(tok: HarnessTokenizer, context: string, continuation: string): EncodedRequest {
  if (context === '') {
    const cont = tok.encode(continuation, { addSpecialTokens: false });
    const prefix = prefixTokenId(tok);
    return prefix !== cont[0] ? { context: [prefix], continuation: cont } : { context: cont.slice(0, 1), continuation: cont.slice(1) };
  }
  const nSpaces = context.length - context.trimEnd().length;
  if (nSpaces > 0) {
    continuation = context.slice(context.length - nSpaces) + continuation;
    context = context.slice(0, context.length - nSpaces);
  }
  const whole = tokEncode(tok, context + continuation);
  const ctx = tokEncode(tok, context);
  const cont = whole.slice(ctx.length);
  if (ctx.length === 0) throw new Error(`the context ${JSON.stringify(context.slice(0, 60))} encodes to no tokens`);
  if (cont.length === 0) throw new Error(`the continuation ${JSON.stringify(continuation.slice(0, 60))} encodes to no tokens after its context`);
  return { context: ctx, continuation: cont };
}

/**
 * The model's maximum length as the harness resolves it: config n_positions, else
 * max_position_embeddings, else n_ctx, else 2048 (its default; the tokenizer's model_max_length is
 * not consulted here).
 */
export function harnessMaxLength(config: Record<string, unknown>): number {
  for (const key of ['n_positions', 'max_position_embeddings', 'n_ctx']) {
    const v = config[key];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return 2048;
}
