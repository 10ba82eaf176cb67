/**
 * The executor's inner interfaces: how one op is bound to its buffers.
 *
 * Layout: a node's value buffer holds `B × size` numbers (example-major) when the node is
 * batched, `size` numbers when it is not (params, consts and values computed only from them).
 * A gradient buffer has the same layout and holds ∂L/∂value where L = mean over the batch of
 * the per-example losses; for a batched node, the per-example gradient ∂Cⁿ/∂valueⁿ is therefore
 * B × its slice. Unbatched nodes accumulate over the batch by construction.
 */
import type { IRNode, Shape } from '../ir';
import type { Backend, FloatArray } from '../kernels/backend';
import type { FunctionLib } from '../functions';

export interface Slot {
  readonly node: IRNode;
  readonly shape: Shape;
  /** Per-example number of elements. */
  readonly size: number;
  /** Has a leading batch axis at run time. */
  readonly batched: boolean;
  /** Values (B × size, or size). */
  v: FloatArray;
  /** ∂L/∂value, or null when no gradient flows here. */
  g: FloatArray | null;
}

/**
 * Fusion of a loss with the op producing its first argument (softmax → cross_entropy,
 * sigmoid → binary_cross_entropy): the loss is computed from the logits `z` and its gradient is
 * routed straight to `z`; the producer's own backward never sees the loss's contribution.
 */
export interface Fusion {
  /** The logits (the softmax's or sigmoid's argument). */
  z: Slot;
  /**
   * Where the loss writes its (exact but possibly unstable) contribution to ∂L/∂y when true
   * gradients of every value are wanted; null when they are not (training).
   */
  yExt: FloatArray | null;
}

export interface OpContext {
  readonly B: number;
  readonly node: IRNode;
  readonly out: Slot;
  readonly args: readonly Slot[];
  /** Scratch buffers as requested by the op's `scratch`. */
  readonly scratch: readonly FloatArray[];
  readonly backend: Backend;
  readonly lib: FunctionLib;
  /** Which derivative of user functions backpropagation uses (switchable at run time). */
  readonly fnGrads: { mode: 'user' | 'true' };
  readonly fusion: Fusion | null;
  /**
   * Per argument: this node's backward is the first in the backward pass to write that argument's
   * gradient, which is unbatched and no other slot's; the pass does not zero it first when the
   * kernel says (`OpKernel.storesGrad`) that it stores its contribution instead of adding it.
   */
  readonly firstGradWrite?: readonly boolean[];
}

export interface OpKernel {
  forward(): void;
  /** Adds this node's contribution to its arguments' gradients; null if none needs one. */
  backward: (() => void) | null;
  /**
   * Per argument: `backward` stores (writes every element of) that argument's gradient instead of
   * adding to it — only where `OpContext.firstGradWrite` allowed it.
   */
  storesGrad?: readonly boolean[];
  /**
   * For ops with kinks (relu, abs, leaky_relu, max, user functions with such ops): writes, per
   * output element (per example for `max`), a code of the branch the evaluation is on. The
   * gradient checker compares codes between perturbed evaluations to detect kink crossings.
   */
  kink?: { size: number; write(out: Int32Array): void };
  /**
   * Optional: recomputes only the outputs that depend on element `index` of operand `arg`,
   * after that one element changed (the other outputs keep their values). The gradient
   * checker's element-wise central differences use it; the result equals `forward()`.
   */
  perturbed?(arg: number, index: number): void;
}

export interface OpDef {
  /** Extra scratch buffer sizes at batch size B (allocated with everything else). */
  scratch?(node: IRNode, args: readonly SlotInfo[], out: SlotInfo, B: number): number[];
  bind(ctx: OpContext): OpKernel;
}

/** What is known about a slot before buffers exist. */
export interface SlotInfo {
  readonly shape: Shape;
  readonly size: number;
  readonly batched: boolean;
}

/** Number of per-example iterations an op over `out` performs. */
export function nIter(ctx: OpContext): number {
  return ctx.out.batched ? ctx.B : 1;
}

/** Per-iteration stride of a slot (0 when it is shared by all examples). */
export function stride(s: Slot): number {
  return s.batched ? s.size : 0;
}
