// Elementwise exp, sigmoid, tanh and relu over float32 arrays, four lanes at a time, and their
// backward passes (WebAssembly SIMD, AssemblyScript). Math.exp in JavaScript costs ~20–30 ns per
// call; these cost 1–2 ns per element.
//
// exp follows the classic Cephes expf (as in sse_mathfun's exp_ps): x is clamped to ±88.38, split
// as x = n·ln2 + r with |r| ≤ ln2/2 (ln2 in two parts for exactness), e^r is a degree-6
// polynomial, and 2^n is built in the exponent bits. Relative error ≈ 1e-7 (a couple of float32
// ulps). Above 88.7228 (where float32 overflows) the result is +∞; below −88.376 it is 0 (true
// values there are float32 subnormals); between 88.376 and 88.7228 it stays at e^88.376 ≈ 2.4e38.
// sigmoid is 1/(1 + e^−x) with that exp (relative error ≈ 1.5e-7). tanh is a rational function
// (Eigen's float tanh: degree 13 over degree 6, no exp; relative error ≤ 4e-7). The clamps use
// pmin/pmax, which keep a NaN of their first operand in one instruction (min/max need several).
// Pointers are byte addresses in this module's memory; y may equal x.

@inline
function expV(x0: v128): v128 {
  // pmax/pmin (one instruction each, where min/max need NaN fix-ups) keep a NaN of their first
  // operand: pmax(a, b) = a < b ? b : a
  const x = f32x4.pmin(f32x4.pmax(x0, f32x4.splat(-88.3762626647949)), f32x4.splat(88.3762626647949));
  // n = floor(x·log2(e) + 0.5)
  const fx = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  // r = x − n·ln2, ln2 = 0.693359375 − 2.12194440e-4 (the first part is exact in float32)
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  const z = f32x4.mul(r, r);
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), f32x4.splat(1));
  // 2^n: (n + 127) << 23 as float bits. n (an integer in [−127, 128]) is read from the bits of
  // n + 1.5·2²³, whose low mantissa bits hold n + 2²², cheaper than a saturating conversion
  const pow2 = i32x4.shl(i32x4.add(f32x4.add(fx, f32x4.splat(12582912.0)), i32x4.splat(127 - 0x4b400000)), 23);
  const e = f32x4.mul(y, pow2);
  // beyond the clamp: +∞ above ln(FLT_MAX) (as float32 overflows), 0 below the smallest normal;
  // NaN compares false both ways and stays NaN
  const over = v128.bitselect(f32x4.splat(Infinity), e, f32x4.gt(x0, f32x4.splat(88.72283935546875)));
  return v128.andnot(over, f32x4.lt(x0, f32x4.splat(-88.3762626647949)));
}

@inline
function sigmoidV(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expV(f32x4.neg(x))));
}

// tanh as a rational function p(x)/q(x) of degrees 13 and 6 on [−7.9053, 7.9053] (beyond, tanh
// rounds to ±1 in float32) — the coefficients of Eigen's float tanh; a few ulps, one division, no exp.
@inline
function tanhV(x0: v128): v128 {
  const x = f32x4.pmin(f32x4.pmax(x0, f32x4.splat(-7.90531110763549805)), f32x4.splat(7.90531110763549805));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(5.12229709037114e-8));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(1.48572235717979e-5));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(6.37261928875436e-4));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(4.89352455891786e-3));
  p = f32x4.mul(p, x);
  let q = f32x4.splat(1.19825839466702e-6);
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(1.18534705686654e-4));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(2.26843463243900e-3));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(4.89352518554385e-3));
  return f32x4.div(p, q);
}

// Loads the last n % 4 values (1..3) of x into a vector, zero-padded.
@inline
function loadTail(p: usize, k: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (k > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (k > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

@inline
function storeTail(p: usize, k: i32, v: v128): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (k > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (k > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// relu(x) = x < 0 ? 0 : x (NaN stays NaN, as the executor's H.relu)
@inline
function reluV(x: v128): v128 {
  return v128.bitselect(f32x4.splat(0), x, f32x4.lt(x, f32x4.splat(0)));
}

// One function per loop so the choice of f is made once, not per vector.
@inline
function apply(f: i32, v: v128): v128 {
  return f == 0 ? expV(v) : f == 1 ? sigmoidV(v) : f == 2 ? tanhV(v) : reluV(v);
}

function tail(f: i32, n: i32, x: usize, y: usize): void {
  const n4 = n & ~3;
  const k = n - n4;
  if (k > 0) {
    const o = <usize>n4 << 2;
    storeTail(y + o, k, apply(f, loadTail(x + o, k)));
  }
}

/** y = f(x) over n floats; f: 0 exp, 1 sigmoid, 2 tanh, 3 relu. */
export function unary(f: i32, n: i32, x: usize, y: usize): void {
  const end = x + ((<usize>(n & ~3)) << 2);
  const d = y - x;
  if (f == 0) {
    for (let p = x; p < end; p += 16) v128.store(p + d, expV(v128.load(p)));
  } else if (f == 1) {
    for (let p = x; p < end; p += 16) v128.store(p + d, sigmoidV(v128.load(p)));
  } else if (f == 2) {
    for (let p = x; p < end; p += 16) v128.store(p + d, tanhV(v128.load(p)));
  } else {
    for (let p = x; p < end; p += 16) v128.store(p + d, reluV(v128.load(p)));
  }
  tail(f, n, x, y);
}

// f'(x) from the output y = f(x): exp y, sigmoid y(1 − y), tanh 1 − y², relu [y > 0] (y > 0 exactly
// when x > 0, NaN included).
@inline
function derivV(f: i32, y: v128): v128 {
  const one = f32x4.splat(1);
  if (f == 0) return y;
  if (f == 1) return f32x4.mul(y, f32x4.sub(one, y));
  if (f == 2) return f32x4.sub(one, f32x4.mul(y, y));
  return v128.and(f32x4.gt(y, f32x4.splat(0)), one);
}

@inline
function deriv(f: i32, y: f32): f32 {
  if (f == 0) return y;
  if (f == 1) return y * (1 - y);
  if (f == 2) return 1 - y * y;
  return y > 0 ? 1 : 0;
}

/**
 * Backward of y = f(x) from its output: gx += gy · f'(x), over n floats; f as in `unary`.
 * The derivative multiplies (a non-finite gy stays non-finite even where relu is flat), like the
 * executor's JavaScript loops.
 */
export function unaryBackward(f: i32, n: i32, y: usize, gy: usize, gx: usize): void {
  const n4 = n & ~3;
  let i = 0;
  if (f == 0) {
    for (; i < n4; i += 4) {
      const o = <usize>i << 2;
      v128.store(gx + o, f32x4.add(v128.load(gx + o), f32x4.mul(v128.load(gy + o), derivV(0, v128.load(y + o)))));
    }
  } else if (f == 1) {
    for (; i < n4; i += 4) {
      const o = <usize>i << 2;
      v128.store(gx + o, f32x4.add(v128.load(gx + o), f32x4.mul(v128.load(gy + o), derivV(1, v128.load(y + o)))));
    }
  } else if (f == 2) {
    for (; i < n4; i += 4) {
      const o = <usize>i << 2;
      v128.store(gx + o, f32x4.add(v128.load(gx + o), f32x4.mul(v128.load(gy + o), derivV(2, v128.load(y + o)))));
    }
  } else {
    for (; i < n4; i += 4) {
      const o = <usize>i << 2;
      v128.store(gx + o, f32x4.add(v128.load(gx + o), f32x4.mul(v128.load(gy + o), derivV(3, v128.load(y + o)))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(gx + o, load<f32>(gx + o) + load<f32>(gy + o) * deriv(f, load<f32>(y + o)));
  }
}

/**
 * Row-wise softmax of a row-major [rows × L] matrix: y[r] = exp(z[r] − max z[r]) / Σ exp(…), in
 * three passes — shift by the row's maximum (a row whose maximum is ±∞ or NaN is shifted by 0, so
 * that ∞ and NaN propagate as NaN), one SIMD exp over the whole block, scale each row by 1/sum.
 * y may equal z.
 */
export function softmaxRows(rows: i32, L: i32, z: usize, y: usize): void {
  const rowBytes = <usize>L << 2;
  for (let r = 0; r < rows; r++) {
    const zr = z + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    let m: f32 = -Infinity;
    for (let i = 0; i < L; i++) {
      const v = load<f32>(zr + (<usize>i << 2));
      if (v > m) m = v;
    }
    if (m == Infinity || m != m) m = 0;
    for (let i = 0; i < L; i++) {
      const o = <usize>i << 2;
      store<f32>(yr + o, load<f32>(zr + o) - m);
    }
  }
  unary(0, rows * L, y, y);
  for (let r = 0; r < rows; r++) {
    const yr = y + <usize>r * rowBytes;
    let s: f32 = 0;
    for (let i = 0; i < L; i++) s += load<f32>(yr + (<usize>i << 2));
    for (let i = 0; i < L; i++) {
      const o = <usize>i << 2;
      store<f32>(yr + o, load<f32>(yr + o) / s);
    }
  }
}
