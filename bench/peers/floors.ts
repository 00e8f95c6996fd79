/**
 * The arithmetic floor of each peer job: its BLAS-3 FLOPs (2 per multiply-add) divided by the GEMM
 * peaks measured in the same run (sgemm for the float32 model work, dgemm for the float64
 * statistics). No implementation that does this arithmetic through this OpenBLAS can finish
 * faster, so torch time ÷ floor is the largest ratio any tool could show against PyTorch there.
 *
 * Counted: every projection and MLP GEMM, attention's QKᵀ and PV over the causal half only
 * (T(T+1)/2 scores per head: the least any causal attention must compute), the LM head where the
 * job computes it at every position; for training, the backward's two GEMMs per forward GEMM
 * (attention: four per two). The linearity job adds linscope's float64 statistics (the centred
 * Gram of each pair's X, the cross moment XᵀD) and its pair solve (two Cholesky factorisations,
 * dpotri, dtrsm and one d × d GEMM: src/analysis/linearity-cholesky.ts); PyTorch's eigh does more.
 */
import { loadPretrainConfig } from '../../src/train/pretrain-config.ts';
import { modelShape } from '../../src/train/pretrain.ts';
import { GPT2_VOCAB, FORWARD_TOKENS, LINEARITY_SEQUENCES, LINEARITY_SEQ_LEN } from './make-inputs.ts';

interface DecoderShape {
  layers: number;
  d: number;
  /** Width of K and V together (2·d without grouped-query attention). */
  kv: number;
  /** MLP width; `gated` MLPs (SwiGLU) have two input projections. */
  ffn: number;
  gated: boolean;
  vocab: number;
}

const GPT2: DecoderShape = { layers: 12, d: 768, kv: 2 * 768, ffn: 3072, gated: false, vocab: GPT2_VOCAB };

/** Forward GEMM FLOPs of `sequences` × `seqLen` tokens; the LM head at every position when `head`. */
export function decoderFlops(s: DecoderShape, sequences: number, seqLen: number, head: boolean): number {
  const tokens = sequences * seqLen;
  const projections = 2 * tokens * s.d * (s.d + s.kv + s.d + (s.gated ? 3 : 2) * s.ffn);
  const causalScores = sequences * ((seqLen * (seqLen + 1)) / 2);
  const attention = 2 * 2 * causalScores * s.d; // QKᵀ and PV, summed over heads
  return s.layers * (projections + attention) + (head ? 2 * tokens * s.d * s.vocab : 0);
}

/** The GPT-2-small forward job: 1024 tokens, logits at every position. */
export function forwardFloorFlops(): { f32: number; f64: number } {
  return { f32: decoderFlops(GPT2, 1, FORWARD_TOKENS, true), f64: 0 };
}

/** The linearity job: the body on 4 × 512 tokens, then float64 statistics and solves of 12 pairs. */
export function linearityFloorFlops(): { f32: number; f64: number } {
  const n = LINEARITY_SEQUENCES * LINEARITY_SEQ_LEN;
  const d = GPT2.d;
  const gram = n * d * (d + 1); // dsyrk: the upper triangle of XᵀX
  const cross = 2 * n * d * d; // XᵀD
  const solve = 2 * (d ** 3 / 3) + (2 * d ** 3) / 3 + d ** 3 + 2 * d ** 3; // 2 dpotrf, dpotri, dtrsm, GEMM
  return { f32: decoderFlops(GPT2, LINEARITY_SEQUENCES, LINEARITY_SEQ_LEN, false), f64: GPT2.layers * (gram + cross + solve) };
}

/** One training step of configs/pretrain-5m.yaml: forward, backward (2 GEMMs per forward GEMM). */
export function trainFloorFlops(configPath = new URL('../../configs/pretrain-5m.yaml', import.meta.url).pathname): { f32: number; f64: number } {
  const config = loadPretrainConfig(configPath);
  const m = modelShape(config, { vocabSize: config.tokenizer.vocabSize });
  const headDim = m.hiddenSize / m.numHeads;
  const shape: DecoderShape = { layers: m.numLayers, d: m.hiddenSize, kv: 2 * headDim * (m.numKvHeads ?? m.numHeads), ffn: m.intermediateSize, gated: true, vocab: m.vocabSize };
  return { f32: 3 * decoderFlops(shape, config.batchSize, config.seqLen, true), f64: 0 };
}

/** Seconds of `flops` at the peaks (GFLOP/s). */
export function floorSeconds(flops: { f32: number; f64: number }, sgemmGflops: number, dgemmGflops: number): number {
  return flops.f32 / (sgemmGflops * 1e9) + flops.f64 / (dgemmGflops * 1e9);
}

export const FLOOR_FLOPS: Record<string, (() => { f32: number; f64: number }) | undefined> = {
  forward: forwardFloorFlops,
  linearity: linearityFloorFlops,
  train: () => trainFloorFlops(),
};
