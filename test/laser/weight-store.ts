/** A minimal `MatrixModel` over a map of tensors, for tests that need no forward pass. */
import type { Tensor } from '../../src/tensor/tensor.ts';
import type { MatrixModel, MatrixSpec } from '../../src/models/matrices.ts';
import type { MatrixType } from '../../src/laser/types.ts';

export class WeightStore implements MatrixModel {
  constructor(
    readonly weights: Map<string, Tensor>,
    readonly numLayers: number,
    private readonly table: (layer: number) => Partial<Record<MatrixType, MatrixSpec>>,
  ) {}
  getWeight(name: string): Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`no weight ${name}`);
    return t;
  }
  setWeight(name: string, value: Tensor): void {
    const old = this.getWeight(name);
    if (old.shape.join() !== value.shape.join()) throw new Error(`shape change for ${name}`);
    this.weights.set(name, value);
  }
  matrices(layer: number): Partial<Record<MatrixType, MatrixSpec>> {
    return this.table(layer);
  }
  weightNames(): string[] {
    return [...this.weights.keys()];
  }
}
