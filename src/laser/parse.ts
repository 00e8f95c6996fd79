/**
 * Parse interventions from the compact command-line form "τ:ℓ:ρ[,τ:ℓ:ρ…]", e.g. "out:5:0.01,in:3:0.1".
 * Layers may be negative to count from the end (−1 = last layer) when `numLayers` is given.
 */
import { MATRIX_TYPES, isMatrixType, type Intervention } from './types.ts';

export function parseIntervention(text: string, numLayers?: number): Intervention {
  const parts = text.trim().split(':');
  if (parts.length !== 3) {
    throw new Error(`intervention "${text}": expected type:layer:rho, e.g. "out:5:0.01"`);
  }
  const [type, layerText, rhoText] = parts.map((p) => p.trim());
  if (!isMatrixType(type)) {
    throw new Error(`intervention "${text}": unknown matrix type "${type}" (one of ${MATRIX_TYPES.join(', ')})`);
  }
  if (!/^-?\d+$/.test(layerText)) throw new Error(`intervention "${text}": layer "${layerText}" is not an integer`);
  let layer = Number(layerText);
  if (layer < 0) {
    if (numLayers === undefined) throw new Error(`intervention "${text}": negative layer needs the model's layer count`);
    layer += numLayers;
  }
  if (numLayers !== undefined && (layer < 0 || layer >= numLayers)) {
    throw new Error(`intervention "${text}": layer ${layerText} out of range (the model has ${numLayers} layers, 0…${numLayers - 1})`);
  }
  const rho = Number(rhoText);
  if (rhoText === '' || !Number.isFinite(rho) || !(rho > 0 && rho <= 1)) {
    throw new Error(`intervention "${text}": kept fraction "${rhoText}" must be a number in (0, 1]`);
  }
  return { type, layer, rho };
}

/** Parse a comma-separated list; an empty string gives no interventions. */
export function parseInterventions(text: string, numLayers?: number): Intervention[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => parseIntervention(s, numLayers));
}
