/**
 * Fused training-path kernels over [rows × cols] row-major buffers (one row per example).
 * They work on Float32Array and Float64Array alike (also on WebAssembly-backed views), compute
 * in float64 and allocate nothing. Offsets are in elements.
 */
type FloatArray = Float64Array | Float32Array;

/** Column sums: dBias[j] (+)= Σ_r dZ[r, j] — the gradient of a bias added to every row. */
export function biasGradient(
  rows: number,
  cols: number,
  dZ: FloatArray,
  dZOff: number,
  dBias: FloatArray,
  dBiasOff: number,
  accumulate: boolean,
): void {
  if (!accumulate) for (let j = 0; j < cols; j++) dBias[dBiasOff + j] = 0;
  for (let r = 0; r < rows; r++) {
    const o = dZOff + r * cols;
    for (let j = 0; j < cols; j++) dBias[dBiasOff + j] += dZ[o + j];
  }
}

/** The index (from xOff) of the first of X[xOff … xOff+n) that is NaN or ±Infinity, or −1. */
export function firstNonFinite(n: number, X: FloatArray, xOff: number): number {
  for (let i = 0; i < n; i++) {
    const v = X[xOff + i];
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Y[yOff+i] = alpha·X[xOff+i] + beta·Y[yOff+i] for i < n (Backend.axpby in plain JavaScript). */
export function axpby(n: number, alpha: number, X: FloatArray, xOff: number, beta: number, Y: FloatArray, yOff: number): void {
  if (beta === 1) {
    for (let i = 0; i < n; i++) Y[yOff + i] += alpha * X[xOff + i];
  } else if (beta === 0) {
    for (let i = 0; i < n; i++) Y[yOff + i] = alpha * X[xOff + i]; // Y's old contents (even NaN) are ignored
  } else {
    for (let i = 0; i < n; i++) Y[yOff + i] = alpha * X[xOff + i] + beta * Y[yOff + i];
  }
}

/** K = Y, then Y = alpha·X + beta·Y (Backend.axpbyKeep in plain JavaScript). */
export function axpbyKeep(
  n: number,
  alpha: number,
  X: FloatArray,
  xOff: number,
  beta: number,
  Y: FloatArray,
  yOff: number,
  K: FloatArray,
  kOff: number,
): void {
  for (let i = 0; i < n; i++) {
    const y = Y[yOff + i];
    K[kOff + i] = y;
    Y[yOff + i] = alpha * X[xOff + i] + beta * y;
  }
}

/** One Adam step (Backend.adam in plain JavaScript; see its documentation). */
export function adamStep(
  n: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  t: number,
  P: FloatArray,
  pOff: number,
  G: FloatArray,
  gOff: number,
  Mo: FloatArray,
  mOff: number,
  V: FloatArray,
  vOff: number,
): void {
  const step = lr / (1 - Math.pow(beta1, t));
  const inv2 = 1 / (1 - Math.pow(beta2, t));
  for (let i = 0; i < n; i++) {
    const g = G[gOff + i];
    const m = beta1 * Mo[mOff + i] + (1 - beta1) * g;
    const v = beta2 * V[vOff + i] + (1 - beta2) * g * g;
    Mo[mOff + i] = m;
    V[vOff + i] = v;
    P[pOff + i] -= (step * m) / (Math.sqrt(v * inv2) + eps);
  }
}

/** Y[yOff+i] = fn(X[xOff+i]) for i < n (Backend.unary in plain JavaScript; Y may be X). */
export function unaryMap(
  fn: 'exp' | 'sigmoid' | 'tanh' | 'relu',
  n: number,
  X: FloatArray,
  xOff: number,
  Y: FloatArray,
  yOff: number,
): void {
  if (fn === 'exp') {
    for (let i = 0; i < n; i++) Y[yOff + i] = Math.exp(X[xOff + i]);
  } else if (fn === 'sigmoid') {
    for (let i = 0; i < n; i++) {
      const v = X[xOff + i];
      Y[yOff + i] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    }
  } else if (fn === 'tanh') {
    for (let i = 0; i < n; i++) Y[yOff + i] = Math.tanh(X[xOff + i]);
  } else {
    for (let i = 0; i < n; i++) {
      const v = X[xOff + i];
      Y[yOff + i] = v < 0 ? 0 : v; // NaN stays NaN
    }
  }
}

/**
 * GX[gxOff+i] += GY[gyOff+i] · fn′ with fn′ from the output y = Y[yOff+i] (Backend.unaryBackward
 * in plain JavaScript): exp y, sigmoid y(1−y), tanh 1−y², relu (y > 0 ? 1 : 0).
 */
export function unaryBackwardMap(
  fn: 'exp' | 'sigmoid' | 'tanh' | 'relu',
  n: number,
  Y: FloatArray,
  yOff: number,
  GY: FloatArray,
  gyOff: number,
  GX: FloatArray,
  gxOff: number,
): void {
  if (fn === 'exp') {
    for (let i = 0; i < n; i++) GX[gxOff + i] += GY[gyOff + i] * Y[yOff + i];
  } else if (fn === 'sigmoid') {
    for (let i = 0; i < n; i++) {
      const y = Y[yOff + i];
      GX[gxOff + i] += GY[gyOff + i] * (y * (1 - y));
    }
  } else if (fn === 'tanh') {
    for (let i = 0; i < n; i++) {
      const y = Y[yOff + i];
      GX[gxOff + i] += GY[gyOff + i] * (1 - y * y);
    }
  } else {
    for (let i = 0; i < n; i++) GX[gxOff + i] += GY[gyOff + i] * (Y[yOff + i] > 0 ? 1 : 0);
  }
}

/** Y[r, j] = X[r, j] + b[j] over a row-major [rows × cols] matrix (Backend.addBias in plain JavaScript). */
export function addBias(
  rows: number,
  cols: number,
  X: FloatArray,
  xOff: number,
  b: FloatArray,
  bOff: number,
  Y: FloatArray,
  yOff: number,
): void {
  for (let r = 0; r < rows; r++) {
    const xr = xOff + r * cols;
    const yr = yOff + r * cols;
    for (let j = 0; j < cols; j++) Y[yr + j] = X[xr + j] + b[bOff + j];
  }
}

/** S[j] += Σ_r G[r, j], rows in order (Backend.sumRows in plain JavaScript). */
export function sumRows(rows: number, cols: number, G: FloatArray, gOff: number, S: FloatArray, sOff: number): void {
  biasGradient(rows, cols, G, gOff, S, sOff, true);
}

/** Row-wise softmax of a [rows × L] matrix (Backend.softmaxRows in plain JavaScript; Y may be Z). */
export function softmaxRows(rows: number, L: number, Z: FloatArray, zOff: number, Y: FloatArray, yOff: number): void {
  for (let r = 0; r < rows; r++) {
    const zo = zOff + r * L;
    const yo = yOff + r * L;
    let m = -Infinity;
    for (let i = 0; i < L; i++) if (Z[zo + i] > m) m = Z[zo + i];
    if (m === Infinity || m !== m) m = 0; // let ±∞ and NaN propagate as NaN
    let s = 0;
    for (let i = 0; i < L; i++) {
      const e = Math.exp(Z[zo + i] - m);
      Y[yo + i] = e;
      s += e;
    }
    for (let i = 0; i < L; i++) Y[yo + i] /= s;
  }
}

/** Y[i, ·] = X[idx[i], ·] for i < count, rows of `cols` (Backend.gatherRows in plain JavaScript). */
export function gatherRows(
  count: number,
  cols: number,
  X: FloatArray,
  xOff: number,
  idx: Uint32Array,
  idxOff: number,
  Y: FloatArray,
  yOff: number,
): void {
  for (let i = 0; i < count; i++) {
    const s = xOff + idx[idxOff + i] * cols;
    const d = yOff + i * cols;
    for (let j = 0; j < cols; j++) Y[d + j] = X[s + j];
  }
}

/** Backend.crossEntropyRows in plain JavaScript (see its documentation). */
export function crossEntropyRows(
  rows: number,
  L: number,
  Y: FloatArray,
  yOff: number,
  T: FloatArray,
  tOff: number,
  out: FloatArray,
  outOff: number,
): number {
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (let i = 0; i < L; i++) {
      const ti = T[tOff + r * L + i];
      if (ti === 0) continue;
      const yi = Y[yOff + r * L + i];
      if (!(yi > 1e-30)) return r;
      c -= ti * Math.log(yi);
    }
    out[outOff + r] = c;
  }
  return -1;
}

/** Backend.crossEntropyBackward in plain JavaScript: GZ[r,i] += G[r]·(Y[r,i]·Σ_j T[r,j] − T[r,i]). */
export function crossEntropyBackward(
  rows: number,
  L: number,
  Y: FloatArray,
  yOff: number,
  T: FloatArray,
  tOff: number,
  G: FloatArray,
  gOff: number,
  GZ: FloatArray,
  gzOff: number,
): void {
  for (let r = 0; r < rows; r++) {
    const yo = yOff + r * L;
    const to = tOff + r * L;
    const zo = gzOff + r * L;
    let tsum = 0;
    for (let i = 0; i < L; i++) tsum += T[to + i];
    const g = G[gOff + r];
    for (let i = 0; i < L; i++) GZ[zo + i] += g * (Y[yo + i] * tsum - T[to + i]);
  }
}
