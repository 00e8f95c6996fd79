/**
 * Training checkpoints: `checkpoints/step-NNNNNN/` holds the model as an HF folder (config.json,
 * model.safetensors, tokenizer files), `optimizer.safetensors` (each parameter's optimiser buffers
 * as `<name>.exp_avg` / `<name>.exp_avg_sq` for AdamW, exact; see src/autograd/optim/state.ts) and
 * `trainer-state.json` (step, samples
 * and tokens seen, seed, optimizer step counts, elapsed time). The folder is written under a
 * temporary name and renamed, and `checkpoints/latest.json` names the newest complete one, so an
 * interrupted write never leaves a checkpoint that `--resume` would pick up. When the one
 * `latest.json` names is missing or incomplete anyway (a disk fault, a hand-deleted folder), a
 * resume falls back to the newest complete one and says so ({@link resumeCheckpoint}).
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openModelSource } from '../io/model-source.ts';
import { loadSafetensors, openSafetensors } from '../io/safetensors-read.ts';
import { writeSafetensors } from '../io/safetensors-write.ts';
import { writeFileAtomicSync } from '../io/atomic-file.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { Optimizer } from '../autograd/optim/optimizer.ts';
import { restoreOptimizerState, saveOptimizerState } from '../autograd/optim/state.ts';
import { saveHFModel } from './hf-folder.ts';
import { TrainableModel } from './trainable-model.ts';

export interface TrainerState {
  /** Optimiser steps completed. */
  step: number;
  samplesSeen: number;
  tokensSeen: number;
  seed: number;
  /** Wall-clock seconds of training so far (summed over resumed runs). */
  elapsedSeconds: number;
  /** Hash of the config the run was started with (a resume with another config is refused). */
  configHash: string;
}

const stepDirName = (step: number) => `step-${String(step).padStart(6, '0')}`;

/** Saves model, optimiser and trainer state as checkpoint `state.step`; keeps the newest `keep`. */
export function saveCheckpoint(root: string, model: TrainableModel, opt: Optimizer, state: TrainerState, tokenizerDir: string | undefined, keep: number): string {
  const name = stepDirName(state.step);
  const final = join(root, name);
  const tmp = join(root, `.${name}.partial`);
  rmSync(tmp, { recursive: true, force: true });
  saveHFModel(tmp, model, tokenizerDir);
  const { tensors, steps } = saveOptimizerState(opt, model.params);
  writeSafetensors(join(tmp, 'optimizer.safetensors'), tensors);
  writeFileAtomicSync(join(tmp, 'trainer-state.json'), `${JSON.stringify({ ...state, optimizerSteps: steps }, null, 2)}\n`);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  writeFileAtomicSync(join(root, 'latest.json'), `${JSON.stringify({ checkpoint: name, step: state.step }, null, 2)}\n`);
  const all = readdirSync(root).filter((f) => /^step-\d+$/.test(f)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(join(root, old), { recursive: true, force: true });
  return final;
}

/**
 * Why `dir` is not a complete checkpoint (missing file, unreadable state, truncated weights), or
 * undefined when it is one. Reads only the JSON files and the safetensors headers (the header
 * check compares the declared tensor spans with the file size, so a truncated file is caught).
 */
function checkpointProblem(dir: string): string | undefined {
  if (!existsSync(dir)) return 'missing';
  for (const f of ['trainer-state.json', 'config.json']) {
    try {
      JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch (e) {
      return existsSync(join(dir, f)) ? `${f} is unreadable (${(e as Error).message})` : `${f} is missing`;
    }
  }
  const weights = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
  if (!weights.includes('optimizer.safetensors')) return 'optimizer.safetensors is missing';
  if (weights.length < 2) return 'the model weights (*.safetensors) are missing';
  for (const f of weights) {
    try {
      openSafetensors(join(dir, f));
    } catch (e) {
      return `${f} is incomplete (${(e as Error).message.replace(`${join(dir, f)}: `, '')})`;
    }
  }
  return undefined;
}

/** Where a resume continues from, and what was noticed on the way (to be shown to the user). */
export interface ResumePoint {
  /** The checkpoint folder, or undefined when `root` holds no checkpoint at all (a fresh start). */
  dir?: string;
  notes: string[];
}

/**
 * The checkpoint `--resume` continues from: the one `latest.json` names when it is complete;
 * otherwise the newest complete `step-*` folder, with a note saying why. Throws when checkpoints
 * exist but none is complete (a silent restart from step 0 would lose the run).
 */
export function resumeCheckpoint(root: string): ResumePoint {
  const pointer = join(root, 'latest.json');
  let named: string | undefined;
  const notes: string[] = [];
  if (existsSync(pointer)) {
    try {
      named = (JSON.parse(readFileSync(pointer, 'utf8')) as { checkpoint?: unknown }).checkpoint as string | undefined;
      if (typeof named !== 'string') throw new Error('no "checkpoint" field');
    } catch (e) {
      notes.push(`${pointer} is unreadable (${(e as Error).message})`);
      named = undefined;
    }
  }
  if (named !== undefined) {
    const problem = checkpointProblem(join(root, named));
    if (problem === undefined) return { dir: join(root, named), notes };
    notes.push(`${pointer} names ${named}, which is ${problem === 'missing' ? 'missing' : `incomplete: ${problem}`}`);
  }
  const steps = existsSync(root) ? readdirSync(root).filter((f) => /^step-\d+$/.test(f)).sort().reverse() : [];
  const problems: string[] = [];
  for (const name of steps) {
    const problem = checkpointProblem(join(root, name));
    if (problem === undefined) {
      notes.push(`resuming from the newest complete checkpoint, ${name}`);
      return { dir: join(root, name), notes };
    }
    if (name !== named) problems.push(`${name}: ${problem}`);
  }
  if (named === undefined && steps.length === 0 && notes.length === 0) return { notes: [`no checkpoint in ${root} yet: starting from step 0`] };
  throw new Error(
    `no complete checkpoint in ${root} to resume from (${[...notes, ...problems].join('; ')}). ` +
      'Move the folder away (or choose another --out) to start over.',
  );
}

export interface LoadedCheckpoint {
  model: TrainableModel;
  state: TrainerState;
  /** Restores the optimiser's state into `opt` (built over `model`'s parameters). */
  restoreOptimizer(opt: Optimizer): void;
}

/** Reads a checkpoint folder written by `saveCheckpoint`. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const model = TrainableModel.fromSource(await openModelSource(dir));
  const raw = JSON.parse(readFileSync(join(dir, 'trainer-state.json'), 'utf8')) as TrainerState & { optimizerSteps: Record<string, number> };
  const { optimizerSteps, ...state } = raw;
  const tensors = loadSafetensors(join(dir, 'optimizer.safetensors'));
  return {
    model,
    state,
    restoreOptimizer(opt) {
      const moments = Object.fromEntries(Object.entries(tensors).filter((e): e is [string, Tensor] => e[1] instanceof Tensor));
      restoreOptimizerState(opt, (name) => model.param(name), { tensors: moments, steps: optimizerSteps }, dir);
    },
  };
}
