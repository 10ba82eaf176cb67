// Elementwise float32 vector kernels for optimizer updates (WebAssembly SIMD, AssemblyScript).
// Pointers are byte addresses of float32 arrays in this module's memory; n is the element count.
// Four lanes at a time, then a scalar tail.

/**
 * y = alpha·x + beta·y (axpy when beta = 1; SGD: p += (−lr)·g; momentum: v = 1·g + μ·v).
 * With beta = 0, y's old contents are ignored (even NaN).
 */
export function axpby(n: i32, alpha: f32, x: usize, beta: f32, y: usize): void {
  if (beta == 0) {
    scale(n, alpha, x, y);
    return;
  }
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(f32x4.mul(va, v128.load(x + o)), f32x4.mul(vb, v128.load(y + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, alpha * load<f32>(x + o) + beta * load<f32>(y + o));
  }
}

/**
 * keep = y, then y = alpha·x + beta·y, in one pass (an SGD update that keeps the weights it
 * started from: the last good weights of a training step).
 */
export function axpbyKeep(n: i32, alpha: f32, x: usize, beta: f32, y: usize, keep: usize): void {
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const yi = v128.load(y + o);
    v128.store(keep + o, yi);
    v128.store(y + o, f32x4.add(f32x4.mul(va, v128.load(x + o)), f32x4.mul(vb, yi)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const yi = load<f32>(y + o);
    store<f32>(keep + o, yi);
    store<f32>(y + o, alpha * load<f32>(x + o) + beta * yi);
  }
}

// y = alpha·x
function scale(n: i32, alpha: f32, x: usize, y: usize): void {
  const va = f32x4.splat(alpha);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.mul(va, v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, alpha * load<f32>(x + o));
  }
}

/**
 * One Adam step (as torch.optim.Adam, no weight decay), for parameters p with gradient g and
 * moments m, v:
 *   m = β1·m + (1−β1)·g
 *   v = β2·v + (1−β2)·g²
 *   p = p − (lr / bc1) · m / (sqrt(v / bc2) + eps)       with bc1 = 1 − β1ᵗ, bc2 = 1 − β2ᵗ
 */
export function adam(n: i32, lr: f32, beta1: f32, beta2: f32, eps: f32, bc1: f32, bc2: f32, p: usize, g: usize, m: usize, v: usize): void {
  const step = lr / bc1;
  const vb1 = f32x4.splat(beta1);
  const vc1 = f32x4.splat(1 - beta1);
  const vb2 = f32x4.splat(beta2);
  const vc2 = f32x4.splat(1 - beta2);
  const vstep = f32x4.splat(step);
  const vinv2 = f32x4.splat(1 / bc2);
  const veps = f32x4.splat(eps);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vc1, gi));
    const vi = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vc2, f32x4.mul(gi, gi)));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const denom = f32x4.add(f32x4.sqrt(f32x4.mul(vi, vinv2)), veps);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(vstep, mi), denom)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = beta1 * load<f32>(m + o) + (1 - beta1) * gi;
    const vi = beta2 * load<f32>(v + o) + (1 - beta2) * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(p + o, load<f32>(p + o) - (step * mi) / (Mathf.sqrt(vi / bc2) + eps));
  }
}

/** The index of the first of x[0 … n) that is NaN or ±Infinity, or −1 (four lanes at a time). */
export function firstNonFinite(n: i32, x: usize): i32 {
  const zero = f32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    // v − v is 0 for a finite lane and NaN for NaN or ±Infinity
    if (v128.any_true(f32x4.ne(f32x4.sub(v, v), zero))) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}
