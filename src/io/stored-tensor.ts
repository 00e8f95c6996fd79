/**
 * A checkpoint tensor in its stored dtype: 2-D BF16/F16 tensors as a `HalfWeight` holding the raw
 * 16-bit values (src/tensor/half-weight.ts), every other tensor read as float32 (`readTensor`).
 * NaN/±Infinity are refused exactly as `readTensor` refuses them (the same error, from it).
 */
import { hasNonFiniteHalf, HalfWeight, type HalfStorage } from '../tensor/half-weight.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { TensorReader } from './safetensors-read.ts';

export function readStoredTensor(reader: Pick<TensorReader, 'info' | 'readBytes' | 'readTensor'>, name: string): Tensor {
  const info = reader.info(name);
  if ((info.dtype !== 'BF16' && info.dtype !== 'F16') || info.shape.length !== 2) return reader.readTensor(name);
  const bytes = reader.readBytes(name);
  const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  if (hasNonFiniteHalf(bits, info.dtype)) return reader.readTensor(name); // throws, naming the tensor
  return new HalfWeight(bits, info.dtype, info.shape) as unknown as Tensor;
}

/**
 * The float dtype a checkpoint stores its weights in, for writing a modified copy the same way:
 * BF16 or F16 when every weight of `names` the source has is stored so, else F32 (also when the
 * source cannot tell, e.g. llama2.c files).
 */
export function checkpointDtype(source: { tensorDtype?(name: string): string; hasTensor(name: string): boolean }, names: readonly string[]): 'F32' | 'BF16' | 'F16' {
  if (!source.tensorDtype) return 'F32';
  const dtypes = new Set(names.filter((n) => source.hasTensor(n)).map((n) => source.tensorDtype!(n)));
  if (dtypes.size === 1) {
    const [only] = dtypes;
    if (only === 'BF16' || only === 'F16') return only;
  }
  return 'F32';
}

/** The same for a PyTorch `.bin` reader (src/io/torch-bin.ts): its float16/bfloat16 matrices as `HalfWeight`. */
export function readStoredTorchTensor(reader: { readTensor(name: string): Tensor; readHalfBits(name: string): { bits: Uint16Array; dtype: HalfStorage; shape: number[] } | undefined }, name: string): Tensor {
  const half = reader.readHalfBits(name);
  if (!half || hasNonFiniteHalf(half.bits, half.dtype)) return reader.readTensor(name);
  return new HalfWeight(half.bits, half.dtype, half.shape) as unknown as Tensor;
}
