/**
 * Per-example views of a program: values repeated per example, per-example gradients ∂Cⁿ/∂X
 * of any node (batched nodes from the batch pass, unbatched ones — params — from one pass per
 * example), and the backward block's lines evaluated with those true gradients and as written.
 * Shared by the gradient checker and the evaluation snapshot.
 */
import type { IRModel } from '../ir';
import type { Batch, CompiledModel } from './program';
import { sizeOf } from '../shape';

/** A node's values as [B, ...shape]: an unbatched node's values repeated for every example. */
export function perExampleValues(p: CompiledModel, id: number): Float64Array {
  const B = p.batchSize;
  const s = p.slot(id);
  const out = new Float64Array(B * s.size);
  if (s.batched) out.set(s.v.subarray(0, B * s.size));
  else for (let e = 0; e < B; e++) out.set(s.v.subarray(0, s.size), e * s.size);
  return out;
}

/** The mean over the examples of a [B, ...] array. */
export function meanOverExamples(a: ArrayLike<number>, B: number, size: number): Float64Array {
  const m = new Float64Array(size);
  for (let e = 0; e < B; e++) for (let i = 0; i < size; i++) m[i] += a[e * size + i];
  for (let i = 0; i < size; i++) m[i] /= B;
  return m;
}

/** The node holding a name's value: a param, a named value, the loss, an input or a target. */
export function nodeOfName(p: CompiledModel, model: IRModel, name: string): number | undefined {
  return (
    p.paramNodeId(name) ??
    model.values.find((v) => v.name === name)?.node ??
    (model.loss.name === name ? model.loss.node : undefined) ??
    p.dataNodeId(name)
  );
}

/**
 * Per-example gradients ∂Cⁿ/∂X, [B, ...shape], of the batch program `p` after its backward
 * pass. `single` returns a program of the same model with batch size 1 and the same params
 * (made on first use); it serves the unbatched nodes, one forward and backward per example.
 */
export class PerExampleGrads {
  private readonly cache = new Map<number, Float64Array>();

  constructor(
    private readonly p: CompiledModel,
    private readonly batch: Batch,
    private readonly single: () => CompiledModel,
  ) {}

  of(id: number): Float64Array {
    return this.ofMany([id])[0];
  }

  /** Gradients of several nodes; the unbatched ones share the per-example passes. */
  ofMany(ids: readonly number[]): Float64Array[] {
    const p = this.p;
    const B = p.batchSize;
    const todo = ids.filter((id) => !this.cache.has(id) && !p.batched[id]);
    for (const id of ids) {
      if (this.cache.has(id) || !p.batched[id]) continue;
      const buf = new Float64Array(B * p.slot(id).size);
      p.perExampleGrad(id, buf);
      this.cache.set(id, buf);
    }
    if (todo.length) {
      const s = this.single();
      const bufs = todo.map((id) => new Float64Array(B * p.slot(id).size));
      for (let e = 0; e < B; e++) {
        loadExample(s, p.model, this.batch, e);
        s.forward();
        s.backward();
        todo.forEach((id, k) => {
          const g = s.grad(id);
          const size = p.slot(id).size;
          if (g) bufs[k].set(g.subarray(0, size), e * size);
        });
      }
      todo.forEach((id, k) => this.cache.set(id, bufs[k]));
    }
    return ids.map((id) => this.cache.get(id)!);
  }
}

/** Copies example e of a batch into a program of batch size 1. */
export function loadExample(s: CompiledModel, model: IRModel, batch: Batch, e: number): void {
  for (const d of [...model.inputs, ...model.targets]) {
    const dst = s.data[d.name];
    if (!dst) continue;
    const size = sizeOf(d.shape);
    const src = batch.data[d.name];
    for (let i = 0; i < size; i++) dst[i] = src[e * size + i];
  }
}

/**
 * The backward block's lines, each [B, ...shape of its target]: with the true per-example
 * gradient of every `grad Y` it uses (`truth(Y)`), and as written (null when the block cannot
 * be evaluated as written, e.g. a reference without a line — the language reports that).
 */
export function backwardLineValues(
  p: CompiledModel,
  truth: (name: string) => Float64Array | undefined,
): { givenTrue: Float64Array[]; written: Float64Array[] | null } {
  const lines = p.model.backward ?? [];
  p.evalBackwardBlock((name, out) => {
    const t = truth(name);
    if (t) out.set(t);
    else out.fill(NaN);
  });
  const givenTrue = lines.map((l) => perExampleValues(p, l.node));
  let written: Float64Array[] | null = null;
  try {
    p.evalBackwardBlock('written');
    written = lines.map((l) => perExampleValues(p, l.node));
  } catch {
    written = null;
  }
  return { givenTrue, written };
}
