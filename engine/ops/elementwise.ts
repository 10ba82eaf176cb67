/**
 * The elementwise machinery every elementwise op of the catalog shares: from an op's scalar form
 * (one line of forward math, one line of backward math per operand; see `ScalarForm`) it
 * generates the loops around them — per-example broadcasting, the batch axis kept separate, the
 * accumulation into shared/unbatched operands — once per op and operand layout, compiled by the
 * JavaScript engine into tight loops.
 *
 * Names in the generated code: a0, a1, … the operands; y the output; g ∂L/∂y; P the op's
 * attribute (p of pow, alpha of leaky_relu); F the user function; D0, D1, … its partials; H the
 * numeric helpers.
 */
import type { FloatArray } from '../kernels/backend';
import { H as BASE_HELPERS } from '../scalar';
import { broadcastMap } from '../shape';
import type { OpContext, OpDef, OpKernel, Slot } from '../exec/types';
import { nIter, stride } from '../exec/types';
import type { NumAttr, ScalarForm } from './types';

export interface EwSpec {
  readonly key: string;
  readonly arity: number;
  /** Forward: the output as an expression of a0, a1, …, P, F. */
  readonly fwd: string;
  /** Backward: ∂L/∂a_j contribution of one element, in terms of g, y, a_i, P, D_j; null where it is 0. */
  readonly d: readonly (string | null)[];
  /** The branch code of a kink: an expression whose sign is the branch (none when absent). */
  readonly kink?: string;
  /** The helpers the code calls as `H.name`. */
  readonly H: Readonly<Record<string, unknown>>;
}

/** Operand variable names a0, a1, … */
export function operandNames(arity: number): string[] {
  return Array.from({ length: arity }, (_, j) => `a${j}`);
}

/** The loops' spec of an op's scalar form. */
export function ewSpec(key: string, arity: number, form: ScalarForm): EwSpec {
  const a = operandNames(arity);
  return {
    key,
    arity,
    fwd: form.value(a, 'P'),
    d: a.map((_, j) => form.times[j]('g', a, 'y', 'P')),
    kink: form.kinkAt?.(a, 'P'),
    H: form.helpers ? { ...BASE_HELPERS, ...form.helpers } : BASE_HELPERS,
  };
}

const callSpecs = new Map<string, EwSpec>();
/**
 * A user function of `arity` arguments: y = F(a0, …), ∂/∂a_j = D_j(a0, …). One spec (hence one
 * generated loop) per function, so that each loop's call of F stays monomorphic.
 */
export function callSpec(fn: string, arity: number): EwSpec {
  let s = callSpecs.get(fn);
  if (!s || s.arity !== arity) {
    const as = operandNames(arity).join(', ');
    s = {
      key: `call:${fn}:${arity}`,
      arity,
      fwd: `F(${as})`,
      d: Array.from({ length: arity }, (_, j) => `g * D${j}(${as})`),
      H: BASE_HELPERS,
    };
    callSpecs.set(fn, s);
  }
  return s;
}

// ---- loop generation ---------------------------------------------------------------------

type Fwd = (...a: unknown[]) => void;
const cache = new Map<string, Fwd>();

const uses = (expr: string, name: string) => new RegExp(`\\b${name}\\b`).test(expr);

function operand(j: number, mapped: boolean): string {
  return mapped ? `A${j}[o${j} + M${j}[i]]` : `A${j}[o${j} + i]`;
}

function loopHead(arity: number): string {
  const inits = Array.from({ length: arity }, (_, j) => `o${j} = 0`).join(', ');
  const steps = Array.from({ length: arity }, (_, j) => `o${j} += s${j}`).join(', ');
  return `for (let n = 0, o = 0${arity ? ', ' + inits : ''}; n < nb; n++, o += so${arity ? ', ' + steps : ''}) {\n  for (let i = 0; i < sz; i++) {`;
}

function compile(key: string, H: EwSpec['H'], params: string[], body: string): Fwd {
  let f = cache.get(key);
  if (!f) {
    f = new Function('H', `"use strict";\nreturn function (${params.join(', ')}) {\n${body}\n};`)(H) as Fwd;
    cache.set(key, f);
  }
  return f;
}

function readParams(arity: number, head: string[]): string[] {
  const params = [...head];
  for (let j = 0; j < arity; j++) params.push(`A${j}`, `s${j}`, `M${j}`);
  params.push('P', 'F');
  return params;
}

/**
 * Forward loop: O[n, i] = fwd(A_j[n, map_j(i)]). One compiled copy per dtype, so that V8
 * optimises each for one array type (float64 checks and float32 training may share a process).
 */
function forwardLoop(spec: EwSpec, mapped: boolean[], dtype: string): Fwd {
  const key = `${spec.key}|f|${mapped.map(Number).join('')}|${dtype}`;
  const reads = mapped.map((m, j) => `const a${j} = ${operand(j, m)};`).join(' ');
  const body = `${loopHead(spec.arity)}\n    ${reads}\n    O[o + i] = ${spec.fwd};\n  }\n}`;
  return compile(key, spec.H, readParams(spec.arity, ['nb', 'sz', 'O', 'so']), body);
}

/** Kink loop: K[n, i] = the sign code (0 negative, 1 zero, 2 positive) of the kink expression. */
function kinkLoop(spec: EwSpec, mapped: boolean[], dtype: string): Fwd {
  const key = `${spec.key}|k|${mapped.map(Number).join('')}|${dtype}`;
  const reads = mapped.map((m, j) => `const a${j} = ${operand(j, m)};`).join(' ');
  const body = `${loopHead(spec.arity)}\n    ${reads}\n    const k = ${spec.kink};\n    K[o + i] = k > 0 ? 2 : k < 0 ? 0 : 1;\n  }\n}`;
  return compile(key, spec.H, readParams(spec.arity, ['nb', 'sz', 'K', 'so']), body);
}

/** Backward loop: G_j[n, map_j(i)] += d_j for every argument j that wants a gradient. */
function backwardLoop(spec: EwSpec, mapped: boolean[], active: boolean[], dtype: string): Fwd {
  const key = `${spec.key}|b|${mapped.map(Number).join('')}|${active.map(Number).join('')}|${dtype}`;
  const params = ['nb', 'sz', 'O', 'GO', 'so'];
  for (let j = 0; j < spec.arity; j++) params.push(`A${j}`, `G${j}`, `s${j}`, `M${j}`);
  params.push('P', 'F');
  for (let j = 0; j < spec.arity; j++) params.push(`D${j}`);
  const exprs = spec.d.filter((_, j) => active[j]).join(' ');
  const lines: string[] = ['const g = GO[o + i];'];
  if (uses(exprs, 'y')) lines.push('const y = O[o + i];');
  for (let j = 0; j < spec.arity; j++) if (uses(exprs, `a${j}`)) lines.push(`const a${j} = ${operand(j, mapped[j])};`);
  for (let j = 0; j < spec.arity; j++) {
    if (!active[j]) continue;
    const at = mapped[j] ? `o${j} + M${j}[i]` : `o${j} + i`;
    lines.push(`G${j}[${at}] += ${spec.d[j]};`);
  }
  const body = `${loopHead(spec.arity)}\n    ${lines.join('\n    ')}\n  }\n}`;
  return compile(key, spec.H, params, body);
}

const NO_MAP = new Int32Array(0);

/**
 * Binds an elementwise op: operands broadcast per example (NumPy rules) to the output's
 * per-example shape; the batch axis is separate (an unbatched operand is shared by every
 * example and accumulates its gradient over the batch).
 */
export function bindElementwise(
  ctx: OpContext,
  spec: EwSpec,
  attr: number,
  fn: {
    f: (...a: number[]) => number;
    d: () => readonly ((...a: number[]) => number)[];
  } | null,
): OpKernel {
  const { out, args } = ctx;
  const nb = nIter(ctx);
  const sz = out.size;
  const so = out.batched ? sz : 0;
  const maps = args.map((a) => broadcastMap(out.shape, a.shape));
  const mapped = maps.map((m) => m !== null);
  const fwdLoop = forwardLoop(spec, mapped, ctx.backend.dtype);
  const F = fn ? fn.f : null;
  const reads: unknown[] = [];
  args.forEach((a, j) => reads.push(a.v, stride(a), maps[j] ?? NO_MAP));
  reads.push(attr, F);
  const fArgs: unknown[] = [nb, sz, out.v, so, ...reads];
  const forward = () => fwdLoop(...fArgs);

  let backward: (() => void) | null = null;
  const active = args.map((a, j) => a.g !== null && spec.d[j] !== null);
  if (out.g && active.some(Boolean)) {
    const bwdLoop = backwardLoop(spec, mapped, active, ctx.backend.dtype);
    const bArgs: unknown[] = [nb, sz, out.v, out.g, so];
    args.forEach((a, j) => bArgs.push(a.v, a.g ?? a.v, stride(a), maps[j] ?? NO_MAP));
    bArgs.push(attr, F);
    const dStart = bArgs.length;
    for (let j = 0; j < spec.arity; j++) bArgs.push(null);
    backward = () => {
      if (fn) {
        const ds = fn.d();
        for (let j = 0; j < ds.length; j++) bArgs[dStart + j] = ds[j];
      }
      bwdLoop(...bArgs);
    };
  }
  const k: OpKernel = { forward, backward };
  if (spec.kink !== undefined) {
    const loop = kinkLoop(spec, mapped, ctx.backend.dtype);
    k.kink = { size: nb * sz, write: (codes: Int32Array) => loop(nb, sz, codes, so, ...reads) };
  }
  return k;
}

/** The IR attribute an elementwise node passes its loops as P (0 when it has none). */
export function attrOf(node: { readonly p?: number; readonly alpha?: number }, attr: NumAttr | undefined): number {
  return attr ? (node[attr] ?? 0) : 0;
}

/** An elementwise op's kernel: the generated loops of its scalar form. */
export function elementwiseKernel(spec: EwSpec, attr?: NumAttr): OpDef {
  return { bind: (ctx) => bindElementwise(ctx, spec, attrOf(ctx.node, attr), null) };
}

/** Reads operand j of an elementwise node at output element (n, i) — for diagnostics. */
export function elementwiseOperand(out: Slot, a: Slot, n: number, i: number): number {
  const map = broadcastMap(out.shape, a.shape);
  return a.v[n * stride(a) + (map ? map[i] : i)];
}

export type { FloatArray };
