/**
 * User functions (§4): elementwise scalar functions with optional `grad` lines.
 *
 * Every body and derivative is compiled once to a JavaScript function (`new Function`), so a
 * call node costs one direct function call per element, not a walk of the expression tree.
 *
 * For each argument j a function has three derivatives:
 * - `dUser[j]`: the user's `grad` line, compiled as written (null when there is none);
 * - `dUsed[j]`: what backpropagation uses — the user's line when given, else the derivative
 *   taken automatically from the body, in which nested calls of user functions use *their*
 *   grad lines when given (like a custom autograd Function);
 * - `dTrue[j]`: the true derivative — automatic everywhere, ignoring every grad line. The
 *   gradient checker blames user lines against it.
 *
 * Automatic derivatives are forward-mode: the body is emitted in SSA form with a derivative
 * beside each value, so code size stays linear in the body and shared values are computed once.
 */
import type { IRFunction, ScalarExpr } from './ir';
import { SCALAR_HELPERS, scalarChildren, scalarOp } from './ops/index';
import { numLiteral } from './scalar';

export type ScalarFn = (...args: number[]) => number;

export interface CompiledFunction {
  readonly name: string;
  readonly ir: IRFunction;
  readonly arity: number;
  /** The body. */
  readonly f: ScalarFn;
  /** The user's `grad` lines (null where the argument has none). */
  readonly dUser: readonly (ScalarFn | null)[];
  /** What backpropagation uses: the user's line when given, else automatic. */
  readonly dUsed: readonly ScalarFn[];
  /** The true partial derivatives: automatic, ignoring every grad line. */
  readonly dTrue: readonly ScalarFn[];
  /** True when the body (or a function it calls) contains an op with a kink (relu, abs, leaky_relu). */
  readonly kinky: boolean;
  /**
   * For kinky functions: a code of which side of each kink the evaluation falls on (negative,
   * exactly at the kink, positive). Equal codes at two points mean no kink lies between them
   * (up to hash collisions, which are astronomically unlikely for the few kinks of a body).
   */
  readonly kinkSig: ScalarFn | null;
  /** JavaScript source of each compiled piece, for error messages and debugging. */
  readonly source: { f: string; dUsed: string[]; dTrue: string[] };
}

export class FunctionLib {
  private readonly byName = new Map<string, CompiledFunction>();
  constructor(fns: CompiledFunction[]) {
    for (const f of fns) this.byName.set(f.name, f);
  }
  get(name: string): CompiledFunction {
    const f = this.byName.get(name);
    if (!f) throw new Error(`unknown function '${name}'`);
    return f;
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  all(): CompiledFunction[] {
    return [...this.byName.values()];
  }
  /** Names of the functions `name` calls, transitively, including itself. */
  closure(name: string): string[] {
    const seen = new Set<string>();
    const visit = (n: string) => {
      if (seen.has(n)) return;
      seen.add(n);
      forEachCall(this.get(n).ir.body, (c) => visit(c));
      for (const g of this.get(n).ir.grads) if (g) forEachCall(g.expr, (c) => visit(c));
    };
    visit(name);
    return [...seen];
  }
}

function forEachCall(e: ScalarExpr, cb: (fn: string) => void): void {
  walk(e, (x) => {
    if (x.k === 'call') cb(x.fn);
  });
}

/** The runtime table generated code refers to as `L`. */
interface Table {
  f: ScalarFn[];
  du: ScalarFn[][];
  dt: ScalarFn[][];
  k: (ScalarFn | null)[];
}

class Emitter {
  readonly lines: string[] = [];
  private n = 0;
  tmp(expr: string): string {
    const v = `t${this.n++}`;
    this.lines.push(`const ${v} = ${expr};`);
    return v;
  }
}

/** Compiles every function of a program. Throws on unknown names, wrong arity or recursion. */
export function compileFunctions(fns: readonly IRFunction[]): FunctionLib {
  const index = new Map<string, number>();
  fns.forEach((f, i) => index.set(f.name, i));
  validate(fns, index);

  const table: Table = { f: [], du: [], dt: [], k: [] };
  const kinky = computeKinky(fns, index);
  const idx = (name: string) => index.get(name)!;

  // Value code, in SSA form: returns the variable (or literal) holding the value.
  const valueCode = (e: ScalarExpr, em: Emitter): string => {
    switch (e.k) {
      case 'arg':
        return `x${e.index}`;
      case 'num':
        return numLiteral(e.value);
      case 'call':
        return em.tmp(`L.f[${idx(e.fn)}](${e.args.map((a) => valueCode(a, em)).join(', ')})`);
      default: {
        const op = scalarOp(e)!;
        const a = op.operands.map((o) => valueCode(o, em));
        return em.tmp(op.entry.scalar.value(a, numLiteral(op.attr)));
      }
    }
  };

  // Forward-mode dual code: returns the variable holding the value and the one holding the
  // derivative with respect to argument `wrt` (null: known to be zero).
  const dualCode = (
    e: ScalarExpr,
    wrt: number,
    table: 'du' | 'dt',
    em: Emitter,
  ): { v: string; d: string | null } => {
    switch (e.k) {
      case 'arg':
        return { v: `x${e.index}`, d: e.index === wrt ? '1' : null };
      case 'num':
        return { v: numLiteral(e.value), d: null };
      case 'call': {
        const g = idx(e.fn);
        const rs = e.args.map((a) => dualCode(a, wrt, table, em));
        const vs = rs.map((r) => r.v).join(', ');
        const v = em.tmp(`L.f[${g}](${vs})`);
        const terms: string[] = [];
        rs.forEach((r, j) => {
          if (r.d !== null) terms.push(`L.${table}[${g}][${j}](${vs}) * ${r.d}`);
        });
        return { v, d: terms.length ? em.tmp(terms.join(' + ')) : null };
      }
      default: {
        const op = scalarOp(e)!;
        const form = op.entry.scalar;
        const P = numLiteral(op.attr);
        const rs = op.operands.map((o) => dualCode(o, wrt, table, em));
        const a = rs.map((r) => r.v);
        const v = em.tmp(form.value(a, P));
        const ds = rs.map((r) => r.d);
        let d: string | null;
        if (form.dual && ds.length > 1 && ds.every((x) => x !== null)) d = form.dual(ds as string[], a, v, P);
        else {
          const terms: string[] = [];
          ds.forEach((dj, j) => {
            const t = dj === null ? null : form.times[j](dj, a, v, P, op.attr);
            if (t !== null) terms.push(t);
          });
          d = terms.length ? terms.join(' + ') : null;
        }
        return { v, d: d === null ? null : em.tmp(d) };
      }
    }
  };

  // Kink signature code: SSA value code that folds the side of every kink into `h`.
  const kinkCode = (e: ScalarExpr, em: Emitter): string => {
    switch (e.k) {
      case 'arg':
        return `x${e.index}`;
      case 'num':
        return numLiteral(e.value);
      case 'call': {
        const g = idx(e.fn);
        const vs = e.args.map((a) => kinkCode(a, em)).join(', ');
        if (kinky[g]) em.lines.push(`h = (h * 7 + L.k[${g}](${vs})) % 1000000007;`);
        return em.tmp(`L.f[${g}](${vs})`);
      }
      default: {
        const op = scalarOp(e)!;
        const form = op.entry.scalar;
        const P = numLiteral(op.attr);
        const a = op.operands.map((o) => kinkCode(o, em));
        if (form.kinkAt) {
          const at = form.kinkAt(a, P);
          const x = a.includes(at) ? at : em.tmp(at);
          em.lines.push(`h = (h * 3 + (${x} > 0 ? 2 : ${x} < 0 ? 0 : 1)) % 1000000007;`);
        }
        return em.tmp(form.value(a, P));
      }
    }
  };

  const make = (params: string[], body: string): ScalarFn => {
    const argList = params.map((_, i) => `x${i}`).join(', ');
    const factory = new Function('H', 'L', `"use strict";\nreturn function (${argList}) {\n${body}\n};`);
    return factory(SCALAR_HELPERS, table) as ScalarFn;
  };

  const compiled: CompiledFunction[] = fns.map((fn, fi) => {
    const valueSrc = (e: ScalarExpr) => {
      const em = new Emitter();
      const v = valueCode(e, em);
      return `${em.lines.join('\n')}\nreturn ${v};`;
    };
    const fSrc = valueSrc(fn.body);
    const f = make(fn.params, fSrc);
    const dualSrc = (j: number, t: 'du' | 'dt') => {
      const em = new Emitter();
      const r = dualCode(fn.body, j, t, em);
      return `${em.lines.join('\n')}\nreturn ${r.d ?? '0'};`;
    };
    const dUser = fn.grads.map((g) => (g ? make(fn.params, valueSrc(g.expr)) : null));
    const usedSrc = fn.params.map((_, j) => {
      const g = fn.grads[j];
      return g ? valueSrc(g.expr) : dualSrc(j, 'du');
    });
    const trueSrc = fn.params.map((_, j) => dualSrc(j, 'dt'));
    const dUsed = usedSrc.map((s) => make(fn.params, s));
    const dTrue = trueSrc.map((s) => make(fn.params, s));
    let kinkSig: ScalarFn | null = null;
    if (kinky[fi]) {
      const em = new Emitter();
      em.lines.push('let h = 0;');
      kinkCode(fn.body, em);
      kinkSig = make(fn.params, `${em.lines.join('\n')}\nreturn h;`);
    }
    table.f[fi] = f;
    table.du[fi] = dUsed;
    table.dt[fi] = dTrue;
    table.k[fi] = kinkSig;
    return {
      name: fn.name,
      ir: fn,
      arity: fn.params.length,
      f,
      dUser,
      dUsed,
      dTrue,
      kinky: kinky[fi],
      kinkSig,
      source: { f: fSrc, dUsed: usedSrc, dTrue: trueSrc },
    };
  });
  return new FunctionLib(compiled);
}

function validate(fns: readonly IRFunction[], index: Map<string, number>): void {
  const check = (e: ScalarExpr, fn: IRFunction) =>
    walk(e, (x) => {
      if (x.k === 'arg' && (x.index < 0 || x.index >= fn.params.length))
        throw new Error(`function '${fn.name}': argument index ${x.index} out of range`);
      if (x.k === 'call') {
        const g = index.get(x.fn);
        if (g === undefined) throw new Error(`function '${fn.name}' calls unknown function '${x.fn}'`);
        if (fns[g].params.length !== x.args.length)
          throw new Error(
            `function '${fn.name}' calls '${x.fn}' with ${x.args.length} arguments, expected ${fns[g].params.length}`,
          );
      }
    });
  for (const fn of fns) {
    if (fn.grads.length !== fn.params.length)
      throw new Error(`function '${fn.name}': ${fn.grads.length} grad entries for ${fn.params.length} parameters`);
    check(fn.body, fn);
    for (const g of fn.grads) if (g) check(g.expr, fn);
  }
  // Recursion (direct or mutual) would never terminate. Only bodies count: a grad line calls
  // functions for their values (a function's own value too, §9), which are their bodies.
  const state = new Map<string, 1 | 2>();
  const visit = (name: string, path: string[]) => {
    const s = state.get(name);
    if (s === 2) return;
    if (s === 1) throw new Error(`recursive functions: ${[...path, name].join(' → ')}`);
    state.set(name, 1);
    const fn = fns[index.get(name)!];
    const callees: string[] = [];
    forEachCall(fn.body, (c) => callees.push(c));
    for (const c of callees) visit(c, [...path, name]);
    state.set(name, 2);
  };
  for (const fn of fns) visit(fn.name, []);
}

function walk(e: ScalarExpr, cb: (e: ScalarExpr) => void): void {
  cb(e);
  for (const c of scalarChildren(e)) walk(c, cb);
}

function computeKinky(fns: readonly IRFunction[], index: Map<string, number>): boolean[] {
  const memo: (boolean | undefined)[] = [];
  const of = (i: number): boolean => {
    if (memo[i] !== undefined) return memo[i]!;
    let k = false;
    walk(fns[i].body, (e) => {
      if (scalarOp(e)?.entry.scalar.kinkAt) k = true;
      if (e.k === 'call' && of(index.get(e.fn)!)) k = true;
    });
    memo[i] = k;
    return k;
  };
  return fns.map((_, i) => of(i));
}
