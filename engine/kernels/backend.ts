/**
 * A numeric backend: where tensors live and how matrices are multiplied.
 *
 * The executor (engine/exec) is written once over `Float64Array | Float32Array`; a backend
 * supplies the buffers and the matrix kernel. The float64 checking path uses a plain
 * JavaScript backend; the float32 training path uses the fastest kernel available
 * (register-blocked JavaScript, or WebAssembly SIMD whose buffers live in the module's
 * linear memory — hence `allocate`, which hands out every buffer of a program at once).
 */

export type DType = 'f64' | 'f32';
export type FloatArray = Float64Array | Float32Array;
/** Elementwise functions a backend may compute natively (`Backend.unary`, `Backend.unaryBackward`). */
export type MappedFn = 'exp' | 'sigmoid' | 'tanh' | 'relu';

export interface Backend {
  readonly dtype: DType;
  readonly name: string;
  /**
   * Allocates one zero-filled buffer per requested size and returns them, in order.
   * Buffers from an earlier `allocate` call of the same backend may be invalidated by a later
   * call (a WebAssembly backend may reuse or grow its memory), so a program allocates all its
   * buffers in one call and calls it again only when its batch size changes.
   */
  allocate(sizes: number[]): FloatArray[];
  /**
   * Row-major matrix product on contiguous matrices:
   *   C[M×N] (+)= op(A)[M×K] · op(B)[K×N]
   * where op(A) = A (stored M×K) or Aᵀ (A stored K×M) when `transA`, and likewise for B
   * (stored K×N, or N×K when `transB`). Offsets are in elements. With `accumulate` false,
   * C is overwritten; with true, the product is added to C.
   */
  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: FloatArray,
    aOff: number,
    B: FloatArray,
    bOff: number,
    C: FloatArray,
    cOff: number,
    accumulate: boolean,
  ): void;
  /**
   * Optional: Y[yOff + i] = fn(X[xOff + i]) for i < n, with fn 'exp', 'sigmoid' (1/(1+e^−x)),
   * 'tanh' or 'relu' (x < 0 ? 0 : x); Y may be X (same offset). NaN stays NaN; exp overflows to +∞
   * as float32 does. The WebAssembly backend computes them with SIMD polynomials (Cephes expf,
   * Eigen's rational tanh; relative error below 1e-6, ~20× faster than Math.exp); the JavaScript
   * backends call Math.exp/Math.tanh.
   */
  unary?(fn: MappedFn, n: number, X: FloatArray, xOff: number, Y: FloatArray, yOff: number): void;
  /**
   * Optional: the backward of Y = fn(X) from its output, accumulating:
   *   GX[gxOff + i] += GY[gyOff + i] · fn′, fn′ from y = Y[yOff + i]: exp y, sigmoid y(1−y),
   *   tanh 1−y², relu (y > 0 ? 1 : 0)      for i < n.
   */
  unaryBackward?(
    fn: MappedFn,
    n: number,
    Y: FloatArray,
    yOff: number,
    GY: FloatArray,
    gyOff: number,
    GX: FloatArray,
    gxOff: number,
  ): void;
  /**
   * Optional: a bias row added to every row of a row-major [rows × cols] matrix:
   *   Y[yOff + r·cols + j] = X[xOff + r·cols + j] + b[bOff + j]; Y may be X (same offset).
   */
  addBias?(rows: number, cols: number, X: FloatArray, xOff: number, b: FloatArray, bOff: number, Y: FloatArray, yOff: number): void;
  /**
   * Optional: softmax of every row of a row-major [rows × L] matrix (stable: each row shifted by
   * its maximum; a row with a ±∞ or NaN maximum gives NaN); Y may be Z (same offset).
   */
  softmaxRows?(rows: number, L: number, Z: FloatArray, zOff: number, Y: FloatArray, yOff: number): void;
  /**
   * Optional: rows by index — Y[yOff + i·cols + j] = X[xOff + idx[idxOff + i]·cols + j] for
   * i < count, j < cols (a training batch gathered from its data set; every index must be a row
   * of X).
   */
  gatherRows?(
    count: number,
    cols: number,
    X: FloatArray,
    xOff: number,
    idx: Uint32Array,
    idxOff: number,
    Y: FloatArray,
    yOff: number,
  ): void;
  /**
   * Optional: cross-entropy of rows of probabilities (the float32 path of softmax → cross_entropy):
   *   out[outOff + r] = −Σ_i T[r,i]·log Y[r,i] over the terms with T[r,i] ≠ 0   for r < rows
   * (rows of L, summed in float64). Returns the first row with such a term whose Y is ≤ 1e-30 or
   * NaN — its log is inexact or infinite; the caller recomputes from the logits — or −1.
   */
  crossEntropyRows?(rows: number, L: number, Y: FloatArray, yOff: number, T: FloatArray, tOff: number, out: FloatArray, outOff: number): number;
  /**
   * Optional: the gradient of Σ_r G[r]·loss_r with respect to the logits of y = softmax(z),
   * accumulated: GZ[r,i] += G[gOff + r]·(Y[r,i]·Σ_j T[r,j] − T[r,i]).
   */
  crossEntropyBackward?(
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
  ): void;
  /**
   * Optional: column sums, accumulating (the gradient of a bias row):
   *   S[sOff + j] += Σ_r G[gOff + r·cols + j], rows added in order.
   */
  sumRows?(rows: number, cols: number, G: FloatArray, gOff: number, S: FloatArray, sOff: number): void;
  /**
   * Optional (optimizer updates; every backend of engine/kernels has it):
   *   Y[yOff + i] = alpha·X[xOff + i] + beta·Y[yOff + i]   for i < n
   * SGD is axpby(n, −lr, grad, 0, 1, param, 0); momentum: axpby(n, 1, grad, 0, μ, vel, 0), then
   * axpby(n, −lr, vel, 0, 1, param, 0).
   */
  axpby?(n: number, alpha: number, X: FloatArray, xOff: number, beta: number, Y: FloatArray, yOff: number): void;
  /**
   * Optional: an update that keeps what it overwrites — K[kOff + i] = Y[yOff + i], then
   *   Y[yOff + i] = alpha·X[xOff + i] + beta·Y[yOff + i]   for i < n
   * (a training step's SGD update keeping the weights it started from, in one pass).
   */
  axpbyKeep?(n: number, alpha: number, X: FloatArray, xOff: number, beta: number, Y: FloatArray, yOff: number, K: FloatArray, kOff: number): void;
  /** Optional: the index (from xOff) of the first of X[xOff … xOff+n) that is NaN or ±Infinity, or −1. */
  firstNonFinite?(n: number, X: FloatArray, xOff: number): number;
  /**
   * Optional: releases what the backend holds beyond its memory (a threaded backend's helper
   * threads). The backend must not be used afterwards.
   */
  dispose?(): void;
  /**
   * Optional: one Adam step (torch.optim.Adam without weight decay; `t` is the 1-based step count)
   * on n parameters P with gradient G and moment buffers Mo, V (offsets in elements):
   *   Mo = β1·Mo + (1−β1)·G;  V = β2·V + (1−β2)·G²
   *   P −= lr/(1−β1ᵗ) · Mo / (sqrt(V/(1−β2ᵗ)) + eps)
   */
  adam?(
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
  ): void;
}

/**
 * The reference kernel: the definition of `gemm`, written as plainly as possible. Every fast
 * kernel is tested against it.
 */
export function referenceGemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  aOff: number,
  B: FloatArray,
  bOff: number,
  C: FloatArray,
  cOff: number,
  accumulate: boolean,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[aOff + k * M + i] : A[aOff + i * K + k];
        const b = transB ? B[bOff + j * K + k] : B[bOff + k * N + j];
        s += a * b;
      }
      const c = cOff + i * N + j;
      C[c] = accumulate ? C[c] + s : s;
    }
  }
}

/** A backend of plain typed arrays and the reference kernel. */
export function referenceBackend(dtype: DType): Backend {
  const Ctor = dtype === 'f64' ? Float64Array : Float32Array;
  return {
    dtype,
    name: `reference-${dtype}`,
    allocate: (sizes) => sizes.map((n) => new Ctor(n)),
    gemm: referenceGemm,
  };
}
