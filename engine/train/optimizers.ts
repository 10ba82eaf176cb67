/**
 * Optimizers, as PyTorch defines them (no weight decay, no dampening, no Nesterov):
 *
 *   sgd:   momentum μ = 0:  p ← p − lr·g
 *          momentum μ > 0:  v ← μ·v + g;  p ← p − lr·v        (torch.optim.SGD: the first step's
 *                           v is g itself, which is what μ·0 + g gives)
 *   adam:  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *          p ← p − lr/(1−β1ᵗ) · m / (sqrt(v/(1−β2ᵗ)) + eps)   (torch.optim.Adam; t = 1, 2, …)
 *
 * They update the program's parameter buffers in place from its gradient buffers, with the
 * backend's update kernels when it has them (SIMD in WebAssembly) and plain loops otherwise.
 * Their state (velocities, moments) lives in extra buffers the program allocates together with
 * everything else (`CompileOptions.extraBuffers`), so a step allocates nothing.
 */
import type { OptimizerSpec } from '../ir';
import type { Backend, FloatArray } from '../kernels/backend';
import { adamStep, axpby, axpbyKeep } from '../kernels/fused';

export interface Optimizer {
  readonly spec: OptimizerSpec;
  /** Optimizer steps taken so far. */
  readonly steps: number;
  /**
   * One update of every parameter from its gradient; with `keep`, the weights it started from are
   * copied there (keep[i] ← params[i], fused into the SGD update). Allocates nothing.
   */
  step(keep?: readonly FloatArray[]): void;
}

/** The sizes of the state buffers an optimizer needs for params of these sizes, in order. */
export function optimizerStateSizes(spec: OptimizerSpec, paramSizes: readonly number[]): number[] {
  if (spec.kind === 'sgd') return spec.momentum !== 0 ? paramSizes.slice() : [];
  return [...paramSizes, ...paramSizes];
}

/**
 * An optimizer over `params[i]` with gradients `grads[i]`; `state` holds the buffers of
 * `optimizerStateSizes` (zero-filled), in that order.
 */
export function createOptimizer(
  spec: OptimizerSpec,
  backend: Backend,
  params: readonly FloatArray[],
  grads: readonly FloatArray[],
  state: readonly FloatArray[],
): Optimizer {
  checkSpec(spec);
  const n = params.length;
  if (grads.length !== n) throw new Error(`optimizer: ${n} params but ${grads.length} gradients`);
  const want = optimizerStateSizes(
    spec,
    params.map((p) => p.length),
  );
  if (state.length !== want.length || state.some((s, i) => s.length !== want[i]))
    throw new Error(`optimizer: state buffers of sizes [${state.map((s) => s.length)}], expected [${want}]`);
  const update = backend.axpby ? backend.axpby.bind(backend) : axpby;
  const updateKeep = backend.axpbyKeep ? backend.axpbyKeep.bind(backend) : axpbyKeep;

  if (spec.kind === 'sgd') {
    // −lr computed once: a double computed per call would be boxed per call
    const negLr = -spec.lr;
    const mu = spec.momentum;
    let steps = 0;
    return {
      spec,
      get steps() {
        return steps;
      },
      step(keep?: readonly FloatArray[]) {
        for (let i = 0; i < n; i++) {
          const p = params[i];
          let g = grads[i];
          if (mu !== 0) {
            g = state[i];
            update(p.length, 1, grads[i], 0, mu, g, 0); // v = μ·v + g
          }
          if (keep) updateKeep(p.length, negLr, g, 0, 1, p, 0, keep[i], 0); // p = p − lr·v, keeping p
          else update(p.length, negLr, g, 0, 1, p, 0);
        }
        steps++;
      },
    };
  }

  const adam = backend.adam ? backend.adam.bind(backend) : adamStep;
  const { lr, beta1, beta2, eps } = spec;
  let t = 0;
  return {
    spec,
    get steps() {
      return t;
    },
    step(keep?: readonly FloatArray[]) {
      t++;
      for (let i = 0; i < n; i++) {
        const p = params[i];
        if (keep) update(p.length, 1, p, 0, 0, keep[i], 0); // keep ← p
        adam(p.length, lr, beta1, beta2, eps, t, p, 0, grads[i], 0, state[i], 0, state[n + i], 0);
      }
    },
  };
}

/** Refuses hyper-parameters no optimizer step can use (the language checks the train block). */
export function checkSpec(spec: OptimizerSpec): void {
  const bad = (what: string, v: number) => {
    throw new Error(`${spec.kind}: ${what} must be ${what === 'momentum' ? 'in [0, 1)' : 'a positive number'}, got ${v}`);
  };
  if (!(spec.lr > 0) || !Number.isFinite(spec.lr)) bad('lr', spec.lr);
  if (spec.kind === 'sgd') {
    if (!(spec.momentum >= 0 && spec.momentum < 1)) bad('momentum', spec.momentum);
  } else {
    if (!(spec.beta1 >= 0 && spec.beta1 < 1)) throw new Error(`adam: beta1 must be in [0, 1), got ${spec.beta1}`);
    if (!(spec.beta2 >= 0 && spec.beta2 < 1)) throw new Error(`adam: beta2 must be in [0, 1), got ${spec.beta2}`);
    if (!(spec.eps > 0) || !Number.isFinite(spec.eps)) bad('eps', spec.eps);
  }
}

/** `sgd(lr: 0.5)`, `sgd(lr: 0.1, momentum: 0.9)`, `adam(lr: 0.001)` — as a train block writes it. */
export function describeOptimizer(spec: OptimizerSpec): string {
  if (spec.kind === 'sgd') return spec.momentum ? `sgd(lr: ${spec.lr}, momentum: ${spec.momentum})` : `sgd(lr: ${spec.lr})`;
  const extra = [
    spec.beta1 !== 0.9 ? `beta1: ${spec.beta1}` : '',
    spec.beta2 !== 0.999 ? `beta2: ${spec.beta2}` : '',
    spec.eps !== 1e-8 ? `eps: ${spec.eps}` : '',
  ].filter(Boolean);
  return `adam(lr: ${spec.lr}${extra.length ? ', ' + extra.join(', ') : ''})`;
}
