/**
 * Scalar building blocks the generated code of elementwise ops and user functions calls as
 * `H.name` (the ops' definitions are in ./ops): numerically stable sigmoid/softplus, powers.
 *
 * d/dx x^0 = 0 (as PyTorch: pow_backward returns zeros for exponent 0).
 */

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

/** A JavaScript literal for a finite or non-finite number. */
export function numLiteral(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '(-Infinity)';
  if (Object.is(v, -0)) return '(-0)';
  return v < 0 ? `(${String(v)})` : String(v);
}
