/** Model input/output: checkpoints (safetensors, llama2.c), config.json, tokenizers, the hub cache. */
export * from './safetensors.ts';
export * from './config.ts';
export * from './tokenizer.ts';
export {
  Llama2cCheckpoint, Llama2cTokenizer, findLlama2cTokenizerFile, llama2cConfig, looksLikeLlama2c, openLlama2c,
  readLlama2cTokenizer, type Llama2cHeader,
} from './llama2c.ts';
export { halfToInterleavedRows, interleavedToHalfRows } from './rope-permute.ts';
export { isModelFile, isRepoId, resolveModel, type HubProgress, type ResolveModelOptions } from './hub.ts';
export { defaultHubCacheDir } from './hf-cache.ts';
export { openModelSource, type ModelSource, type OpenModelSourceOptions } from './model-source.ts';
export { bf16Bits, bf16ToNumber, f16Bits, f16ToNumber } from './half.ts';
