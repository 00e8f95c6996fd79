/**
 * A weight source that counts how often each tensor is read, through either reader (float32
 * `getTensor` or the stored-dtype `getStoredTensor` that 16-bit checkpoints use).
 */
import type { WeightSource } from '../../src/models/types.ts';

export function countingSource(source: WeightSource): { source: WeightSource; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const count = (name: string) => reads.set(name, (reads.get(name) ?? 0) + 1);
  const counted: WeightSource = Object.create(source, {
    getTensor: { value: (name: string, dtype?: 'float32' | 'float64') => (count(name), source.getTensor(name, dtype)) },
    getStoredTensor: { value: source.getStoredTensor && ((name: string) => (count(name), source.getStoredTensor!(name))) },
  });
  return { source: counted, reads };
}
