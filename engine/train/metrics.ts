/**
 * Metrics of a training run: which value is the model's output, and how accuracy is counted.
 *
 * The output is the loss's prediction argument: `y` in `cross_entropy(y, t)`, `mse(y, t)` and
 * `binary_cross_entropy(y, t)`. A loss written another way (`loss C = sum((y - t)^2)`) has as
 * output the last named value with the target's shape that does not depend on the target.
 *
 * Accuracy:
 * - 'one-hot' targets (the data set says its labels are one-hot, e.g. digits16, spiral, csv with
 *   `classes`): an example is right when the argmax of the output equals the argmax of the target
 *   (first maximum on ties, like torch.argmax);
 * - 'binary' targets (one number per example, every label 0 or 1, e.g. xor, circle, gauss): the
 *   output predicts 1 when it is ≥ 0.5 (a probability from a sigmoid, or a regression onto 0/1);
 * - otherwise no accuracy (regression).
 */
import type { Dataset } from '../data/types';
import type { IRModel } from '../ir';
import type { FloatArray } from '../kernels/backend';

export type AccuracyKind = 'one-hot' | 'binary';

const LOSSES_WITH_PREDICTION = new Set(['cross_entropy', 'mse', 'binary_cross_entropy']);

/** The node id of the model's output (see above), or null when there is none. */
export function outputNodeOf(model: IRModel): number | null {
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const loss = byId.get(model.loss.node);
  if (!loss) return null;
  if (LOSSES_WITH_PREDICTION.has(loss.op) && loss.args.length === 2) return loss.args[0];
  const target = model.targets[0];
  if (!target) return null;
  // which nodes depend on a target
  const dependsOnTarget = new Map<number, boolean>();
  for (const n of model.nodes) dependsOnTarget.set(n.id, n.op === 'target' || n.args.some((a) => dependsOnTarget.get(a)));
  const sameShape = (s: readonly number[]) => s.length === target.shape.length && s.every((d, i) => d === target.shape[i]);
  for (let i = model.values.length - 1; i >= 0; i--) {
    const v = model.values[i];
    const n = byId.get(v.node);
    if (n && sameShape(n.shape) && !dependsOnTarget.get(n.id)) return n.id;
  }
  return null;
}

/** The output's name in the model (`y`), or null. */
export function outputNameOf(model: IRModel, node: number | null): string | null {
  if (node === null) return null;
  return model.values.find((v) => v.node === node)?.name ?? null;
}

/** How accuracy is counted on this data, given the output's per-example size; null for none. */
export function accuracyKindOf(ds: Dataset, outputSize: number | null): AccuracyKind | null {
  if (outputSize === null) return null;
  const k = ds.yShape.reduce((a, b) => a * b, 1);
  if (k !== outputSize) return null;
  if (ds.oneHot && k >= 2) return 'one-hot';
  if (k === 1 && ds.n > 0) {
    for (let i = 0; i < ds.n; i++) if (ds.y[i] !== 0 && ds.y[i] !== 1) return null;
    return 'binary';
  }
  return null;
}

/**
 * How many of `count` examples are classified right: outputs `out[e·k …]` against targets
 * `targets[tOff + e·k …]`.
 */
export function countCorrect(
  kind: AccuracyKind,
  count: number,
  k: number,
  out: FloatArray,
  targets: FloatArray,
  tOff: number,
): number {
  let right = 0;
  if (kind === 'binary') {
    for (let e = 0; e < count; e++) {
      const predicted = out[e] >= 0.5 ? 1 : 0;
      if (predicted === targets[tOff + e]) right++;
    }
    return right;
  }
  for (let e = 0; e < count; e++) {
    const o = e * k;
    const t = tOff + e * k;
    let bo = 0;
    let bt = 0;
    for (let i = 1; i < k; i++) {
      if (out[o + i] > out[o + bo]) bo = i;
      if (targets[t + i] > targets[t + bt]) bt = i;
    }
    if (bo === bt) right++;
  }
  return right;
}
