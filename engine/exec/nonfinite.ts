/**
 * Finding where NaN or ±Infinity first appears: the first op (in evaluation order) whose output
 * is non-finite while everything it reads is finite, with the example, the index and the input
 * value that caused it (log(0), 0/0, sqrt of a negative number, an overflowing exp, …).
 */
import type { IRModel, Range } from '../ir';
import type { FloatArray } from '../kernels/backend';
import { fmt } from '../format';
import { formatIndex } from '../shape';
import { elementwiseOperand, nodeAttr, nodeEntry, nodeLabel, type NonFiniteCtx } from '../ops/index';
import type { CompiledModel } from './program';

export { fmt };

export interface NonFinite {
  phase: 'forward' | 'backward';
  /** The node that produced it. */
  node: number;
  /** What produced it: `log`, `cross_entropy`, a user function's name, `input x`, … */
  opName: string;
  range: Range;
  /** The example's index in the batch, from 0 (null for a value without batch axis). */
  example: number | null;
  /** The example's number as messages say it: its row of the data set when known, else 1-based. */
  exampleNumber: number | null;
  /** The element, e.g. `a1[3]`. */
  where: string;
  value: number;
  /** The cause in words, e.g. `log(0) = -Infinity`. */
  cause: string;
  /** A complete sentence for a diagnostic. */
  message: string;
}

function firstNonFinite(a: FloatArray, n: number): number {
  for (let i = 0; i < n; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

function allFinite(a: FloatArray, n: number): boolean {
  return firstNonFinite(a, n) < 0;
}

function nodeName(model: IRModel, id: number): string | null {
  for (const v of model.values) if (v.node === id) return v.name;
  if (model.loss.node === id) return model.loss.name;
  return null;
}

function opName(p: CompiledModel, id: number): string {
  const n = p.nodes[id];
  if (n.op === 'input' || n.op === 'target' || n.op === 'param') return `${n.op} ${n.name}`;
  if (n.op === 'const' || n.op === 'gradRef') return n.op;
  return nodeLabel(n);
}

function locate(p: CompiledModel, id: number, flat: number): { example: number | null; where: string; i: number } {
  const s = p.slot(id);
  const example = s.batched ? Math.floor(flat / s.size) : null;
  const i = s.batched ? flat % s.size : flat;
  const base = nodeName(p.model, id) ?? p.nodes[id].name ?? opName(p, id);
  return { example, where: formatIndex(base, s.shape, i), i };
}

/** Why an op produced a non-finite value at output element (e, i) from finite operands. */
function forwardCause(p: CompiledModel, id: number, e: number, i: number, value: number): string {
  const n = p.nodes[id];
  const out = p.slot(id);
  const entry = nodeEntry(n);
  const c: NonFiniteCtx = {
    value,
    attr: nodeAttr(n, entry),
    node: n,
    at: (j) => elementwiseOperand(out, p.slot(n.args[j]), e, i),
    operand(j) {
      const s = p.slot(n.args[j]);
      return { values: s.v, offset: s.batched ? e * s.size : 0, shape: s.shape, valueName: nodeName(p.model, n.args[j]), leafName: p.nodes[n.args[j]].name };
    },
  };
  return entry.nonFinite?.forward?.(c) ?? `${opName(p, id)} overflows (${fmt(value)}) from finite inputs`;
}

/** Example e (from 0) as messages number it: `rows[e]` (its row of the data), else e + 1. */
export function exampleNumber(e: number, rows?: readonly number[]): number {
  return rows?.[e] ?? e + 1;
}

function wrap(
  p: CompiledModel,
  phase: 'forward' | 'backward',
  id: number,
  at: number,
  flat: number,
  value: number,
  cause: string,
  rows?: readonly number[],
): NonFinite {
  const loc = locate(p, at, flat);
  const number = loc.example === null ? null : exampleNumber(loc.example, rows);
  const ex = number === null ? '' : ` (example ${number})`;
  const name = opName(p, id);
  const message =
    phase === 'forward'
      ? `non-finite value: ${cause} — ${name} gives ${fmt(value)} at ${loc.where}${ex}`
      : `non-finite gradient: ${cause} — the backward of ${name} gives ${fmt(value)} for ${loc.where}${ex}`;
  return { phase, node: id, opName: name, range: p.nodes[id].range, example: loc.example, exampleNumber: number, where: loc.where, value, cause, message };
}

/** The first op of the last forward pass that produced NaN/±Infinity from finite inputs. */
export function findNonFiniteForward(p: CompiledModel, rows?: readonly number[]): NonFinite | null {
  const B = p.batchSize;
  const len = (id: number) => p.slot(id).size * (p.batched[id] ? B : 1);
  // leaves: data or params that are already non-finite
  for (const n of p.model.nodes) {
    if (n.op !== 'input' && n.op !== 'target' && n.op !== 'param') continue;
    const k = firstNonFinite(p.value(n.id), len(n.id));
    if (k >= 0) {
      const v = p.value(n.id)[k];
      return wrap(p, 'forward', n.id, n.id, k, v, `${n.op} ${n.name} holds ${fmt(v)}`, rows);
    }
  }
  for (const id of p.forwardOrder) {
    const k = firstNonFinite(p.value(id), len(id));
    if (k < 0) continue;
    if (!p.nodes[id].args.every((a) => allFinite(p.value(a), len(a)))) continue;
    const s = p.slot(id);
    const e = s.batched ? Math.floor(k / s.size) : 0;
    const v = p.value(id)[k];
    return wrap(p, 'forward', id, id, k, v, forwardCause(p, id, e, k % s.size, v), rows);
  }
  return null;
}

/**
 * Re-runs the backward pass one op at a time and returns the first op that wrote a non-finite
 * gradient into an operand while its own gradient and inputs were finite.
 */
export function findNonFiniteBackward(p: CompiledModel, rows?: readonly number[]): NonFinite | null {
  const B = p.batchSize;
  const len = (id: number) => p.slot(id).size * (p.batched[id] ? B : 1);
  const fused = p.fusedLosses();
  let found: NonFinite | null = null;
  p.backwardStepwise((id) => {
    const n = p.nodes[id];
    const g = p.slot(id).g;
    if (g && !allFinite(g, len(id))) return false; // not the origin
    const targets = [...n.args];
    const f = fused.get(id);
    if (f) targets.push(f.z);
    for (const a of targets) {
      const ga = p.slot(a).g;
      if (!ga) continue;
      const k = firstNonFinite(ga, len(a));
      if (k < 0) continue;
      const x = p.value(a)[k];
      const loc = locate(p, a, k);
      const name = opName(p, id);
      const entry = nodeEntry(n);
      const cause =
        entry.nonFinite?.backward?.(x, nodeAttr(n, entry)) ?? `${name} has a non-finite derivative where ${loc.where} = ${fmt(x)}`;
      found = wrap(p, 'backward', id, a, k, ga[k], cause, rows);
      if (nodeName(p.model, a) === null && p.nodes[a].name === undefined) {
        // an unnamed operand: say "its input" rather than the operand's op
        const s = p.slot(a);
        const i = s.batched ? k % s.size : k;
        found.where = s.shape.length ? `its input ${formatIndex('', s.shape, i)}` : 'its input';
        const ex = found.exampleNumber === null ? '' : ` (example ${found.exampleNumber})`;
        found.message = `non-finite gradient: ${cause} — the backward of ${found.opName} gives ${fmt(ga[k])} for ${found.where}${ex}`;
      }
      return true;
    }
    return false;
  });
  return found;
}
