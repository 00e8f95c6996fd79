/**
 * safetensors I/O: our own lazy reader (single file or sharded via `model.safetensors.index.json`)
 * and writer (F32/F16/BF16/F64, single or sharded, atomic). See the files re-exported below.
 */
export * from './safetensors-format.ts';
export { loadSafetensors, openSafetensors, type TensorReader } from './safetensors-read.ts';
export { findSafetensorsWeights, openShardedSafetensors, openTensorReader } from './safetensors-sharded.ts';
export {
  writeSafetensors, writeShardedSafetensors,
  type FloatStorage, type LazyTensor, type RawTensor, type ShardedWriteOptions, type ShardedWriteResult, type WritableTensor, type WriteOptions,
} from './safetensors-write.ts';
