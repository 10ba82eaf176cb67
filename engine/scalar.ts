/**
 * Scalar building blocks shared by the executor's elementwise kernels and by user functions:
 * numerically stable sigmoid/softplus and the derivative conventions at kinks.
 *
 * Conventions (as PyTorch):
 * - relu'(0) = 0            (torch: threshold_backward, grad where x > 0)
 * - abs'(0) = 0             (torch: sign(0) = 0)
 * - leaky_relu'(0) = alpha  (torch: leaky_relu_backward, x > 0 ? grad : grad * alpha)
 * - d/dx x^0 = 0            (torch: pow_backward returns zeros for exponent 0)
 */
import type { UnaryFn } from './ir';

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^x), without overflow for large x or loss of precision for very negative x. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export function relu(x: number): number {
  return x < 0 ? 0 : x; // NaN stays NaN
}

export function leakyRelu(x: number, alpha: number): number {
  return x > 0 ? x : x * alpha;
}

export function square(x: number): number {
  return x * x;
}

/** x^p, with p a number (Math.pow semantics: a negative base to a non-integer power is NaN). */
export function power(x: number, p: number): number {
  return p === 2 ? x * x : p === 1 ? x : Math.pow(x, p);
}

/** d/dx x^p. */
export function powerDeriv(x: number, p: number): number {
  if (p === 0) return 0;
  if (p === 1) return 1;
  if (p === 2) return 2 * x;
  return p * Math.pow(x, p - 1);
}

/** The helper object generated code refers to as `H`. */
export const H = {
  sigmoid,
  softplus,
  relu,
  leakyRelu,
  square,
  power,
  powerDeriv,
};

/** Ops with a kink (a point where the derivative jumps): relu, abs at 0. */
export const KINK_UNARY: ReadonlySet<UnaryFn> = new Set<UnaryFn>(['relu', 'abs']);

/**
 * JavaScript source of a unary function applied to the expression `x` (a variable name or a
 * parenthesised expression).
 */
export function unaryCode(fn: UnaryFn, x: string): string {
  switch (fn) {
    case 'sigmoid':
      return `H.sigmoid(${x})`;
    case 'tanh':
      return `Math.tanh(${x})`;
    case 'relu':
      return `H.relu(${x})`;
    case 'exp':
      return `Math.exp(${x})`;
    case 'log':
      return `Math.log(${x})`;
    case 'sqrt':
      return `Math.sqrt(${x})`;
    case 'abs':
      return `Math.abs(${x})`;
    case 'square':
      return `(${x} * ${x})`;
    case 'softplus':
      return `H.softplus(${x})`;
  }
}

/**
 * JavaScript source of the derivative of a unary function, given its input variable `x` and
 * its output variable `y` (both plain variable names).
 */
export function unaryDerivCode(fn: UnaryFn, x: string, y: string): string {
  switch (fn) {
    case 'sigmoid':
      return `(${y} * (1 - ${y}))`;
    case 'tanh':
      return `(1 - ${y} * ${y})`;
    case 'relu':
      return `(${x} > 0 ? 1 : 0)`;
    case 'exp':
      return y;
    case 'log':
      return `(1 / ${x})`;
    case 'sqrt':
      return `(0.5 / ${y})`;
    case 'abs':
      return `(${x} > 0 ? 1 : ${x} < 0 ? -1 : 0)`;
    case 'square':
      return `(2 * ${x})`;
    case 'softplus':
      return `H.sigmoid(${x})`;
  }
}

/** A JavaScript literal for a finite or non-finite number. */
export function numLiteral(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '(-Infinity)';
  if (Object.is(v, -0)) return '(-0)';
  return v < 0 ? `(${String(v)})` : String(v);
}
