/** A `WeightSource` over tensors held in memory (for tests, benchmarks and models built in code). */
import type { ModelConfig } from '../io/config.ts';
import type { DType, Tensor } from '../tensor/tensor.ts';
import type { WeightSource } from './types.ts';

export function memorySource(config: ModelConfig, tensors: Map<string, Tensor> | Record<string, Tensor>): WeightSource {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  return {
    config,
    hasTensor: (name) => map.has(name),
    tensorNames: () => [...map.keys()],
    getTensor(name: string, dtype: DType = 'float32'): Tensor {
      const t = map.get(name);
      if (!t) throw new Error(`no tensor named "${name}" among the ${map.size} in memory`);
      return t.dtype === dtype ? t : t.to(dtype);
    },
  };
}
