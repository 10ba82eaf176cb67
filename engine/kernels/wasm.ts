/**
 * The WebAssembly SIMD float32 backend.
 *
 * The kernel (engine/wasm/assembly/gemm.ts, AssemblyScript, compiled at build time into
 * engine/generated/gemm-wasm.ts) works on byte addresses in its module's linear memory, so the
 * buffers it multiplies must live there: `allocate` lays every requested buffer out in that
 * memory (64-byte aligned, zero-filled) and returns Float32Array views on it; `gemm` passes
 * their `byteOffset`s to the kernel.
 *
 * Memory rules (see Backend.allocate):
 * - Each `wasmBackend()` has its own WebAssembly instance and memory; give each program its own.
 * - `allocate` sizes the memory once per call, growing it *before* it creates any view, and reuses
 *   the space of the previous call. Every view returned by an earlier `allocate` is therefore
 *   invalid afterwards: it either aliases the new buffers or, if the memory grew, is detached
 *   (length 0). Call `allocate` once per program (again only when the batch size changes) and
 *   drop the old arrays.
 * - `gemm` on arrays that are not views of the current memory (plain Float32Arrays, or stale
 *   views) falls back to the register-blocked JavaScript kernel — correct, just slower.
 * - C must not overlap A or B (as for every backend).
 */
import type { Backend, FloatArray, MappedFn } from './backend';
import { KERNELS_WASM_BASE64 } from '../generated/kernels-wasm';
import { adamStep, addBias, axpby, gatherRows, softmaxRows, sumRows, unaryBackwardMap, unaryMap } from './fused';
import { gemmF32 } from './js';

interface KernelExports {
  memory: WebAssembly.Memory;
  axpby(n: number, alpha: number, x: number, beta: number, y: number): void;
  unary(f: number, n: number, x: number, y: number): void;
  unaryBackward(f: number, n: number, y: number, gy: number, gx: number): void;
  addBias(rows: number, cols: number, x: number, b: number, y: number): void;
  biasGradient(rows: number, cols: number, g: number, s: number): void;
  softmaxRows(rows: number, L: number, z: number, y: number): void;
  gatherRows(count: number, cols: number, src: number, idx: number, dst: number): void;
  adam(
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    bc1: number,
    bc2: number,
    p: number,
    g: number,
    m: number,
    v: number,
  ): void;
  heapBase(): number;
  scratchBytes(): number;
  gemm(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    a: number,
    b: number,
    c: number,
    accumulate: number,
    scratch: number,
  ): void;
}

const PAGE = 65536;
const ALIGN = 64;
const MAX_BYTES = 2 ** 32 - PAGE; // wasm32

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

let bytes: Uint8Array<ArrayBuffer> | null = null;
let compiled: WebAssembly.Module | null = null;
let supported: boolean | null = null;

function moduleBytes(): Uint8Array<ArrayBuffer> {
  if (!bytes) bytes = new Uint8Array(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  return bytes;
}

/** True when this WebAssembly engine accepts the SIMD kernel. */
export function wasmSimdSupported(): boolean {
  if (supported === null) {
    supported = typeof WebAssembly === 'object' && WebAssembly.validate(moduleBytes());
  }
  return supported;
}

function gemmModule(): WebAssembly.Module {
  if (!compiled) {
    if (!wasmSimdSupported()) throw new Error('WebAssembly SIMD is not available in this JavaScript engine');
    compiled = new WebAssembly.Module(moduleBytes());
  }
  return compiled;
}

/** The WebAssembly backend, with its memory exposed for tests and diagnostics. */
export interface WasmBackend extends Backend {
  readonly dtype: 'f32';
  /** The module's memory; `memory.buffer` changes when it grows. */
  readonly memory: WebAssembly.Memory;
  /** Bytes the last `allocate` laid out (scratch included). */
  readonly usedBytes: number;
  axpby: NonNullable<Backend['axpby']>;
  adam: NonNullable<Backend['adam']>;
  unary: NonNullable<Backend['unary']>;
  unaryBackward: NonNullable<Backend['unaryBackward']>;
  addBias: NonNullable<Backend['addBias']>;
  sumRows: NonNullable<Backend['sumRows']>;
  softmaxRows: NonNullable<Backend['softmaxRows']>;
  gatherRows: NonNullable<Backend['gatherRows']>;
}

const UNARY_CODE: Record<MappedFn, number> = { exp: 0, sigmoid: 1, tanh: 2, relu: 3 };

/** A float32 backend whose buffers live in WebAssembly memory and whose kernels use SIMD. */
export function wasmBackend(): WasmBackend {
  const instance = new WebAssembly.Instance(gemmModule(), {});
  const ex = instance.exports as unknown as KernelExports;
  const memory = ex.memory;
  const scratch = align(ex.heapBase());
  const heapStart = align(scratch + ex.scratchBytes());
  let used = heapStart;

  // The memory's current ArrayBuffer. Only `ensure` grows the memory (the kernels never do), so
  // caching it here spares every kernel call a `memory.buffer` lookup (~25 ns each).
  let current = memory.buffer;
  const ensure = (total: number) => {
    if (total > MAX_BYTES) {
      throw new RangeError(`wasm backend: ${total} bytes do not fit in 32-bit WebAssembly memory`);
    }
    const have = memory.buffer.byteLength;
    if (total > have) memory.grow(Math.ceil((total - have) / PAGE));
    current = memory.buffer;
  };
  ensure(heapStart);

  const inMemory = (a: FloatArray): a is Float32Array => a.buffer === current && a instanceof Float32Array;

  return {
    dtype: 'f32',
    name: 'wasm-simd-f32',
    memory,
    get usedBytes() {
      return used;
    },
    allocate(sizes: number[]): Float32Array[] {
      const offsets: number[] = [];
      let end = heapStart;
      for (const n of sizes) {
        if (!Number.isInteger(n) || n < 0) throw new RangeError(`allocate: bad buffer size ${n}`);
        offsets.push(end);
        end = align(end + 4 * n);
      }
      ensure(end); // grow first: views made before a grow would be detached
      const buf = memory.buffer;
      new Uint8Array(buf, heapStart, end - heapStart).fill(0);
      used = end;
      return sizes.map((n, i) => new Float32Array(buf, offsets[i], n));
    },
    gemm(transA, transB, M, N, K, A, aOff, B, bOff, C, cOff, accumulate) {
      if (inMemory(A) && inMemory(B) && inMemory(C)) {
        ex.gemm(
          transA ? 1 : 0,
          transB ? 1 : 0,
          M,
          N,
          K,
          A.byteOffset + 4 * aOff,
          B.byteOffset + 4 * bOff,
          C.byteOffset + 4 * cOff,
          accumulate ? 1 : 0,
          scratch,
        );
      } else {
        gemmF32(
          transA,
          transB,
          M,
          N,
          K,
          A as Float32Array,
          aOff,
          B as Float32Array,
          bOff,
          C as Float32Array,
          cOff,
          accumulate,
        );
      }
    },
    axpby(n, alpha, X, xOff, beta, Y, yOff) {
      if (inMemory(X) && inMemory(Y)) ex.axpby(n, alpha, X.byteOffset + 4 * xOff, beta, Y.byteOffset + 4 * yOff);
      else axpby(n, alpha, X, xOff, beta, Y, yOff);
    },
    adam(n, lr, beta1, beta2, eps, t, P, pOff, G, gOff, Mo, mOff, V, vOff) {
      if (inMemory(P) && inMemory(G) && inMemory(Mo) && inMemory(V)) {
        ex.adam(
          n,
          lr,
          beta1,
          beta2,
          eps,
          1 - Math.pow(beta1, t),
          1 - Math.pow(beta2, t),
          P.byteOffset + 4 * pOff,
          G.byteOffset + 4 * gOff,
          Mo.byteOffset + 4 * mOff,
          V.byteOffset + 4 * vOff,
        );
      } else adamStep(n, lr, beta1, beta2, eps, t, P, pOff, G, gOff, Mo, mOff, V, vOff);
    },
    unary(fn, n, X, xOff, Y, yOff) {
      if (inMemory(X) && inMemory(Y)) ex.unary(UNARY_CODE[fn], n, X.byteOffset + 4 * xOff, Y.byteOffset + 4 * yOff);
      else unaryMap(fn, n, X, xOff, Y, yOff);
    },
    unaryBackward(fn, n, Y, yOff, GY, gyOff, GX, gxOff) {
      if (inMemory(Y) && inMemory(GY) && inMemory(GX))
        ex.unaryBackward(UNARY_CODE[fn], n, Y.byteOffset + 4 * yOff, GY.byteOffset + 4 * gyOff, GX.byteOffset + 4 * gxOff);
      else unaryBackwardMap(fn, n, Y, yOff, GY, gyOff, GX, gxOff);
    },
    addBias(rows, cols, X, xOff, b, bOff, Y, yOff) {
      if (inMemory(X) && inMemory(b) && inMemory(Y))
        ex.addBias(rows, cols, X.byteOffset + 4 * xOff, b.byteOffset + 4 * bOff, Y.byteOffset + 4 * yOff);
      else addBias(rows, cols, X, xOff, b, bOff, Y, yOff);
    },
    softmaxRows(rows, L, Z, zOff, Y, yOff) {
      if (inMemory(Z) && inMemory(Y)) ex.softmaxRows(rows, L, Z.byteOffset + 4 * zOff, Y.byteOffset + 4 * yOff);
      else softmaxRows(rows, L, Z, zOff, Y, yOff);
    },
    gatherRows(count, cols, X, xOff, idx, idxOff, Y, yOff) {
      if (inMemory(X) && inMemory(Y) && idx.buffer === current)
        ex.gatherRows(count, cols, X.byteOffset + 4 * xOff, idx.byteOffset + 4 * idxOff, Y.byteOffset + 4 * yOff);
      else gatherRows(count, cols, X, xOff, idx, idxOff, Y, yOff);
    },
    sumRows(rows, cols, G, gOff, S, sOff) {
      if (inMemory(G) && inMemory(S)) ex.biasGradient(rows, cols, G.byteOffset + 4 * gOff, S.byteOffset + 4 * sOff);
      else sumRows(rows, cols, G, gOff, S, sOff);
    },
  };
}
