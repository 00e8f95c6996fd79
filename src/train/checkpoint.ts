/**
 * Training checkpoints: `checkpoints/step-NNNNNN/` holds the model as an HF folder (config.json,
 * model.safetensors, tokenizer files), `optimizer.safetensors` (each parameter's optimiser buffers
 * as `<name>.exp_avg` / `<name>.exp_avg_sq` for AdamW, exact; see src/autograd/optim/state.ts) and
 * `trainer-state.json` (step, samples
 * and tokens seen, seed, optimizer step counts, elapsed time). The folder is written under a
 * temporary name and renamed, and `checkpoints/latest.json` names the newest complete one, so an
 * interrupted write never leaves a checkpoint that `--resume` would pick up.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openModelSource } from '../io/model-source.ts';
import { loadSafetensors } from '../io/safetensors-read.ts';
import { writeSafetensors } from '../io/safetensors-write.ts';
import { writeFileAtomicSync } from '../io/atomic-file.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { Optimizer } from '../autograd/optim/optimizer.ts';
import { restoreOptimizerState, saveOptimizerState } from '../autograd/optim/state.ts';
import { saveHFModel } from './hf-folder.ts';
import { TrainableLlama } from './llama-trainable.ts';

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
export function saveCheckpoint(root: string, model: TrainableLlama, opt: Optimizer, state: TrainerState, tokenizerDir: string | undefined, keep: number): string {
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

/** The newest complete checkpoint folder under `root`, or undefined. */
export function latestCheckpoint(root: string): string | undefined {
  const pointer = join(root, 'latest.json');
  if (!existsSync(pointer)) return undefined;
  const { checkpoint } = JSON.parse(readFileSync(pointer, 'utf8')) as { checkpoint: string };
  const dir = join(root, checkpoint);
  return existsSync(join(dir, 'trainer-state.json')) ? dir : undefined;
}

export interface LoadedCheckpoint {
  model: TrainableLlama;
  state: TrainerState;
  /** Restores the optimiser's state into `opt` (built over `model`'s parameters). */
  restoreOptimizer(opt: Optimizer): void;
}

/** Reads a checkpoint folder written by `saveCheckpoint`. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const model = TrainableLlama.fromSource(await openModelSource(dir));
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
