/**
 * Random weights for any supported architecture, built in memory from a config record: matrices
 * and biases ~ N(0, std²) (or uniform with that std), norm gains ~ 1 + the same noise. For tests of architectures without
 * reference checkpoints, and for benchmarks.
 */
import type { ModelConfig } from '../io/config.ts';
import { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { normalizeConfig } from './config.ts';
import type { WeightSpec } from './family.ts';
import { memorySource } from './memory-source.ts';
import { familyFor } from './registry.ts';
import type { WeightSource } from './types.ts';

export interface RandomWeightsOptions {
  seed?: number;
  /** Standard deviation of every entry (default 0.02, GPT-2's initializer range). */
  std?: number;
  /** Draw from a uniform distribution of the same std instead of a normal (several times faster to build). */
  uniform?: boolean;
}

/** Every weight of the architecture `config` describes (canonical names and shapes): globals, then block by block. */
export function weightSpecs(config: ModelConfig): WeightSpec[] {
  const cfg = normalizeConfig(config);
  const family = familyFor(cfg);
  const arch = family.create(cfg, family.prefixes[0]);
  return [...arch.globalWeights(), ...Array.from({ length: cfg.numLayers }, (_, i) => arch.blockWeights(i)).flat()];
}

/** One random weight of shape `spec.shape` drawn from `rng` (norm gains around 1). */
export function randomWeight(spec: WeightSpec, rng: Rng, options: RandomWeightsOptions = {}): Tensor {
  const std = options.std ?? 0.02;
  const half = std * Math.sqrt(3);
  const t = options.uniform ? rng.rand(spec.shape, -half, half) : rng.randn(spec.shape, std);
  if (spec.shape.length === 1 && spec.name.endsWith('.weight')) for (let i = 0; i < t.size; i++) t.data[i] += 1;
  return t;
}

/** A weight source holding random tensors under the architecture's canonical names. */
export function randomWeightSource(config: ModelConfig, options: RandomWeightsOptions = {}): WeightSource {
  const rng = new Rng(options.seed ?? 0);
  const tensors = new Map<string, Tensor>();
  for (const s of weightSpecs(config)) tensors.set(s.name, randomWeight(s, rng, options));
  return memorySource(config, tensors);
}
