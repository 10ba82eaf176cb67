/**
 * The model's output, as every exporter names it: the value the loss reads as its prediction.
 *
 * - The prediction argument of the loss op (`y` in `cross_entropy(y, t)`, `mse(y, t)`,
 *   `binary_cross_entropy(y, t)`), else the last named value with the target's shape that does
 *   not depend on the target — the output `nnlens train`'s accuracy reads (engine/train/metrics.ts).
 * - A model whose loss names neither (no target, or a loss written another way) has as output its
 *   last named value that does not depend on a target.
 *
 * Its name is the first named value it is (`y`), or `output` when it has no name of its own (the
 * loss reads an unnamed expression such as `mse(W @ x, t)`).
 */
import type { IRModel } from '../../engine/ir';
import { outputNodeOf } from '../../engine/train/index';

export interface ModelOutput {
  node: number;
  name: string;
  /** True when the name is the model's own (a named value); false for `output`. */
  named: boolean;
}

/** Which nodes depend on a target. */
export function targetDependence(model: IRModel): boolean[] {
  const dep: boolean[] = [];
  for (const n of model.nodes) dep[n.id] = n.op === 'target' || n.args.some((a) => dep[a]);
  return dep;
}

export function modelOutput(model: IRModel): ModelOutput | null {
  const dep = targetDependence(model);
  let node = outputNodeOf(model);
  if (node !== null && dep[node]) node = null;
  if (node === null) {
    for (let i = model.values.length - 1; i >= 0 && node === null; i--) {
      const v = model.values[i];
      if (!dep[v.node] && v.node !== model.loss.node) node = v.node;
    }
  }
  if (node === null) return null;
  const named = model.values.find((v) => v.node === node);
  if (named) return { node, name: named.name, named: true };
  const taken = new Set([...model.values, ...model.inputs, ...model.targets, ...model.params, model.loss].map((d) => d.name));
  let name = 'output';
  for (let k = 2; taken.has(name); k++) name = `output${k}`;
  return { node, name, named: false };
}
