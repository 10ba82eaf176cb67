/**
 * The seeded random batch a gradient check uses when the model has no data (§7):
 * inputs from a standard normal; a target read by `cross_entropy` gets one-hot rows (one 1 per
 * row of its last axis), one read by `binary_cross_entropy` 0s and 1s, any other target a
 * standard normal. Each input/target draws from its own generator (seed, name).
 */
import type { IRModel, IRProgram } from '../ir';
import { paramSeed } from '../init';
import { Rng } from '../rng';
import { sizeOf } from '../shape';
import { nodeEntry } from '../ops/index';
import { LEAF_OPS, type Batch } from '../exec/program';

export type TargetKind = 'one-hot' | 'binary' | 'normal';

/** How a target is read: by a loss whose target is one-hot (cross_entropy), binary (binary_cross_entropy), or else. */
export function targetKind(model: IRModel, name: string): TargetKind {
  const ids = new Set(model.nodes.filter((n) => n.op === 'target' && n.name === name).map((n) => n.id));
  let kind: TargetKind = 'normal';
  for (const n of model.nodes) {
    if (n.args[1] === undefined || !ids.has(n.args[1])) continue;
    const target = LEAF_OPS.has(n.op) ? undefined : nodeEntry(n).loss?.target;
    if (target === 'one-hot') return 'one-hot';
    if (target === 'binary') kind = 'binary';
  }
  return kind;
}

export function randomBatch(program: IRProgram, model: IRModel, n: number, seed: number): Batch {
  void program;
  const data: Record<string, Float64Array> = {};
  for (const d of model.inputs) {
    const rng = new Rng(paramSeed(seed, `input:${d.name}`));
    const a = new Float64Array(n * sizeOf(d.shape));
    for (let i = 0; i < a.length; i++) a[i] = rng.normal();
    data[d.name] = a;
  }
  for (const d of model.targets) {
    const rng = new Rng(paramSeed(seed, `target:${d.name}`));
    const a = new Float64Array(n * sizeOf(d.shape));
    switch (targetKind(model, d.name)) {
      case 'one-hot': {
        const L = d.shape.length ? d.shape[d.shape.length - 1] : 1;
        for (let r = 0; r < a.length / L; r++) a[r * L + rng.int(L)] = 1;
        break;
      }
      case 'binary':
        for (let i = 0; i < a.length; i++) a[i] = rng.nextU32() & 1;
        break;
      case 'normal':
        for (let i = 0; i < a.length; i++) a[i] = rng.normal();
        break;
    }
    data[d.name] = a;
  }
  return { n, data };
}
