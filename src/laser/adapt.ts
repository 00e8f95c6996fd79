/**
 * View a loaded model as a `LaserModel`. src/models' `DecoderModel` keeps its layer count in
 * `config.numLayers`; anything with `numLayers` of its own works as is.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { LaserModel, MatrixSpec } from './model-api.ts';
import type { MatrixType } from './types.ts';

export interface ModelLike {
  getWeight(name: string): Tensor;
  setWeight(name: string, value: Tensor): void;
  matrices(layer: number): Partial<Record<MatrixType, MatrixSpec>>;
  numLayers?: number;
  config?: { numLayers?: number };
  modifiedWeightNames?(): string[];
  resetWeight?(name?: string): void;
}

export function asLaserModel(model: ModelLike): LaserModel {
  const numLayers = model.numLayers ?? model.config?.numLayers;
  if (numLayers === undefined) throw new Error('LASER: cannot tell how many layers the model has');
  if (model.numLayers !== undefined) return model as LaserModel;
  return {
    numLayers,
    getWeight: (name) => model.getWeight(name),
    setWeight: (name, value) => model.setWeight(name, value),
    matrices: (layer) => model.matrices(layer),
    ...(model.modifiedWeightNames && model.resetWeight
      ? { modifiedWeightNames: () => model.modifiedWeightNames!(), resetWeight: (name: string) => model.resetWeight!(name) }
      : {}),
  };
}
