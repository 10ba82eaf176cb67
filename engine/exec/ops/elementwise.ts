/**
 * Elementwise ops: add sub mul div neg pow unary leaky_relu and user-function calls.
 *
 * Each op is one line of forward math and one line of backward math per argument, next to each
 * other. The loops around them (per-example broadcasting, the batch axis kept separate, the
 * accumulation into shared/unbatched operands) are generated once per op and operand layout and
 * compiled by the JavaScript engine into tight loops.
 *
 * Names in the expressions: a0, a1, … the operands; y the output; g ∂L/∂y; P the op's
 * attribute (p of pow, alpha of leaky_relu); F the user function; D0, D1, … its partials.
 */
import type { IRNode, UnaryFn } from '../../ir';
import type { FloatArray } from '../../kernels/backend';
import { H, unaryCode, unaryDerivCode } from '../../scalar';
import { broadcastMap } from '../shape';
import type { OpContext, OpDef, OpKernel, Slot } from '../types';
import { nIter, stride } from '../types';

export interface EwSpec {
  readonly key: string;
  readonly arity: number;
  /** Forward: the output as an expression of a0, a1, …, P, F. */
  readonly fwd: string;
  /** Backward: ∂L/∂a_j contribution of one element, in terms of g, y, a_i, P, D_j. */
  readonly d: readonly string[];
}

// ---- the ops ---------------------------------------------------------------------------

export const ADD: EwSpec = { key: 'add', arity: 2, fwd: 'a0 + a1', d: ['g', 'g'] };
export const SUB: EwSpec = { key: 'sub', arity: 2, fwd: 'a0 - a1', d: ['g', '-g'] };
export const MUL: EwSpec = { key: 'mul', arity: 2, fwd: 'a0 * a1', d: ['g * a1', 'g * a0'] };
export const DIV: EwSpec = {
  key: 'div',
  arity: 2,
  fwd: 'a0 / a1',
  d: ['g / a1', '-g * a0 / (a1 * a1)'],
};
export const NEG: EwSpec = { key: 'neg', arity: 1, fwd: '-a0', d: ['-g'] };
/** a ^ p; d/da = p a^(p-1), and 0 for p = 0 (as PyTorch). */
export const POW: EwSpec = { key: 'pow', arity: 1, fwd: 'H.power(a0, P)', d: ['g * H.powerDeriv(a0, P)'] };
/** leaky_relu(a, alpha); derivative 1 for a > 0, alpha for a ≤ 0 (PyTorch: alpha at 0). */
export const LEAKY: EwSpec = {
  key: 'leaky_relu',
  arity: 1,
  fwd: 'H.leakyRelu(a0, P)',
  d: ['g * (a0 > 0 ? 1 : P)'],
};

const unarySpecs = new Map<UnaryFn, EwSpec>();
/** sigmoid tanh relu exp log sqrt abs square softplus; relu'(0) = abs'(0) = 0 (as PyTorch). */
export function unarySpec(fn: UnaryFn): EwSpec {
  let s = unarySpecs.get(fn);
  if (!s) {
    s = {
      key: `unary:${fn}`,
      arity: 1,
      fwd: unaryCode(fn, 'a0'),
      d: [`g * ${unaryDerivCode(fn, 'a0', 'y')}`],
    };
    unarySpecs.set(fn, s);
  }
  return s;
}

const callSpecs = new Map<string, EwSpec>();
/**
 * A user function of `arity` arguments: y = F(a0, …), ∂/∂a_j = D_j(a0, …). One spec (hence one
 * generated loop) per function, so that each loop's call of F stays monomorphic.
 */
export function callSpec(fn: string, arity: number): EwSpec {
  let s = callSpecs.get(fn);
  if (!s || s.arity !== arity) {
    const as = Array.from({ length: arity }, (_, j) => `a${j}`).join(', ');
    s = {
      key: `call:${fn}:${arity}`,
      arity,
      fwd: `F(${as})`,
      d: Array.from({ length: arity }, (_, j) => `g * D${j}(${as})`),
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

function compile(key: string, params: string[], body: string): Fwd {
  let f = cache.get(key);
  if (!f) {
    f = new Function('H', `"use strict";\nreturn function (${params.join(', ')}) {\n${body}\n};`)(H) as Fwd;
    cache.set(key, f);
  }
  return f;
}

/**
 * Forward loop: O[n, i] = fwd(A_j[n, map_j(i)]). One compiled copy per dtype, so that V8
 * optimises each for one array type (float64 checks and float32 training may share a process).
 */
function forwardLoop(spec: EwSpec, mapped: boolean[], dtype: string): Fwd {
  const key = `${spec.key}|f|${mapped.map(Number).join('')}|${dtype}`;
  const params = ['nb', 'sz', 'O', 'so'];
  for (let j = 0; j < spec.arity; j++) params.push(`A${j}`, `s${j}`, `M${j}`);
  params.push('P', 'F');
  const reads = mapped.map((m, j) => `const a${j} = ${operand(j, m)};`).join(' ');
  const body = `${loopHead(spec.arity)}\n    ${reads}\n    O[o + i] = ${spec.fwd};\n  }\n}`;
  return compile(key, params, body);
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
  return compile(key, params, body);
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
  const fArgs: unknown[] = [nb, sz, out.v, so];
  args.forEach((a, j) => fArgs.push(a.v, stride(a), maps[j] ?? NO_MAP));
  fArgs.push(attr, F);
  const forward = () => fwdLoop(...fArgs);

  let backward: (() => void) | null = null;
  const active = args.map((a) => a.g !== null);
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
  return { forward, backward };
}

/** Kink codes of an elementwise op with one operand of the output's shape: sign of the input. */
function signKink(ctx: OpContext): OpKernel['kink'] {
  const a = ctx.args[0];
  const n = nIter(ctx) * ctx.out.size;
  return {
    size: n,
    write(out: Int32Array) {
      const v = a.v;
      if (a.batched || !ctx.out.batched) {
        for (let i = 0; i < n; i++) out[i] = v[i] > 0 ? 2 : v[i] < 0 ? 0 : 1;
      } else {
        const sz = a.size;
        for (let i = 0; i < n; i++) {
          const x = v[i % sz];
          out[i] = x > 0 ? 2 : x < 0 ? 0 : 1;
        }
      }
    },
  };
}

function simple(spec: EwSpec, attr: (n: IRNode) => number = () => 0): OpDef {
  return { bind: (ctx) => bindElementwise(ctx, spec, attr(ctx.node), null) };
}

/**
 * add: the generated loop, except for the float32 training path's most common layout — a bias,
 * `W @ x + b`: one batched operand and one unbatched operand of the output's shape. Then the
 * backend's row kernels do it (SIMD in WebAssembly): forward Y = X + b in every row; backward
 * ∂X += ∂Y, ∂b += column sums of ∂Y (the same sums as the loop: rows added in order).
 */
export const add: OpDef = {
  bind(ctx) {
    const k = bindElementwise(ctx, ADD, 0, null);
    const { out, args, backend: be } = ctx;
    if (be.dtype !== 'f32' || !be.addBias || !be.sumRows || !be.axpby || !out.batched) return k;
    const [a0, a1] = args;
    const xi = a0.batched && !a1.batched ? 0 : a1.batched && !a0.batched ? 1 : -1;
    if (xi < 0 || !sameShapeAs(out, args[xi]) || !sameShapeAs(out, args[1 - xi])) return k;
    const x = args[xi];
    const b = args[1 - xi];
    const rows = ctx.B;
    const cols = out.size;
    const addBias = be.addBias.bind(be);
    const sumRows = be.sumRows.bind(be);
    const axpby = be.axpby.bind(be);
    k.forward = () => addBias(rows, cols, x.v, 0, b.v, 0, out.v, 0);
    if (k.backward) {
      const gx = x.g;
      const gb = b.g;
      const go = out.g!;
      k.backward = () => {
        if (gx) axpby(rows * cols, 1, go, 0, 1, gx, 0);
        if (gb) sumRows(rows, cols, go, 0, gb, 0);
      };
    }
    return k;
  },
};

function sameShapeAs(a: Slot, b: Slot): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}
export const sub = simple(SUB);
export const mul = simple(MUL);
export const div = simple(DIV);
export const neg = simple(NEG);
export const pow = simple(POW, (n) => n.p!);

/**
 * sigmoid tanh relu exp log sqrt abs square softplus. On the float32 training path, exp, sigmoid,
 * tanh and relu use the backend's `unary` / `unaryBackward` (SIMD in WebAssembly; Math.exp costs
 * 10–30 ns per call); the float64 path (gradient checks, hovers) keeps the generated loops.
 */
export const unary: OpDef = {
  bind(ctx) {
    const fn = ctx.node.fn as UnaryFn;
    const k = bindElementwise(ctx, unarySpec(fn), 0, null);
    if (fn === 'relu' || fn === 'abs') k.kink = signKink(ctx);
    const be = ctx.backend;
    if (be.dtype === 'f32' && be.unary && be.unaryBackward && (fn === 'exp' || fn === 'sigmoid' || fn === 'tanh' || fn === 'relu')) {
      // one operand of the output's shape and batching: the same flat layout
      const [a] = ctx.args;
      const { out } = ctx;
      const n = nIter(ctx) * out.size;
      const map = be.unary.bind(be);
      const back = be.unaryBackward.bind(be);
      k.forward = () => map(fn, n, a.v, 0, out.v, 0);
      if (k.backward) {
        const ga = a.g!;
        const go = out.g!;
        k.backward = () => back(fn, n, out.v, 0, go, 0, ga, 0);
      }
    }
    return k;
  },
};

export const leakyRelu: OpDef = {
  bind(ctx) {
    const k = bindElementwise(ctx, LEAKY, ctx.node.alpha!, null);
    k.kink = signKink(ctx);
    return k;
  },
};

export const call: OpDef = {
  bind(ctx) {
    const fn = ctx.lib.get(ctx.node.fn!);
    if (fn.arity !== ctx.args.length)
      throw new Error(`call of '${fn.name}' with ${ctx.args.length} arguments, expected ${fn.arity}`);
    const k = bindElementwise(ctx, callSpec(fn.name, fn.arity), 0, {
      f: fn.f,
      d: () => (ctx.fnGrads.mode === 'user' ? fn.dUsed : fn.dTrue),
    });
    if (fn.kinkSig) {
      const sig = fn.kinkSig;
      const { out, args } = ctx;
      const nb = nIter(ctx);
      const maps = args.map((a) => broadcastMap(out.shape, a.shape));
      const xs = new Array<number>(args.length);
      k.kink = {
        size: nb * out.size,
        write(codes: Int32Array) {
          for (let n = 0; n < nb; n++) {
            for (let i = 0; i < out.size; i++) {
              for (let j = 0; j < args.length; j++) {
                const a = args[j];
                xs[j] = a.v[n * stride(a) + (maps[j] ? maps[j]![i] : i)];
              }
              codes[n * out.size + i] = sig(...xs);
            }
          }
        },
      };
    }
    return k;
  },
};

/** Reads operand j of an elementwise node at output element (n, i) — for diagnostics. */
export function elementwiseOperand(out: Slot, a: Slot, n: number, i: number): number {
  const map = broadcastMap(out.shape, a.shape);
  return a.v[n * stride(a) + (map ? map[i] : i)];
}

export type { FloatArray };
