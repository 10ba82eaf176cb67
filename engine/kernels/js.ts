/**
 * Register-blocked JavaScript gemm (same contract as `referenceGemm` in ./backend).
 *
 * Every transpose variant is the same loop nest over element strides:
 *   op(A)(i, k) = A[aOff + i·ars + k·acs]     (ars, acs) = transA ? (1, M) : (K, 1)
 *   op(B)(k, j) = B[bOff + k·brs + j·bcs]     (brs, bcs) = transB ? (1, K) : (N, 1)
 * The body computes 4×4 blocks of C in sixteen local variables (registers), walking k once per
 * block: 8 loads feed 16 multiply-adds. Rows and columns left over at the edges (M or N not a
 * multiple of 4) are done as plain dot products. Sums are accumulated in float64 (JavaScript
 * numbers) whatever the array type, and rounded once when stored.
 *
 * V8 optimises a function for the array types it sees; a function fed both Float32Array and
 * Float64Array runs measurably slower. Hence two textually identical copies, one per dtype
 * (`gemmF64`, `gemmF32`); a test checks that they stay identical apart from their names.
 */
import type { Backend, DType } from './backend';
import {
  adamStep,
  addBias,
  axpby,
  axpbyKeep,
  firstNonFinite,
  crossEntropyBackward,
  crossEntropyRows,
  gatherRows,
  softmaxRows,
  sumRows,
  unaryBackwardMap,
  unaryMap,
} from './fused';

export function gemmF64(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float64Array,
  aOff: number,
  B: Float64Array,
  bOff: number,
  C: Float64Array,
  cOff: number,
  accumulate: boolean,
): void {
  const ars = transA ? 1 : K;
  const acs = transA ? M : 1;
  const brs = transB ? 1 : N;
  const bcs = transB ? K : 1;
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = aOff + i * ars;
    const a1 = a0 + ars;
    const a2 = a1 + ars;
    const a3 = a2 + ars;
    for (let j = 0; j < N4; j += 4) {
      const b0 = bOff + j * bcs;
      const b1 = b0 + bcs;
      const b2 = b1 + bcs;
      const b3 = b2 + bcs;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0, pa = 0, pb = 0; k < K; k++, pa += acs, pb += brs) {
        const x0 = A[a0 + pa], x1 = A[a1 + pa], x2 = A[a2 + pa], x3 = A[a3 + pa];
        const y0 = B[b0 + pb], y1 = B[b1 + pb], y2 = B[b2 + pb], y3 = B[b3 + pb];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      const c0 = cOff + i * N + j;
      const c1 = c0 + N;
      const c2 = c1 + N;
      const c3 = c2 + N;
      if (accumulate) {
        C[c0] += c00; C[c0 + 1] += c01; C[c0 + 2] += c02; C[c0 + 3] += c03;
        C[c1] += c10; C[c1 + 1] += c11; C[c1 + 2] += c12; C[c1 + 3] += c13;
        C[c2] += c20; C[c2 + 1] += c21; C[c2 + 2] += c22; C[c2 + 3] += c23;
        C[c3] += c30; C[c3 + 1] += c31; C[c3 + 2] += c32; C[c3 + 3] += c33;
      } else {
        C[c0] = c00; C[c0 + 1] = c01; C[c0 + 2] = c02; C[c0 + 3] = c03;
        C[c1] = c10; C[c1 + 1] = c11; C[c1 + 2] = c12; C[c1 + 3] = c13;
        C[c2] = c20; C[c2 + 1] = c21; C[c2 + 2] = c22; C[c2 + 3] = c23;
        C[c3] = c30; C[c3 + 1] = c31; C[c3 + 2] = c32; C[c3 + 3] = c33;
      }
    }
  }
  // Edges: the rows below M4 (all columns), then the columns right of N4 (rows above M4).
  for (let i = 0; i < M; i++) {
    for (let j = i < M4 ? N4 : 0; j < N; j++) {
      let s = 0;
      for (let k = 0, pa = aOff + i * ars, pb = bOff + j * bcs; k < K; k++, pa += acs, pb += brs) s += A[pa] * B[pb];
      const c = cOff + i * N + j;
      C[c] = accumulate ? C[c] + s : s;
    }
  }
}

export function gemmF32(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  aOff: number,
  B: Float32Array,
  bOff: number,
  C: Float32Array,
  cOff: number,
  accumulate: boolean,
): void {
  const ars = transA ? 1 : K;
  const acs = transA ? M : 1;
  const brs = transB ? 1 : N;
  const bcs = transB ? K : 1;
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = aOff + i * ars;
    const a1 = a0 + ars;
    const a2 = a1 + ars;
    const a3 = a2 + ars;
    for (let j = 0; j < N4; j += 4) {
      const b0 = bOff + j * bcs;
      const b1 = b0 + bcs;
      const b2 = b1 + bcs;
      const b3 = b2 + bcs;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0, pa = 0, pb = 0; k < K; k++, pa += acs, pb += brs) {
        const x0 = A[a0 + pa], x1 = A[a1 + pa], x2 = A[a2 + pa], x3 = A[a3 + pa];
        const y0 = B[b0 + pb], y1 = B[b1 + pb], y2 = B[b2 + pb], y3 = B[b3 + pb];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      const c0 = cOff + i * N + j;
      const c1 = c0 + N;
      const c2 = c1 + N;
      const c3 = c2 + N;
      if (accumulate) {
        C[c0] += c00; C[c0 + 1] += c01; C[c0 + 2] += c02; C[c0 + 3] += c03;
        C[c1] += c10; C[c1 + 1] += c11; C[c1 + 2] += c12; C[c1 + 3] += c13;
        C[c2] += c20; C[c2 + 1] += c21; C[c2 + 2] += c22; C[c2 + 3] += c23;
        C[c3] += c30; C[c3 + 1] += c31; C[c3 + 2] += c32; C[c3 + 3] += c33;
      } else {
        C[c0] = c00; C[c0 + 1] = c01; C[c0 + 2] = c02; C[c0 + 3] = c03;
        C[c1] = c10; C[c1 + 1] = c11; C[c1 + 2] = c12; C[c1 + 3] = c13;
        C[c2] = c20; C[c2 + 1] = c21; C[c2 + 2] = c22; C[c2 + 3] = c23;
        C[c3] = c30; C[c3 + 1] = c31; C[c3 + 2] = c32; C[c3 + 3] = c33;
      }
    }
  }
  // Edges: the rows below M4 (all columns), then the columns right of N4 (rows above M4).
  for (let i = 0; i < M; i++) {
    for (let j = i < M4 ? N4 : 0; j < N; j++) {
      let s = 0;
      for (let k = 0, pa = aOff + i * ars, pb = bOff + j * bcs; k < K; k++, pa += acs, pb += brs) s += A[pa] * B[pb];
      const c = cOff + i * N + j;
      C[c] = accumulate ? C[c] + s : s;
    }
  }
}

/** A backend of plain typed arrays and the register-blocked kernel. */
export function jsBackend(dtype: DType): Backend {
  if (dtype === 'f64') {
    return {
      dtype,
      name: 'js-f64',
      allocate: (sizes) => sizes.map((n) => new Float64Array(n)),
      gemm: (tA, tB, M, N, K, A, aOff, B, bOff, C, cOff, acc) =>
        gemmF64(tA, tB, M, N, K, A as Float64Array, aOff, B as Float64Array, bOff, C as Float64Array, cOff, acc),
      axpby,
      axpbyKeep,
      firstNonFinite,
      adam: adamStep,
      unary: unaryMap,
      unaryBackward: unaryBackwardMap,
      addBias,
      sumRows,
      softmaxRows,
      gatherRows,
      crossEntropyRows,
      crossEntropyBackward,
    };
  }
  return {
    dtype,
    name: 'js-f32',
    allocate: (sizes) => sizes.map((n) => new Float32Array(n)),
    gemm: (tA, tB, M, N, K, A, aOff, B, bOff, C, cOff, acc) =>
      gemmF32(tA, tB, M, N, K, A as Float32Array, aOff, B as Float32Array, bOff, C as Float32Array, cOff, acc),
    axpby,
    axpbyKeep,
    firstNonFinite,
    adam: adamStep,
    unary: unaryMap,
    unaryBackward: unaryBackwardMap,
    addBias,
    sumRows,
    softmaxRows,
    gatherRows,
    crossEntropyRows,
    crossEntropyBackward,
  };
}
