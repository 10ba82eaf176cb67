/**
 * Numeric kernels: backends (where buffers live, how matrices are multiplied) and fused
 * training-path operations. docs/performance.md has the measurements.
 *
 * Backends (all implement `Backend` from ./backend):
 *   referenceBackend(dtype)  the definition: plain triple loop (tests compare against it)
 *   jsBackend(dtype)         register-blocked JavaScript, 4×4 blocks, every transpose variant
 *   wasmBackend({ threads, fma }) float32 WebAssembly SIMD kernel; buffers live in the module's memory
 *                            (fma: fused multiply-adds, the relaxed-SIMD build, by default where it runs)
 *                            (threads ≥ 2: shared memory, helper worker_threads split large products)
 *   bestBackend(dtype)       'f32': wasmBackend() when WebAssembly SIMD validates, else jsBackend('f32');
 *                            'f64': jsBackend('f64')
 * Each call returns a new backend; give each compiled program its own (see Backend.allocate).
 *
 * Optional Backend members (see ./backend; every backend made here has them):
 *   unary(fn: 'exp' | 'sigmoid' | 'tanh' | 'relu', n, X, xOff, Y, yOff)   Y = fn(X), SIMD in wasm
 *   unaryBackward(fn, n, Y, yOff, GY, gyOff, GX, gxOff)                  GX += GY·fn′ (fn′ from Y)
 *   addBias(rows, cols, X, xOff, b, bOff, Y, yOff)                      Y = X + b in every row
 *   sumRows(rows, cols, G, gOff, S, sOff)                               S += column sums of G
 *   softmaxRows(rows, L, Z, zOff, Y, yOff)                              Y = softmax of each row of Z
 *   gatherRows(count, cols, X, xOff, idx, idxOff, Y, yOff)              Y[i] = X[idx[i]] (rows)
 *   crossEntropyRows(rows, L, Y, yOff, T, tOff, out, outOff)            out[r] = −Σ t log y (→ −1, or a row to redo)
 *   crossEntropyBackward(rows, L, Y, yOff, T, tOff, G, gOff, GZ, gzOff) GZ += G[r]·(Y·Σt − T)
 *   axpby(n, alpha, X, xOff, beta, Y, yOff)                             Y = αX + βY (SGD, momentum)
 *   axpbyKeep(n, alpha, X, xOff, beta, Y, yOff, K, kOff)               K = Y; Y = αX + βY (SGD keeping the old p)
 *   firstNonFinite(n, X, xOff)                                          first NaN/±∞ index, or −1
 *   adam(n, lr, beta1, beta2, eps, t, P, pOff, G, gOff, Mo, mOff, V, vOff)   one Adam step
 */
import { referenceBackend, referenceGemm, type Backend, type DType, type FloatArray, type MappedFn } from './backend';
import { gemmF32, gemmF64, jsBackend } from './js';
import { PARALLEL_MIN_MACS, wasmBackend, wasmFmaSupported, wasmSimdSupported, wasmThreadsSupported, type WasmBackend, type WasmBackendOptions } from './wasm';

export type { Backend, DType, FloatArray, MappedFn, WasmBackend, WasmBackendOptions };
export { referenceBackend, referenceGemm, jsBackend, gemmF32, gemmF64, wasmBackend, wasmSimdSupported, wasmThreadsSupported, wasmFmaSupported, PARALLEL_MIN_MACS };
export {
  biasGradient,
  axpby,
  axpbyKeep,
  firstNonFinite,
  adamStep,
  unaryMap,
  unaryBackwardMap,
  addBias,
  sumRows,
  softmaxRows,
  gatherRows,
  crossEntropyRows,
  crossEntropyBackward,
} from './fused';

/**
 * The fastest backend available here for a dtype; for 'f32' with `threads` ≥ 2, a WebAssembly
 * backend whose large products use that many threads (when WebAssembly threads are available).
 */
export function bestBackend(dtype: DType, opts: { threads?: number } = {}): Backend {
  if (dtype === 'f32' && wasmSimdSupported()) return wasmBackend({ threads: opts.threads });
  return jsBackend(dtype);
}
