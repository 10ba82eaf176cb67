/**
 * A reference evaluator of function-body expressions for tests: a plain tree walk with
 * Math's functions, independent of the catalog's generated code that the engine compiles.
 */
import type { ScalarExpr, UnaryFn } from '../../engine/ir';
import type { FunctionLib } from '../../engine/functions';

const UNARY: Record<UnaryFn, (x: number) => number> = {
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  relu: (x) => Math.max(x, 0),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  square: (x) => x * x,
  softplus: (x) => Math.log(1 + Math.exp(x)),
};

export function evalScalarExpr(e: ScalarExpr, args: readonly number[], lib?: FunctionLib): number {
  const ev = (x: ScalarExpr) => evalScalarExpr(x, args, lib);
  switch (e.k) {
    case 'arg':
      return args[e.index];
    case 'num':
      return e.value;
    case 'neg':
      return -ev(e.x);
    case 'unary':
      return UNARY[e.fn](ev(e.x));
    case 'leaky_relu': {
      const x = ev(e.x);
      return x > 0 ? x : e.alpha * x;
    }
    case 'binary': {
      const a = ev(e.a);
      const b = ev(e.b);
      return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
    }
    case 'pow':
      return Math.pow(ev(e.x), e.p);
    case 'call':
      if (!lib) throw new Error('evalScalarExpr: a call needs a FunctionLib');
      return lib.get(e.fn).f(...e.args.map(ev));
  }
}
