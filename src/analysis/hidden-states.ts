/**
 * From a model forward's outputs to the residual-stream states the linearity profile compares.
 *
 * A forward with `outputHiddenStates` returns Hugging Face's tuple: the embeddings, each block's
 * output, and — as the last entry — the last block's output after the final norm; `preFinalNorm`
 * is that last block's output before the norm. The per-block pairs are states[i] → states[i + 1].
 */
import type { Tensor } from '../tensor/tensor.ts';

/**
 * What the analysis needs from a forward: a structural subset of `ForwardResult`
 * (src/models/decoder.ts), so a model's forward output can be passed as it is.
 */
export interface HiddenStateOutput {
  /** Present when the forward ran with `outputHiddenStates`. */
  hiddenStates?: readonly Tensor[];
  preFinalNorm?: Tensor;
  attnOutputs?: readonly Tensor[];
  mlpOutputs?: readonly Tensor[];
}

/**
 * How the last block's output is taken:
 * - 'preFinalNorm': the raw output of the last block (all L blocks measured as blocks; default);
 * - 'finalNorm': HF's tuple as is (the last pair includes the final norm);
 * - 'skip': drop the last pair, as the authors' notebook does (pairs 0 … L − 2 of the tuple).
 */
export type LastBlockMode = 'preFinalNorm' | 'finalNorm' | 'skip';

/** The residual-stream states to compare: [embeddings, block 1 output, …]. */
export function residualStates(out: HiddenStateOutput, lastBlock: LastBlockMode = 'preFinalNorm'): Tensor[] {
  const hs = out.hiddenStates;
  if (!hs) throw new Error('residualStates: the forward returned no hidden states; run it with outputHiddenStates: true');
  if (hs.length < 2) throw new Error(`residualStates: need at least 2 hidden states, got ${hs.length}`);
  if (lastBlock === 'finalNorm') return [...hs];
  if (lastBlock === 'skip') return hs.slice(0, -1);
  if (!out.preFinalNorm) {
    throw new Error("residualStates: the forward did not return preFinalNorm; use lastBlock 'finalNorm' or 'skip'");
  }
  return [...hs.slice(0, -1), out.preFinalNorm];
}
