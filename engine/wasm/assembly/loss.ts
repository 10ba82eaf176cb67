// Cross-entropy over rows of probabilities (the float32 training path of softmax → cross_entropy,
// whose probabilities the softmax has just written): the loss of each row from log y, and the
// gradient with respect to the logits. Scalar loops over a row (rows are short: the classes);
// pointers are byte addresses in this module's memory.

/**
 * out[r] = −Σ_i t[r,i]·log y[r,i] over the terms with t[r,i] ≠ 0, in float64. Returns the first
 * row with such a term whose y is ≤ 1e-30 (underflowed, or NaN: its log is inexact or infinite and
 * the caller recomputes from the logits), or −1.
 */
export function crossEntropyRows(rows: i32, L: i32, y: usize, t: usize, out: usize): i32 {
  const rowBytes = <usize>L << 2;
  for (let r = 0; r < rows; r++) {
    const yr = y + <usize>r * rowBytes;
    const tr = t + <usize>r * rowBytes;
    let c: f64 = 0;
    for (let i = 0; i < L; i++) {
      const o = <usize>i << 2;
      const ti = load<f32>(tr + o);
      if (ti == 0) continue;
      const yi = load<f32>(yr + o);
      if (!(yi > 1e-30)) return r;
      c -= <f64>ti * Math.log(<f64>yi);
    }
    store<f32>(out + (<usize>r << 2), <f32>c);
  }
  return -1;
}

/**
 * The gradient of Σ_r g[r]·loss_r with respect to the logits z (y = softmax z), accumulated:
 * gz[r,i] += g[r]·(y[r,i]·Σ_j t[r,j] − t[r,i])   (g[r]·(y − t) for one-hot targets).
 */
export function crossEntropyBackward(rows: i32, L: i32, y: usize, t: usize, g: usize, gz: usize): void {
  const rowBytes = <usize>L << 2;
  for (let r = 0; r < rows; r++) {
    const yr = y + <usize>r * rowBytes;
    const tr = t + <usize>r * rowBytes;
    const gr = gz + <usize>r * rowBytes;
    let tsum: f32 = 0;
    for (let i = 0; i < L; i++) tsum += load<f32>(tr + (<usize>i << 2));
    const gi = load<f32>(g + (<usize>r << 2));
    for (let i = 0; i < L; i++) {
      const o = <usize>i << 2;
      store<f32>(gr + o, load<f32>(gr + o) + gi * (load<f32>(yr + o) * tsum - load<f32>(tr + o)));
    }
  }
}
