/**
 * A node value in the autograd graph: a tensor, its gradient, and (for results of ops) the
 * backward step that produced it. Leaves with `requiresGrad` are the parameters and inputs whose
 * gradients `backward` fills in.
 */
import type { DType, Tensor } from '../tensor/tensor.ts';

/**
 * The backward step of one op: receives dL/d(output) and accumulates dL/d(input) into the inputs'
 * `grad` (see `accumulateGrad` and `gradBuffer` in graph.ts). `owned` says the gradient tensor is not
 * needed after this call, so it may be adopted as an input's gradient without a copy. The gradient
 * is valid only during the call: afterwards its buffer is recycled unless an input adopted it.
 */
export type BackwardFn = (gradOutput: Tensor, owned: boolean) => void;

export interface GraphNode {
  readonly inputs: readonly Var[];
  readonly backward: BackwardFn;
  /** Short op name, for error messages and debugging. */
  readonly op: string;
}

export interface VarOptions {
  requiresGrad?: boolean;
  name?: string;
}

export class Var {
  private current: Tensor | null;
  /** The gradient buffer; kept (but not live) across `zeroGrad` so the next backward reuses it. */
  private gradStorage: Tensor | null = null;
  private gradLive = false;
  readonly requiresGrad: boolean;
  /** Optional label (parameter name); optimisers' weight-decay predicates can look at it. */
  name?: string;
  /** The op that produced this Var; null for leaves and after the graph has been released. */
  node: GraphNode | null = null;
  /** Keep the gradient of a non-leaf Var after backward (leaves always keep theirs). */
  retainGrad = false;
  /** Set when backward released this Var's node: differentiating through it again is an error. */
  graphReleased = false;

  constructor(value: Tensor, opts: VarOptions = {}) {
    this.current = value;
    this.requiresGrad = opts.requiresGrad ?? false;
    this.name = opts.name;
  }

  /** The tensor this Var holds. Throws after `backward(…, { recycleValues: true })` recycled it. */
  get value(): Tensor {
    if (this.current === null) {
      throw new Error(`${this.name ?? this.node?.op ?? 'Var'}: its value was recycled by backward({ recycleValues: true }); read values before backward`);
    }
    return this.current;
  }

  set value(t: Tensor) {
    this.current = t;
  }

  /** Drop the value (backward's recycleValues: its storage went back to the buffer pool). */
  releaseValue(): void {
    this.current = null;
  }

  /** True while the Var holds its value. */
  get hasValue(): boolean {
    return this.current !== null;
  }

  /** dL/d(value), same shape and dtype as `value`; null until backward reaches this Var. */
  get grad(): Tensor | null {
    return this.gradLive ? this.gradStorage : null;
  }

  set grad(g: Tensor | null) {
    this.gradStorage = g;
    this.gradLive = g !== null;
  }

  /**
   * The buffer left behind by `zeroGrad` (stale contents), or null. The engine revives it instead
   * of allocating: fresh memory is slow to fault in, and a training step would otherwise allocate
   * every parameter's gradient anew.
   */
  recycledGrad(): Tensor | null {
    return this.gradLive ? null : this.gradStorage;
  }

  get shape(): readonly number[] {
    return this.value.shape;
  }

  get dtype(): DType {
    return this.value.dtype;
  }

  get size(): number {
    return this.value.size;
  }

  /** True for Vars not produced by a recorded op (parameters, inputs, constants). */
  get isLeaf(): boolean {
    return this.node === null && !this.graphReleased;
  }

  /** The value as a number (for scalar losses). */
  item(): number {
    if (this.value.size !== 1) throw new Error(`Var.item: value has ${this.value.size} elements, expected 1`);
    return this.value.data[0];
  }

  /**
   * Forget the gradient: `grad` reads null afterwards, as with PyTorch's zero_grad(set_to_none=True),
   * but the buffer is recycled by the next backward, so copy a gradient you want to keep beyond
   * that (or assign `grad = null` to drop the buffer too).
   */
  zeroGrad(): void {
    this.gradLive = false;
  }

  toString(): string {
    if (this.current === null) return `Var(${this.name ?? this.node?.op ?? 'leaf'}, recycled)`;
    return `Var(${this.name ?? this.node?.op ?? 'leaf'}, ${this.current.dtype}, [${this.current.shape.join(', ')}]${this.requiresGrad ? ', grad' : ''})`;
  }
}

/** A trainable leaf: gradients are accumulated into it by `backward`. */
export function param(value: Tensor, name?: string): Var {
  return new Var(value, { requiresGrad: true, name });
}

/** A leaf that needs no gradient (inputs, targets, masks). */
export function constant(value: Tensor, name?: string): Var {
  return new Var(value, { requiresGrad: false, name });
}
