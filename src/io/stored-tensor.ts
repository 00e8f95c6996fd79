/**
 * A checkpoint tensor in its stored dtype: 2-D BF16/F16 tensors as a `HalfWeight` holding the raw
 * 16-bit values (src/tensor/half-weight.ts), every other tensor read as float32 (`readTensor`).
 * NaN/±Infinity are refused exactly as `readTensor` refuses them (the same error, from it).
 */
import { hasNonFiniteHalf, HalfWeight } from '../tensor/half-weight.ts';
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
