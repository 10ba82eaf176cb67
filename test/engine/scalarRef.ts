/**
 * A reference evaluator of function-body expressions for tests: a plain tree walk with
 * Math's functions, independent of the catalog's generated code that the engine compiles.
 */
import type { BinarySymbol, ScalarExpr, UnaryFn } from '../../engine/ir';
import type { FunctionLib } from '../../engine/functions';

/** erf by its everywhere-positive series 2/√π e^(−x²) Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)) (no cancellation). */
export function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 400 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/** e^(−z²) with z² exact as a sum of two doubles (Veltkamp–Dekker), so large z lose nothing to the square's rounding. */
function expMinusSquareRef(z: number): number {
  const c = 134217729 * z; // 2^27 + 1
  const hi = c - (c - z);
  const lo = z - hi;
  const p = z * z;
  const e = hi * hi - p + 2 * hi * lo + lo * lo; // z² − p, exactly
  return Math.exp(-p) * (1 - e);
}

/** erfc(z) for z ≥ 1 by its continued fraction, evaluated from depth 200 back. */
export function erfcContinuedFraction(z: number): number {
  let t = z;
  for (let k = 200; k >= 1; k--) t = z + k / 2 / t;
  return expMinusSquareRef(z) / Math.sqrt(Math.PI) / t;
}

/** erfc from the two above: the series where 1 − erf keeps its digits, the fraction in the tail. */
export function erfcRef(x: number): number {
  if (x >= 1) return erfcContinuedFraction(x);
  if (x <= -1) return 2 - erfcContinuedFraction(-x);
  return 1 - erfSeries(x);
}

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
  gelu: (x) => x * 0.5 * erfcRef(-x / Math.SQRT2),
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  step: (x) => Number(x > 0),
};

const BINARY: Record<BinarySymbol, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '>': (a, b) => Number(a > b),
  '<': (a, b) => Number(a < b),
  '>=': (a, b) => Number(a >= b),
  '<=': (a, b) => Number(a <= b),
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
    case 'binary':
      return BINARY[e.op](ev(e.a), ev(e.b));
    case 'pow':
      return Math.pow(ev(e.x), e.p);
    case 'call':
      if (!lib) throw new Error('evalScalarExpr: a call needs a FunctionLib');
      return lib.get(e.fn).f(...e.args.map(ev));
  }
}
