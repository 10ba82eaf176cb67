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

// ---- the error function -----------------------------------------------------------------------
//
// erfc in float64 by W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
// approximations for the error function", Math. Comp. 23 (1969) 631–637; the coefficients of his
// CALERF, netlib specfun): relative error a few 1e-16 (measured against a series and a continued
// fraction in test/engine/erf.test.ts), far into its tail (erfc(26) ≈ 6e-296) where 1 − erf is 0.

/** |x| ≤ 0.46875: erf(x) = x · A(x²) / B(x²). */
const ERF_A = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const ERF_B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
/** 0.46875 < x ≤ 4: erfc(x) = e^(−x²) · C(x) / D(x). */
const ERF_C = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
];
const ERF_D = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];
/** x > 4: erfc(x) = e^(−x²)/x · (1/√π − R(1/x²)/x²·…), R = P/Q. */
const ERF_P = [0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766, 6.58749161529837803e-4, 0.0163153871373020978];
const ERF_Q = [2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];
const INV_SQRT_PI = 0.56418958354775628695;

/** erf(x) for |x| ≤ 0.46875. */
function erfSmall(x: number): number {
  const z = x * x;
  let num = ERF_A[4] * z;
  let den = z;
  for (let i = 0; i < 3; i++) {
    num = (num + ERF_A[i]) * z;
    den = (den + ERF_B[i]) * z;
  }
  return (x * (num + ERF_A[3])) / (den + ERF_B[3]);
}

/** e^(−y²) without the rounding of y² itself: y = y0 + r with y0 a multiple of 1/16 (exact square). */
function expMinusSquare(y: number): number {
  const y0 = Math.trunc(y * 16) / 16;
  const del = (y - y0) * (y + y0);
  return Math.exp(-y0 * y0) * Math.exp(-del);
}

/** erfc(y) for y > 0.46875. */
function erfcLarge(y: number): number {
  if (y > 27.3) return 0; // e^(−y²) is below the smallest double
  let r: number;
  if (y <= 4) {
    let num = ERF_C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + ERF_C[i]) * y;
      den = (den + ERF_D[i]) * y;
    }
    r = (num + ERF_C[7]) / (den + ERF_D[7]);
  } else {
    const z = 1 / (y * y);
    let num = ERF_P[5] * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + ERF_P[i]) * z;
      den = (den + ERF_Q[i]) * z;
    }
    r = (INV_SQRT_PI - (z * (num + ERF_P[4])) / (den + ERF_Q[4])) / y;
  }
  return expMinusSquare(y) * r;
}

/**
 * The complementary error function erfc(x) = 1 − erf(x) = 2/√π ∫ₓ^∞ e^(−t²) dt, accurate in
 * relative terms in its tail (where 1 − erf would be 0).
 */
export function erfc(x: number): number {
  if (Math.abs(x) <= 0.46875) return 1 - erfSmall(x);
  if (x !== x) return NaN;
  const c = erfcLarge(Math.abs(x));
  return x > 0 ? c : 2 - c;
}
