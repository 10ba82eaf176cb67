/**
 * Evaluation for hovers, inlay hints and `nnlens grad`: one float64 forward and backward pass at
 * given params on a given batch, kept as a snapshot that can be queried:
 *
 * - the loss (mean over the batch) and every per-example loss;
 * - ∂C/∂param for every param (C = the batch-mean loss);
 * - for every named value, param, input and target: its values, ∂C/∂value, and for batched
 *   values the per-example gradients ∂Cⁿ/∂valueⁿ — what a hover needs to show
 *   `∂C/∂W[i,j] = mean over n of δⁿ[i] × aⁿ[j]`;
 * - on demand: per-example param gradients, numeric gradients (central differences), and the
 *   backward block's lines (as written, and given the true gradients).
 */
import type { IRBackwardLine, IRModel, IRProgram, Shape } from './ir';
import type { Backend } from './kernels/backend';
import { jsBackend } from './kernels/js';
import { compileFunctions, type FunctionLib } from './functions';
import { compileModel, type Batch, type CompiledModel } from './exec/program';
import { findNonFiniteBackward, findNonFiniteForward, type NonFinite } from './exec/nonfinite';
import { backwardLineValues, nodeOfName, PerExampleGrads } from './exec/examples';

export interface EvaluateOptions {
  /** A float64 backend (default: the register-blocked JavaScript one). */
  backend?: Backend;
  /** Fuse softmax/sigmoid with their losses (default true). */
  fuse?: boolean;
  /**
   * User-function derivatives: 'user' (their grad lines where given — what backpropagation
   * and training use; default) or 'true' (automatic everywhere).
   */
  functionGrads?: 'user' | 'true';
}

export interface ValueInfo {
  name: string;
  kind: 'param' | 'input' | 'target' | 'value' | 'loss';
  node: number;
  shape: Shape;
  /** Has a batch axis: `value`, `grad` and `perExampleGrad` are [B, ...shape]. */
  batched: boolean;
  value: Float64Array;
  /** ∂C/∂value, C = mean over the batch of the per-example losses. */
  grad: Float64Array | null;
  /** ∂Cⁿ/∂valueⁿ per example ([B, ...shape]); null for unbatched values (see perExampleParamGrad). */
  perExampleGrad: Float64Array | null;
}

export interface LineValues {
  line: IRBackwardLine;
  /** The line as written, per example [B, ...shape of X]. */
  written: Float64Array | null;
  /** The line with the true gradients in place of its `grad Y` references. */
  givenTrue: Float64Array;
  /** The per-example gradient ∂Cⁿ/∂X (with this evaluation's functionGrads). */
  truth: Float64Array;
}

export class Evaluation {
  readonly loss: number;
  readonly losses: Float64Array;
  readonly batchSize: number;
  /** ∂C/∂param by name. */
  readonly grads: Record<string, Float64Array> = {};
  /** Named values, params, inputs, targets and the loss, by name. */
  readonly values = new Map<string, ValueInfo>();
  /** NaN/Infinity found in the forward or backward pass, if any. */
  readonly nonFinite: NonFinite | null;

  private single: CompiledModel | null = null;
  private readonly perExample: PerExampleGrads;

  constructor(
    readonly program: IRProgram,
    readonly model: IRModel,
    private readonly p: CompiledModel,
    private readonly params: Readonly<Record<string, ArrayLike<number>>>,
    private readonly batch: Batch,
    private readonly lib: FunctionLib,
    private readonly backend: Backend,
  ) {
    this.perExample = new PerExampleGrads(p, batch, () => this.singleProgram());
    this.loss = p.forward();
    const nfF = findNonFiniteForward(p, batch.rows);
    p.backward();
    this.nonFinite = nfF ?? (hasNonFinite(p) ? findNonFiniteBackward(p, batch.rows) : null);
    if (this.nonFinite?.phase === 'backward') {
      p.forward(); // findNonFiniteBackward re-ran the backward pass; values are unchanged
      p.backward();
    }
    this.batchSize = p.batchSize;
    this.losses = Float64Array.from(p.losses().subarray(0, p.batched[p.lossNode] ? p.batchSize : 1));
    for (const q of model.params) this.grads[q.name] = Float64Array.from(p.grads[q.name]);
    const add = (name: string, kind: ValueInfo['kind'], node: number) => {
      if (this.values.has(name)) return;
      const s = p.slot(node);
      const B = p.batchSize;
      const len = s.size * (s.batched ? B : 1);
      const g = p.grad(node);
      const per = s.batched && g ? new Float64Array(len) : null;
      if (per) p.perExampleGrad(node, per);
      this.values.set(name, {
        name,
        kind,
        node,
        shape: s.shape,
        batched: s.batched,
        value: Float64Array.from(s.v.subarray(0, len)),
        grad: g ? Float64Array.from(g.subarray(0, len)) : kind === 'param' ? this.grads[name] : null,
        perExampleGrad: per,
      });
    };
    for (const q of model.params) {
      const id = p.paramNodeId(q.name);
      if (id !== undefined) add(q.name, 'param', id);
    }
    for (const d of model.inputs) {
      const id = p.dataNodeId(d.name);
      if (id !== undefined) add(d.name, 'input', id);
    }
    for (const d of model.targets) {
      const id = p.dataNodeId(d.name);
      if (id !== undefined) add(d.name, 'target', id);
    }
    for (const v of model.values) add(v.name, 'value', v.node);
    add(model.loss.name, 'loss', model.loss.node);
  }

  /** Values and gradients of any node of the forward graph (a snapshot copy). */
  node(id: number): { value: Float64Array; grad: Float64Array | null; perExampleGrad: Float64Array | null } {
    const s = this.p.slot(id);
    const len = s.size * (s.batched ? this.batchSize : 1);
    const g = this.p.grad(id);
    const per = s.batched && g ? new Float64Array(len) : null;
    if (per) this.p.perExampleGrad(id, per);
    return {
      value: Float64Array.from(s.v.subarray(0, len)),
      grad: g ? Float64Array.from(g.subarray(0, len)) : null,
      perExampleGrad: per,
    };
  }

  private singleProgram(): CompiledModel {
    if (!this.single) {
      this.single = compileModel(this.program, this.model, this.backend, {
        grads: 'all',
        fuse: this.p.fuse,
        functionGrads: this.p.functionGrads,
        lib: this.lib,
      });
      this.single.setBatchSize(1);
      this.single.setParams(this.params);
    }
    return this.single;
  }

  /**
   * ∂Cⁿ/∂X for every example n, [B, ...shape], of any param, named value, input or target
   * (unbatched ones — params — by one pass per example).
   */
  perExampleGrad(name: string): Float64Array {
    const id = nodeOfName(this.p, this.model, name);
    if (id === undefined) return this.perExampleParamGrad(name);
    return this.perExample.of(id);
  }

  /** ∂Cⁿ/∂param for every example n, [B, ...shape] (one pass per example). */
  perExampleParamGrad(name: string): Float64Array {
    const id = this.p.paramNodeId(name);
    if (id === undefined) {
      const q = this.model.params.find((x) => x.name === name);
      if (!q) throw new Error(`no param ${name}`);
      return new Float64Array(this.batchSize * q.size); // a param no node uses
    }
    return this.perExample.of(id);
  }

  /**
   * The central difference (C(θ + eps) − C(θ − eps)) / 2eps of the batch-mean loss with respect
   * to one element of a param, or to every element when `index` is omitted.
   */
  numericGrad(name: string, index: number, eps?: number): number;
  numericGrad(name: string, index?: undefined, eps?: number): Float64Array;
  numericGrad(name: string, index?: number, eps = 1e-6): number | Float64Array {
    const buf = this.p.params[name];
    if (!buf) throw new Error(`no param ${name}`);
    const one = (i: number) => {
      const x = buf[i];
      buf[i] = x + eps;
      const xp = buf[i];
      const lp = this.p.forwardAffected(name);
      buf[i] = x - eps;
      const xm = buf[i];
      const lm = this.p.forwardAffected(name);
      buf[i] = x;
      return (lp - lm) / (xp - xm);
    };
    try {
      if (index !== undefined) return one(index);
      const out = new Float64Array(buf.length);
      for (let i = 0; i < buf.length; i++) out[i] = one(i);
      return out;
    } finally {
      this.p.forwardAffected(name);
    }
  }

  /**
   * The backward block's lines: as written, and given the true per-example gradients. Empty
   * when the model has no backward block.
   */
  backwardLines(): LineValues[] {
    const lines = this.model.backward ?? [];
    if (!lines.length) return [];
    const truth = (name: string): Float64Array => {
      const id = nodeOfName(this.p, this.model, name);
      if (id === undefined) throw new Error(`grad ${name}: no such value`);
      return this.perExample.of(id);
    };
    const { givenTrue, written } = backwardLineValues(this.p, truth);
    return lines.map((line, i) => ({ line, written: written ? written[i] : null, givenTrue: givenTrue[i], truth: truth(line.target) }));
  }
}

function hasNonFinite(p: CompiledModel): boolean {
  return Object.values(p.grads).some((g) => g.some((x) => !Number.isFinite(x)));
}

/** Runs the model once (float64) at `params` on `batch` and returns the queryable snapshot. */
export function evaluateModel(
  program: IRProgram,
  model: IRModel,
  params: Readonly<Record<string, ArrayLike<number>>>,
  batch: Batch,
  opts: EvaluateOptions = {},
): Evaluation {
  const backend = opts.backend ?? jsBackend('f64');
  const lib = compileFunctions(program.functions);
  const p = compileModel(program, model, backend, {
    grads: 'all',
    fuse: opts.fuse ?? true,
    functionGrads: opts.functionGrads ?? 'user',
    lib,
  });
  p.setBatch(batch);
  p.setParams(params);
  return new Evaluation(program, model, p, params, batch, lib, backend);
}

/** The loss and ∂C/∂param (float64) of a model at `params` on `batch` — `nnlens grad`. */
export function lossAndGrads(
  program: IRProgram,
  model: IRModel,
  params: Readonly<Record<string, ArrayLike<number>>>,
  batch: Batch,
  opts: EvaluateOptions = {},
): { loss: number; grads: Record<string, Float64Array> } {
  const backend = opts.backend ?? jsBackend('f64');
  const p = compileModel(program, model, backend, { fuse: opts.fuse ?? true, functionGrads: opts.functionGrads ?? 'user' });
  p.setBatch(batch);
  p.setParams(params);
  const loss = p.forward();
  p.backward();
  const grads: Record<string, Float64Array> = {};
  for (const q of model.params) grads[q.name] = Float64Array.from(p.grads[q.name]);
  return { loss, grads };
}
