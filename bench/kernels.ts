/**
 * Kernel micro-benchmark: GFLOP/s of the float32 matrix kernels (reference triple loop,
 * register-blocked JavaScript, WebAssembly SIMD) at the matrix sizes of the workloads.
 * Each figure is the median of several timed runs of repeated gemm calls on the same buffers.
 */
import { jsBackend, referenceBackend, wasmBackend, wasmFmaSupported, wasmSimdSupported, type Backend } from '../engine/kernels/index';
import { Rng } from '../engine/rng';
import { median } from './engine';

export interface GemmCase {
  label: string;
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  /** Fraction of op(A)'s entries that are exact zeros (a relu layer's gradient: about half). */
  zeros?: number;
}

/** The products of one training step of W1 and W2 (forward, weight gradient, input gradient). */
export const GEMM_CASES: GemmCase[] = [
  { label: 'W1 fwd  X·W1ᵀ', transA: false, transB: true, M: 32, N: 30, K: 256 },
  { label: 'W1 grad dZᵀ·X', transA: true, transB: false, M: 30, N: 256, K: 32 },
  { label: 'W2 fwd  X·W1ᵀ', transA: false, transB: true, M: 64, N: 128, K: 784 },
  { label: 'W2 grad dZᵀ·X', transA: true, transB: false, M: 128, N: 784, K: 64 },
  { label: 'W2 grad, relu dZ', transA: true, transB: false, M: 128, N: 784, K: 64, zeros: 0.5 },
  { label: 'W2 fwd  A1·W2ᵀ', transA: false, transB: true, M: 64, N: 64, K: 128 },
  { label: 'W2 back dZ·W2', transA: false, transB: false, M: 64, N: 128, K: 64 },
  { label: 'square 256', transA: false, transB: false, M: 256, N: 256, K: 256 },
];

export interface KernelResult {
  kernel: string;
  gflops: number;
}

function timeGemm(be: Backend, c: GemmCase, seconds: number, repeats: number): number {
  const { M, N, K, transA, transB } = c;
  const [A, B, C] = be.allocate([M * K, K * N, M * N]);
  const rng = new Rng(1);
  for (let i = 0; i < A.length; i++) A[i] = rng.uniform() < (c.zeros ?? 0) ? 0 : rng.range(-1, 1);
  for (let i = 0; i < B.length; i++) B[i] = rng.range(-1, 1);
  // the dense count: a sparse path's rate is what it does in the dense kernel's terms
  const flops = 2 * M * N * K;
  const run = (ms: number) => {
    let calls = 0;
    const start = performance.now();
    for (;;) {
      be.gemm(transA, transB, M, N, K, A, 0, B, 0, C, 0, false);
      calls++;
      const now = performance.now();
      if (now - start >= ms) return (calls * flops) / ((now - start) * 1e6);
    }
  };
  run(Math.min(200, seconds * 300)); // warm up
  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) rates.push(run((seconds * 1000) / repeats));
  return median(rates);
}

export function kernelBackends(): Backend[] {
  const list: Backend[] = [referenceBackend('f32'), jsBackend('f32'), jsBackend('f64')];
  if (wasmSimdSupported()) list.push(wasmBackend({ fma: false }));
  if (wasmFmaSupported()) list.push(wasmBackend({ fma: true }));
  return list;
}

/** GFLOP/s per case and backend. `seconds` is the timed budget per (case, backend). */
export function kernelBench(seconds = 0.6, repeats = 5, cases = GEMM_CASES): { c: GemmCase; results: KernelResult[] }[] {
  const backends = kernelBackends();
  return cases.map((c) => ({
    c,
    results: backends.map((be) => ({
      kernel: be.name,
      // the reference kernel is slow: time it for less
      gflops: timeGemm(be, c, be.name.startsWith('reference') ? seconds / 2 : seconds, repeats),
    })),
  }));
}
