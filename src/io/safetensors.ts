/**
 * safetensors I/O: our own lazy reader (single file or sharded via `model.safetensors.index.json`)
 * and writer (F32/F16/BF16/F64, single or sharded, atomic). See the files re-exported below.
 */
export * from './safetensors-format.ts';
export { SafetensorsFile, loadSafetensors, openSafetensors, type TensorReader } from './safetensors-read.ts';
export {
  ShardedSafetensors, findSafetensorsWeights, openShardedSafetensors, openTensorReader, readSafetensorsIndex,
} from './safetensors-sharded.ts';
export {
  encodeHeader, writeSafetensors, writeShardedSafetensors,
  type FloatStorage, type LazyTensor, type RawTensor, type ShardedWriteOptions, type ShardedWriteResult, type WritableTensor, type WriteOptions,
} from './safetensors-write.ts';
