/**
 * The pretraining config (YAML or JSON): model size, tokenizer, sequence length, batch, steps,
 * optimiser and schedule, seed, data, regulariser, and how often to evaluate, measure linearity and
 * checkpoint. Every field has a default except the model sizes; unknown keys are errors (with a
 * did-you-mean), so a typo never silently trains the wrong thing.
 *
 *   model: { hiddenSize: 256, numLayers: 6, numHeads: 8, numKvHeads: 4, intermediateSize: 688 }
 *   tokenizer: { vocabSize: 4096 }          # or { path: some/folder/with/tokenizer.json }
 *   seqLen: 256
 *   batchSize: 16
 *   steps: 2000
 *   optimizer: { lr: 3e-3, minLr: 3e-4, warmupSteps: 100, weightDecay: 0.1, betas: [0.9, 0.95], gradClip: 1 }
 *   regularizer: { kind: cosine, lambda: 0.5 }
 *   eval: { every: 100, batches: 8 }
 *   linearity: { every: 500, batches: 4 }
 *   checkpoint: { every: 500 }
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import { closestMatch } from '../util/closest-match.ts';
import { checkShape, type LlamaShape } from './llama-config.ts';
import { REGULARIZER_KINDS, type RegularizerKind } from './regularizer.ts';

export interface PretrainConfig {
  /** Model sizes; vocabSize and maxPositions are filled from the tokenizer and seqLen when omitted. */
  model: Omit<LlamaShape, 'vocabSize' | 'maxPositions'> & { vocabSize?: number; maxPositions?: number };
  tokenizer: { vocabSize: number; path?: string; minFrequency: number };
  seqLen: number;
  batchSize: number;
  steps: number;
  optimizer: { lr: number; minLr: number; warmupSteps: number; weightDecay: number; betas: [number, number]; eps: number; gradClip: number };
  seed: number;
  data: { sources?: { name: string; path: string }[]; validationFraction: number };
  regularizer: { kind: RegularizerKind; lambda: number };
  eval: { every: number; batches: number };
  linearity: { every: number; batches: number };
  checkpoint: { every: number; keep: number };
  /** Log a training line every this many steps (metrics.jsonl gets every step). */
  logEvery: number;
}

type Obj = Record<string, unknown>;

const DEFAULTS = {
  tokenizer: { vocabSize: 4096, minFrequency: 2 },
  seqLen: 256,
  batchSize: 16,
  steps: 1000,
  optimizer: { lr: 3e-3, minLr: 3e-4, warmupSteps: 100, weightDecay: 0.1, betas: [0.9, 0.95] as [number, number], eps: 1e-8, gradClip: 1 },
  seed: 1234,
  data: { validationFraction: 0.05 },
  regularizer: { kind: 'none' as RegularizerKind, lambda: 0.5 },
  eval: { every: 100, batches: 8 },
  linearity: { every: 500, batches: 4 },
  checkpoint: { every: 500, keep: 2 },
  logEvery: 10,
};

const MODEL_KEYS = ['hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads', 'ropeTheta', 'rmsNormEps', 'tieWordEmbeddings', 'initializerRange', 'vocabSize', 'maxPositions'];

function checkKeys(where: string, obj: Obj, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      const hint = closestMatch(k, allowed);
      throw new Error(`config: unknown key "${where}${k}"${hint ? ` (did you mean "${where}${hint}"?)` : ''}; allowed: ${allowed.join(', ')}`);
    }
  }
}

function section(root: Obj, key: string): Obj {
  const v = root[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`config: "${key}" must be a mapping`);
  return v as Obj;
}

function number(where: string, v: unknown, fallback: number | undefined, check: (x: number) => boolean = () => true, rule = ''): number {
  if (v === undefined || v === null) {
    if (fallback === undefined) throw new Error(`config: "${where}" is required`);
    return fallback;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw new Error(`config: "${where}" must be ${rule || 'a number'}, got ${JSON.stringify(v)}`);
  return v;
}

const posInt = (where: string, v: unknown, fallback?: number) => number(where, v, fallback, (x) => Number.isInteger(x) && x > 0, 'a positive integer');
const nonNegInt = (where: string, v: unknown, fallback?: number) => number(where, v, fallback, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
const nonNeg = (where: string, v: unknown, fallback?: number) => number(where, v, fallback, (x) => x >= 0, 'a number ≥ 0');

/** Validates a parsed config object and fills in defaults. */
export function parsePretrainConfig(raw: unknown): PretrainConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('config: expected a mapping at the top level');
  const root = raw as Obj;
  checkKeys('', root, ['model', 'tokenizer', 'seqLen', 'batchSize', 'steps', 'optimizer', 'seed', 'data', 'regularizer', 'eval', 'linearity', 'checkpoint', 'logEvery']);
  const m = section(root, 'model');
  checkKeys('model.', m, MODEL_KEYS);
  const model: PretrainConfig['model'] = {
    hiddenSize: posInt('model.hiddenSize', m.hiddenSize),
    intermediateSize: posInt('model.intermediateSize', m.intermediateSize),
    numLayers: posInt('model.numLayers', m.numLayers),
    numHeads: posInt('model.numHeads', m.numHeads),
  };
  if (m.numKvHeads !== undefined) model.numKvHeads = posInt('model.numKvHeads', m.numKvHeads);
  if (m.ropeTheta !== undefined) model.ropeTheta = number('model.ropeTheta', m.ropeTheta, undefined, (x) => x > 0, 'a positive number');
  if (m.rmsNormEps !== undefined) model.rmsNormEps = number('model.rmsNormEps', m.rmsNormEps, undefined, (x) => x > 0, 'a positive number');
  if (m.initializerRange !== undefined) model.initializerRange = number('model.initializerRange', m.initializerRange, undefined, (x) => x > 0, 'a positive number');
  if (m.vocabSize !== undefined) model.vocabSize = posInt('model.vocabSize', m.vocabSize);
  if (m.maxPositions !== undefined) model.maxPositions = posInt('model.maxPositions', m.maxPositions);
  if (m.tieWordEmbeddings !== undefined) {
    if (typeof m.tieWordEmbeddings !== 'boolean') throw new Error('config: "model.tieWordEmbeddings" must be true or false');
    model.tieWordEmbeddings = m.tieWordEmbeddings;
  }

  const t = section(root, 'tokenizer');
  checkKeys('tokenizer.', t, ['vocabSize', 'path', 'minFrequency']);
  if (t.path !== undefined && typeof t.path !== 'string') throw new Error('config: "tokenizer.path" must be a string');
  const tokenizer = {
    vocabSize: posInt('tokenizer.vocabSize', t.vocabSize ?? model.vocabSize, DEFAULTS.tokenizer.vocabSize),
    minFrequency: posInt('tokenizer.minFrequency', t.minFrequency, DEFAULTS.tokenizer.minFrequency),
    ...(typeof t.path === 'string' ? { path: t.path } : {}),
  };

  const seqLen = posInt('seqLen', root.seqLen, DEFAULTS.seqLen);
  const o = section(root, 'optimizer');
  checkKeys('optimizer.', o, ['lr', 'minLr', 'warmupSteps', 'weightDecay', 'betas', 'eps', 'gradClip']);
  const betas = o.betas ?? DEFAULTS.optimizer.betas;
  if (!Array.isArray(betas) || betas.length !== 2 || betas.some((b) => typeof b !== 'number' || !(b >= 0 && b < 1))) {
    throw new Error(`config: "optimizer.betas" must be two numbers in [0, 1), got ${JSON.stringify(betas)}`);
  }
  const steps = posInt('steps', root.steps, DEFAULTS.steps);
  const optimizer = {
    lr: nonNeg('optimizer.lr', o.lr, DEFAULTS.optimizer.lr),
    minLr: nonNeg('optimizer.minLr', o.minLr, DEFAULTS.optimizer.minLr),
    warmupSteps: nonNegInt('optimizer.warmupSteps', o.warmupSteps, Math.min(DEFAULTS.optimizer.warmupSteps, Math.floor(steps / 10))),
    weightDecay: nonNeg('optimizer.weightDecay', o.weightDecay, DEFAULTS.optimizer.weightDecay),
    betas: [betas[0], betas[1]] as [number, number],
    eps: number('optimizer.eps', o.eps, DEFAULTS.optimizer.eps, (x) => x > 0, 'a positive number'),
    gradClip: nonNeg('optimizer.gradClip', o.gradClip, DEFAULTS.optimizer.gradClip),
  };
  if (optimizer.warmupSteps > steps) throw new Error(`config: optimizer.warmupSteps (${optimizer.warmupSteps}) exceeds steps (${steps})`);

  const d = section(root, 'data');
  checkKeys('data.', d, ['sources', 'validationFraction']);
  let sources: { name: string; path: string }[] | undefined;
  if (d.sources !== undefined) {
    if (!Array.isArray(d.sources) || d.sources.length === 0) throw new Error('config: "data.sources" must be a non-empty list of paths or {name, path}');
    sources = d.sources.map((s, i) => {
      if (typeof s === 'string') return { name: s, path: s };
      if (s && typeof s === 'object' && typeof (s as Obj).path === 'string') return { name: String((s as Obj).name ?? (s as Obj).path), path: (s as Obj).path as string };
      throw new Error(`config: data.sources[${i}] must be a path or {name, path}`);
    });
  }
  const validationFraction = number('data.validationFraction', d.validationFraction, DEFAULTS.data.validationFraction, (x) => x > 0 && x < 1, 'in (0, 1)');

  const r = section(root, 'regularizer');
  checkKeys('regularizer.', r, ['kind', 'lambda']);
  const kind = (r.kind ?? DEFAULTS.regularizer.kind) as RegularizerKind;
  if (!REGULARIZER_KINDS.includes(kind)) throw new Error(`config: "regularizer.kind" must be one of ${REGULARIZER_KINDS.join(', ')}, got ${JSON.stringify(r.kind)}`);
  const regularizer = { kind, lambda: nonNeg('regularizer.lambda', r.lambda, DEFAULTS.regularizer.lambda) };

  const every = (name: 'eval' | 'linearity' | 'checkpoint', extra: string[]) => {
    const s = section(root, name);
    checkKeys(`${name}.`, s, ['every', ...extra]);
    return s;
  };
  const e = every('eval', ['batches']);
  const l = every('linearity', ['batches']);
  const c = every('checkpoint', ['keep']);
  const config: PretrainConfig = {
    model, tokenizer, seqLen,
    batchSize: posInt('batchSize', root.batchSize, DEFAULTS.batchSize),
    steps, optimizer,
    seed: nonNegInt('seed', root.seed, DEFAULTS.seed),
    data: { ...(sources ? { sources } : {}), validationFraction },
    regularizer,
    eval: { every: nonNegInt('eval.every', e.every, DEFAULTS.eval.every), batches: posInt('eval.batches', e.batches, DEFAULTS.eval.batches) },
    linearity: { every: nonNegInt('linearity.every', l.every, DEFAULTS.linearity.every), batches: posInt('linearity.batches', l.batches, DEFAULTS.linearity.batches) },
    checkpoint: { every: nonNegInt('checkpoint.every', c.every, DEFAULTS.checkpoint.every), keep: posInt('checkpoint.keep', c.keep, DEFAULTS.checkpoint.keep) },
    logEvery: posInt('logEvery', root.logEvery, DEFAULTS.logEvery),
  };
  checkShape({ ...model, vocabSize: tokenizer.vocabSize, maxPositions: model.maxPositions ?? seqLen });
  return config;
}

/** Reads a YAML (.yaml/.yml) or JSON config file. */
export function loadPretrainConfig(path: string): PretrainConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read config ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'} (${(err as Error).message})`);
  }
  try {
    return parsePretrainConfig(parsed);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}
