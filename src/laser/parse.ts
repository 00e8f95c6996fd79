/**
 * Parse interventions from the compact command-line form "τ:ℓ:ρ[,τ:ℓ:ρ…]", e.g. "out:5:0.01,in:3:0.1".
 * Layers may be negative to count from the end (−1 = last layer) when `numLayers` is given.
 */
import { MATRIX_TYPES, isMatrixType, type Intervention, type MatrixType } from './types.ts';

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

/**
 * Layers for a search: "all" (last to first, the paper's order), "last:N" (the N last, last first),
 * "a-b" (a range, in the order written: "11-8" is 11, 10, 9, 8), or a comma list mixing both.
 * Negative numbers count from the end.
 */
export function parseLayers(spec: string, numLayers: number): number[] {
  const s = spec.trim();
  if (s === 'all') return Array.from({ length: numLayers }, (_, i) => numLayers - 1 - i);
  const last = /^last:(\d+)$/.exec(s);
  if (last) {
    const n = Math.min(numLayers, Number(last[1]));
    return Array.from({ length: n }, (_, i) => numLayers - 1 - i);
  }
  const norm = (t: string) => {
    if (!/^-?\d+$/.test(t)) throw new Error(`layers "${spec}": "${t}" is not a layer number`);
    const v = Number(t) < 0 ? Number(t) + numLayers : Number(t);
    if (v < 0 || v >= numLayers) throw new Error(`layers "${spec}": layer ${t} out of range (0…${numLayers - 1})`);
    return v;
  };
  const out: number[] = [];
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(-?\d+)-(-?\d+)$/.exec(part);
    if (m) {
      const [a, b] = [norm(m[1]), norm(m[2])];
      const step = a <= b ? 1 : -1;
      for (let l = a; l !== b + step; l += step) out.push(l);
    } else out.push(norm(part));
  }
  if (out.length === 0) throw new Error(`layers "${spec}": no layers given`);
  return [...new Set(out)];
}

/** Comma-separated kept fractions, each in (0, 1]. */
export function parseRhos(spec: string): number[] {
  const out = spec.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
    const v = Number(p);
    if (!(v > 0 && v <= 1)) throw new Error(`kept fraction "${p}" must be a number in (0, 1]`);
    return v;
  });
  if (out.length === 0) throw new Error('no kept fractions given');
  return out;
}

/** Comma-separated matrix types. */
export function parseTypes(spec: string): MatrixType[] {
  const out = spec.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
    if (!isMatrixType(p)) throw new Error(`unknown matrix type "${p}" (one of ${MATRIX_TYPES.join(', ')})`);
    return p;
  });
  if (out.length === 0) throw new Error('no matrix types given');
  return out;
}
