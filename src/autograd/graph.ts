/**
 * The reverse-mode engine. Ops record a `GraphNode` on their result (when grad is enabled and an
 * input needs a gradient); `backward(loss)` orders the graph reachable from the loss topologically
 * and runs the backward steps in reverse, each accumulating into its inputs' `grad` in place.
 *
 * Memory: gradients of intermediate Vars are dropped as soon as they have been propagated (unless
 * `retainGrad`) and their buffers recycled for later gradients (grad-pool.ts), and after backward
 * the nodes are released (unless `retainGraph`), so a training step leaves only the leaves'
 * gradients behind. A backward step must not keep the gradient it is handed beyond the call. Nothing global holds on to a graph: a forward pass that is
 * never differentiated is simply garbage collected.
 */
import { addInPlace } from '../tensor/elementwise.ts';
import { Tensor, allocate, type TypedArray } from '../tensor/tensor.ts';
import { releaseGradBuffer, takeGradBuffer } from './grad-pool.ts';
import { Var, type BackwardFn } from './var.ts';

let gradEnabled = true;

/** Whether ops currently record graph nodes. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` without recording any graph (evaluation, optimiser updates). */
export function noGrad<R>(fn: () => R): R {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** True when an op over `inputs` should record a node (grad on and some input needs a gradient). */
export function needsGrad(...inputs: readonly (Var | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const v of inputs) if (v?.requiresGrad) return true;
  return false;
}

/**
 * Wrap an op's result: a Var that requires grad and carries `backward` when any input requires grad
 * (and grad is enabled), otherwise a plain constant Var. Undefined inputs (optional bias/weight) are skipped.
 */
export function record(op: string, value: Tensor, inputs: readonly (Var | undefined)[], backward: BackwardFn): Var {
  const present = inputs.filter((v): v is Var => v !== undefined);
  const needs = needsGrad(...present);
  const out = new Var(value, { requiresGrad: needs });
  if (needs) out.node = { op, inputs: present, backward };
  return out;
}

/** A new (or recycled) gradient buffer for v, made live; `zeroed` says whether it holds zeros. */
function newGrad(v: Var): { grad: Tensor; zeroed: boolean } {
  const recycled = v.recycledGrad();
  if (recycled) {
    v.grad = recycled;
    return { grad: recycled, zeroed: false };
  }
  const pooled = takeGradBuffer(v.value.dtype, v.value.size);
  const grad = new Tensor(pooled ?? allocate(v.value.dtype, v.value.size), v.value.shape);
  v.grad = grad;
  return { grad, zeroed: pooled === undefined };
}

/** `v.grad`, created as zeros when it does not exist yet. For kernels that accumulate with `+=`. */
export function gradBuffer(v: Var): Tensor {
  if (v.grad !== null) return v.grad;
  const { grad, zeroed } = newGrad(v);
  if (!zeroed) grad.data.fill(0);
  return grad;
}

/**
 * For GEMM-style kernels writing C ← α·AB + β·C into the gradient: the buffer and the β to use
 * (0 when the buffer is fresh, so the GEMM overwrites instead of adding to zeros).
 */
export function gradTarget(v: Var): { grad: Tensor; beta: 0 | 1 } {
  if (v.grad !== null) return { grad: v.grad, beta: 1 };
  return { grad: newGrad(v).grad, beta: 0 };
}

/**
 * Where an elementwise backward writes dL/dv: into the live gradient with `+=` (accumulate), or
 * else with `=` into a revived buffer, or — when g is `owned` — into g itself, which v then adopts
 * (so a chain of elementwise ops allocates no gradient buffers). Kernels write index i after
 * reading g[i], so sharing g's storage is safe.
 */
export function elementwiseGradTarget(v: Var, g: Tensor, owned: boolean): { data: TypedArray; accumulate: boolean } {
  if (v.grad !== null) return { data: v.grad.data, accumulate: true };
  if (owned && v.recycledGrad() === null) {
    v.grad = new Tensor(g.data, v.value.shape);
    return { data: g.data, accumulate: false };
  }
  return { data: newGrad(v).grad.data, accumulate: false };
}

/**
 * v.grad += g (g has v's size; its shape is ignored). When `owned` and v has no gradient yet, g's
 * storage is adopted instead of copied.
 */
export function accumulateGrad(v: Var, g: Tensor, owned = false): void {
  if (!v.requiresGrad) return;
  if (g.size !== v.value.size) {
    throw new Error(`accumulateGrad: gradient of ${g.size} elements for ${v} (${v.value.size} elements)`);
  }
  if (v.grad === null) {
    if (owned && v.recycledGrad() === null) {
      v.grad = new Tensor(g.data, v.value.shape);
    } else {
      newGrad(v).grad.data.set(g.data);
    }
    return;
  }
  addInPlace(v.grad, g); // the C twin for float32 (same sums); sizes checked above
}

/** Vars reachable from `root` through recorded nodes, in topological order (inputs before outputs). */
function topologicalOrder(root: Var): Var[] {
  const order: Var[] = [];
  const visited = new Set<Var>();
  // iterative post-order DFS: deep graphs (many layers) must not overflow the call stack
  const stack: { v: Var; next: number }[] = [{ v: root, next: 0 }];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top.v.node?.inputs ?? [];
    if (top.next < inputs.length) {
      const child = inputs[top.next++];
      if (child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push({ v: child, next: 0 });
      }
    } else {
      order.push(top.v);
      stack.pop();
    }
  }
  return order;
}

export interface BackwardOptions {
  /** Keep the graph (nodes and saved tensors) so backward can run through it again. */
  retainGraph?: boolean;
  /**
   * Recycle the values of the intermediate Vars: once every Var sharing a value's storage has had
   * its backward step, that storage goes to the buffer pool (grad-pool.ts), where the next step's
   * allocations find it, and reading such a Var's value throws. The leaves' values, the loss's, and
   * those of constants fed to the graph are kept. For training loops that read what they need
   * (the loss) before backward and drop the forward's results (src/train/train-step.ts).
   */
  recycleValues?: boolean;
}

/** Per storage of the intermediate values: how many graph Vars hold it; storages that must be kept. */
function valueOwners(loss: Var, order: readonly Var[]): { owners: Map<ArrayBufferLike, number>; keep: Set<ArrayBufferLike> } {
  const owners = new Map<ArrayBufferLike, number>();
  const keep = new Set<ArrayBufferLike>([loss.value.data.buffer]);
  for (const v of order) {
    const buf = v.value.data.buffer;
    if (v.node === null) keep.add(buf);
    else owners.set(buf, (owners.get(buf) ?? 0) + 1);
    for (const x of v.node?.inputs ?? []) if (!x.requiresGrad) keep.add(x.value.data.buffer);
  }
  return { owners, keep };
}

/**
 * Backpropagate from `loss`: accumulates dL/dv into `v.grad` for every leaf v that requires grad.
 * `gradOutput` seeds dL/d(loss); it defaults to 1 and must be given when the loss is not a scalar.
 */
export function backward(loss: Var, gradOutput?: Tensor, opts: BackwardOptions = {}): void {
  if (!loss.requiresGrad) {
    throw new Error(`backward: ${loss} does not require grad (no parameter fed into it, or it was computed under noGrad)`);
  }
  let seed: Tensor;
  if (gradOutput) {
    if (gradOutput.size !== loss.value.size) {
      throw new Error(`backward: gradOutput has ${gradOutput.size} elements, loss has ${loss.value.size}`);
    }
    seed = gradOutput;
  } else {
    if (loss.value.size !== 1) {
      throw new Error(`backward: loss has shape [${loss.value.shape.join(', ')}]; pass gradOutput for a non-scalar loss`);
    }
    seed = Tensor.full(loss.value.shape, 1, loss.value.dtype);
  }
  accumulateGrad(loss, seed, false);

  const order = topologicalOrder(loss);
  if (opts.recycleValues && opts.retainGraph) throw new Error('backward: recycleValues needs the graph released (not retainGraph)');
  const values = opts.recycleValues ? valueOwners(loss, order) : null;
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i];
    const node = v.node;
    if (node === null) {
      if (v.graphReleased) {
        throw new Error(`backward: the graph behind ${v} was already released by an earlier backward; pass { retainGraph: true } to the first call to go through it twice`);
      }
      continue;
    }
    const g = v.grad;
    if (g !== null) {
      const owned = !v.retainGrad && !opts.retainGraph;
      if (!v.retainGrad) v.grad = null;
      node.backward(g, owned);
      if (owned && !node.inputs.some((x) => x.grad?.data === g.data)) releaseGradBuffer(g.data);
    }
    if (!opts.retainGraph) {
      v.node = null;
      v.graphReleased = true;
    }
    if (values && v !== loss) {
      const data = v.value.data;
      const left = values.owners.get(data.buffer)! - 1;
      values.owners.set(data.buffer, left);
      // the last holder of the storage: every consumer (earlier in this reverse order) is done with it
      if (left === 0 && !values.keep.has(data.buffer)) releaseGradBuffer(data);
      v.releaseValue();
    }
  }
}
