/**
 * Hand-computable stand-ins for evaluation tests: a word-level tokenizer and a bigram "language
 * model" whose next-token distribution depends only on the current token (logits = ln p), with an
 * optional bonus that depends on the position among real tokens (to catch padding mistakes).
 */
import { Tensor } from '../../src/tensor/tensor.ts';
import type { CausalLM, EvalTokenizer, ForwardOptions } from '../../src/eval/model-api.ts';

export const VOCAB = ['<eos>', '<bos>', 'The', ' capital', ' is', ' Paris', ' Rome', ' of', ' France'];
export const V = VOCAB.length;

export const wordTokenizer: EvalTokenizer & { eosId: number; bosId: number } = {
  bosId: 1,
  eosId: 0,
  encode(text, opts = {}) {
    const ids = (text.match(/\s?[^\s]+/g) ?? []).map((w) => {
      const id = VOCAB.indexOf(w);
      if (id < 0) throw new Error(`toy tokenizer: unknown word ${JSON.stringify(w)}`);
      return id;
    });
    return (opts.addSpecialTokens ?? true) ? [1, ...ids] : ids;
  },
  decode(ids, opts = {}) {
    return ids.filter((id) => !(opts.skipSpecialTokens && id < 2)).map((id) => VOCAB[id]).join('');
  },
};

/** Next-token probabilities P[current][next]. */
export function bigramTable(): number[][] {
  const rows = Array.from({ length: V }, () => new Array<number>(V).fill(1 / V));
  const set = (from: number, probs: Record<number, number>) => {
    const rest = 1 - Object.values(probs).reduce((a, b) => a + b, 0);
    const others = V - Object.keys(probs).length;
    rows[from] = Array.from({ length: V }, (_, j) => probs[j] ?? rest / others);
  };
  set(4, { 5: 0.5, 6: 0.25 }); // " is" → " Paris" .5, " Rome" .25
  set(6, { 4: 0.6, 7: 0.2 }); // " Rome" → " is" .6, " of" .2
  set(5, { 4: 0.4 }); // " Paris" → " is" .4
  return rows;
}

/** Bigram LM; with `positionBonus`, logit of token (pos mod V) gets +bonus, pos = index among real tokens. */
export class BigramLM implements CausalLM {
  calls = 0;
  constructor(
    readonly table = bigramTable(),
    readonly positionBonus = 0,
  ) {}
  forward(inputIds: number[][], opts: ForwardOptions = {}): { logits: Tensor } {
    this.calls++;
    const B = inputIds.length, T = inputIds[0].length;
    const logits = Tensor.zeros([B, T, V]);
    for (let b = 0; b < B; b++) {
      let pos = -1;
      for (let t = 0; t < T; t++) {
        if ((opts.attentionMask?.[b][t] ?? 1) === 1) pos++;
        for (let v = 0; v < V; v++) {
          logits.data[(b * T + t) * V + v] = Math.log(this.table[inputIds[b][t]][v]) + (pos >= 0 && v === pos % V ? this.positionBonus : 0);
        }
      }
    }
    return { logits };
  }
}
