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
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Backend, FloatArray, MappedFn } from './backend';
import {
  KERNELS_FMA_THREADS_WASM_BASE64,
  KERNELS_FMA_WASM_BASE64,
  KERNELS_THREADS_WASM_BASE64,
  KERNELS_WASM_BASE64,
} from '../generated/kernels-wasm';
import {
  adamStep,
  addBias,
  axpby,
  crossEntropyBackward,
  crossEntropyRows,
  firstNonFinite as firstNonFiniteJs,
  axpbyKeep as axpbyKeepJs,
  gatherRows,
  softmaxRows,
  sumRows,
  unaryBackwardMap,
  unaryMap,
} from './fused';
import { gemmF32 } from './js';

interface KernelExports {
  memory: WebAssembly.Memory;
  axpby(n: number, alpha: number, x: number, beta: number, y: number): void;
  axpbyKeep(n: number, alpha: number, x: number, beta: number, y: number, keep: number): void;
  unary(f: number, n: number, x: number, y: number): void;
  unaryBackward(f: number, n: number, y: number, gy: number, gx: number): void;
  addBias(rows: number, cols: number, x: number, b: number, y: number): void;
  biasGradient(rows: number, cols: number, g: number, s: number): void;
  softmaxRows(rows: number, L: number, z: number, y: number): void;
  gatherRows(count: number, cols: number, src: number, idx: number, dst: number): void;
  crossEntropyRows(rows: number, L: number, y: number, t: number, out: number): number;
  crossEntropyBackward(rows: number, L: number, y: number, t: number, g: number, gz: number): void;
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
  firstNonFinite(n: number, x: number): number;
  heapBase(): number;
  scratchBytes(): number;
  listBytes(): number;
  setSparse(on: number): void;
  sparseProducts(transposed: number): number;
  /** The threaded module only. */
  ctlBytes?(): number;
  gemmParallel?(
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
    ctl: number,
    parts: number,
  ): void;
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

/**
 * A product of at least this many multiply-adds (M·N·K) is split between threads, when the backend
 * has helpers: below it, waking them and packing twice costs more than it saves (measured on
 * 2 cores: W2's 64×128×784 products gain, its 64×64×128 ones and W1's 32×30×256 do not).
 */
export const PARALLEL_MIN_MACS = 1 << 20;

/**
 * The four builds of engine/wasm/assembly (scripts/gen-wasm.mjs): SIMD, and SIMD with relaxed SIMD
 * (`fma`: the matrix products' multiply-adds fused), each with its own memory or, for threads, a
 * shared imported one.
 */
type Build = 'simd' | 'simdThreads' | 'fma' | 'fmaThreads';
const BUILD_BASE64: Record<Build, string> = {
  simd: KERNELS_WASM_BASE64,
  simdThreads: KERNELS_THREADS_WASM_BASE64,
  fma: KERNELS_FMA_WASM_BASE64,
  fmaThreads: KERNELS_FMA_THREADS_WASM_BASE64,
};
const buildBytes: Partial<Record<Build, Uint8Array<ArrayBuffer>>> = {};
const buildModules: Partial<Record<Build, WebAssembly.Module>> = {};
const buildValid: Partial<Record<Build, boolean>> = {};

function bytesOf(build: Build): Uint8Array<ArrayBuffer> {
  return (buildBytes[build] ??= new Uint8Array(Buffer.from(BUILD_BASE64[build], 'base64')));
}

function validates(build: Build): boolean {
  return (buildValid[build] ??= typeof WebAssembly === 'object' && WebAssembly.validate(bytesOf(build)));
}

function moduleOf(build: Build): WebAssembly.Module {
  return (buildModules[build] ??= new WebAssembly.Module(bytesOf(build)));
}

/** True when this WebAssembly engine accepts the SIMD kernel. */
export function wasmSimdSupported(): boolean {
  return validates('simd');
}

/** True when the threaded kernel (SIMD, atomics, a shared memory) can run here. */
export function wasmThreadsSupported(): boolean {
  return wasmSimdSupported() && typeof SharedArrayBuffer === 'function' && validates('simdThreads');
}

let fmaSupported: boolean | null = null;

/**
 * True when the relaxed-SIMD build runs here: its products use the CPU's fused multiply-add (x64
 * FMA3, arm64) — half the floating-point instructions of a multiply and an add: up to ~20 % faster
 * when the core's pipes are shared, as fast otherwise (docs/performance.md). V8 ships relaxed SIMD
 * from 11.4 (Node 22, Electron ≥ 25); Node 20's V8 11.3 has it, complete, behind
 * `--experimental-wasm-relaxed-simd`, which is set here (a V8 flag, for the whole process) when the
 * build does not validate without it. NNLENS_WASM_FMA=0 turns it off (the plain SIMD build).
 */
export function wasmFmaSupported(): boolean {
  if (fmaSupported !== null) return fmaSupported;
  fmaSupported = false;
  if (!wasmSimdSupported() || (typeof process === 'object' && process.env?.NNLENS_WASM_FMA === '0')) return false;
  if (!validates('fma')) {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      return false;
    }
    delete buildValid.fma;
    if (!validates('fma')) return false;
  }
  fmaSupported = true;
  return true;
}

/** A helper thread: its own instance of the threaded module over the shared memory, in helperLoop. */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctl, id, scratch } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
instance.exports.helperLoop(ctl, id, scratch);
`;

export interface WasmBackendOptions {
  /**
   * Threads for large matrix products (default 1): with 2 or more, the backend's memory is shared
   * and `threads − 1` helper worker_threads split every product of at least `parallelMinMacs`
   * multiply-adds by columns with the calling thread.
   */
  threads?: number;
  /** Default PARALLEL_MIN_MACS. */
  parallelMinMacs?: number;
  /**
   * Fused multiply-adds in the matrix products (the relaxed-SIMD build). Default: where
   * `wasmFmaSupported()`; true where it is not falls back to the plain build.
   */
  fma?: boolean;
  /**
   * The products' sparse path (default true): an op(A) with many exact zeros (a relu layer's
   * gradient, a batch of digits) multiplied through lists of its nonzero entries. Off: the dense
   * kernel for every product (tests compare the two).
   */
  sparse?: boolean;
}

/** The WebAssembly backend, with its memory exposed for tests and diagnostics. */
export interface WasmBackend extends Backend {
  readonly dtype: 'f32';
  /** The module's memory; `memory.buffer` changes when it grows. */
  readonly memory: WebAssembly.Memory;
  /** Bytes the last `allocate` laid out (scratch included). */
  readonly usedBytes: number;
  /** Threads its large products use (1: this thread only). */
  readonly threads: number;
  /** Its products use fused multiply-adds (the relaxed-SIMD build). */
  readonly fma: boolean;
  /** Products split between threads so far (for tests and the benchmark). */
  readonly parallelProducts: number;
  /**
   * Products that took the sparse path so far (for tests): with B row-major, and with B stored N×K
   * (transposed first).
   */
  readonly sparseProducts: { rowMajor: number; transposed: number };
  /** Every helper thread has started (products are split only then). */
  readonly helpersReady: boolean;
  /**
   * Blocks this thread until every helper has started (a new worker takes tens of milliseconds),
   * or `timeoutMs` has passed; true when they have. Without helpers: true at once.
   */
  waitForHelpers(timeoutMs: number): boolean;
  firstNonFinite: NonNullable<Backend['firstNonFinite']>;
  axpbyKeep: NonNullable<Backend['axpbyKeep']>;
  dispose: NonNullable<Backend['dispose']>;
  axpby: NonNullable<Backend['axpby']>;
  adam: NonNullable<Backend['adam']>;
  unary: NonNullable<Backend['unary']>;
  unaryBackward: NonNullable<Backend['unaryBackward']>;
  addBias: NonNullable<Backend['addBias']>;
  sumRows: NonNullable<Backend['sumRows']>;
  softmaxRows: NonNullable<Backend['softmaxRows']>;
  gatherRows: NonNullable<Backend['gatherRows']>;
  crossEntropyRows: NonNullable<Backend['crossEntropyRows']>;
  crossEntropyBackward: NonNullable<Backend['crossEntropyBackward']>;
}

const UNARY_CODE: Record<MappedFn, number> = { exp: 0, sigmoid: 1, tanh: 2, relu: 3 };

/**
 * A float32 backend whose buffers live in WebAssembly memory and whose kernels use SIMD; with
 * `threads` ≥ 2 (and WebAssembly threads available), its memory is shared with helper threads that
 * split the large matrix products (see WasmBackendOptions). Call `dispose` when done with a
 * threaded backend (its helpers are unref'd: they never keep the process alive).
 */
export function wasmBackend(opts: WasmBackendOptions = {}): WasmBackend {
  const threads = Math.max(1, Math.floor(opts.threads ?? 1)) > 1 && wasmThreadsSupported() ? Math.max(1, Math.floor(opts.threads!)) : 1;
  const minMacs = opts.parallelMinMacs ?? PARALLEL_MIN_MACS;
  const threaded = threads > 1;
  if (!wasmSimdSupported()) throw new Error('WebAssembly SIMD is not available in this JavaScript engine');
  const fma = (opts.fma ?? true) && wasmFmaSupported();
  const module = moduleOf(fma ? (threaded ? 'fmaThreads' : 'fma') : threaded ? 'simdThreads' : 'simd');
  const sharedMemory = threaded ? new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }) : null;
  const instance = new WebAssembly.Instance(module, sharedMemory ? { env: { memory: sharedMemory } } : {});
  const ex = instance.exports as unknown as KernelExports;
  if (opts.sparse === false) ex.setSparse(0);
  const memory = sharedMemory ?? ex.memory;
  const scratch = align(ex.heapBase());
  let end = align(scratch + ex.scratchBytes() + ex.listBytes());
  // the helpers' packing space and the control block
  const helperScratch = end;
  const helperStride = align(ex.scratchBytes());
  end += (threads - 1) * helperStride;
  const ctl = end;
  end = align(end + (threaded ? ex.ctlBytes!() : 0));
  const heapStart = end;
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

  // helper threads (threaded backends): started now, used once every one has entered its loop
  const ctlView = threaded ? new Int32Array(memory.buffer, ctl, 64) : null;
  const helpers: Worker[] = [];
  let helpersReady = false;
  let broken = false;
  let parallelProducts = 0;
  if (threaded) {
    for (let id = 1; id < threads; id++) {
      const w = new Worker(HELPER_SOURCE, {
        eval: true,
        workerData: { module, memory, ctl, id, scratch: helperScratch + (id - 1) * helperStride },
      });
      w.unref();
      // a helper that fails leaves the products to this thread (checked before every split)
      w.on('error', () => (broken = true));
      w.on('exit', () => (broken = true));
      helpers.push(w);
    }
  }
  const canSplit = (): boolean => {
    if (broken) return false;
    if (!helpersReady) helpersReady = Atomics.load(ctlView!, 33) === threads - 1; // `ready`, byte 132
    return helpersReady;
  };
  const dispose = () => {
    if (!ctlView || broken) return;
    broken = true;
    Atomics.store(ctlView, 32, 1); // quit (byte 128)
    Atomics.add(ctlView, 0, 1); // seq
    Atomics.notify(ctlView, 0);
    for (const w of helpers) void w.terminate();
  };

  // Byte address of an array's first element when it is a 4-byte view of the current memory, else
  // −1 (the caller then falls back to JavaScript). Checking `buffer` and reading `byteOffset` cost
  // ~20 ns per array in V8; the arrays a program passes are the same few every step, so their
  // addresses are kept in a WeakMap (forgotten at every allocate, which may move or detach views).
  let known = new WeakMap<object, number>();
  const ptr = (a: FloatArray | Uint32Array): number => {
    const p = known.get(a);
    if (p !== undefined) return p;
    if (a.buffer !== current || !(a instanceof Float32Array || a instanceof Uint32Array)) return -1;
    const q = a.byteOffset;
    known.set(a, q);
    return q;
  };

  return {
    dtype: 'f32',
    name: `wasm-simd${fma ? '-fma' : ''}-f32${threaded ? ` (${threads} threads)` : ''}`,
    fma,
    memory,
    threads,
    get usedBytes() {
      return used;
    },
    get parallelProducts() {
      return parallelProducts;
    },
    get sparseProducts() {
      return { rowMajor: ex.sparseProducts(0), transposed: ex.sparseProducts(1) };
    },
    get helpersReady() {
      return threaded && canSplit();
    },
    waitForHelpers(timeoutMs: number) {
      if (!threaded) return true;
      const end = performance.now() + timeoutMs;
      for (;;) {
        if (canSplit()) return true;
        if (broken) return false;
        const left = end - performance.now();
        if (left <= 0) return false;
        const seen = Atomics.load(ctlView!, 33);
        if (seen !== threads - 1) Atomics.wait(ctlView!, 33, seen, Math.min(left, 50));
      }
    },
    dispose,
    allocate(sizes: number[]): Float32Array[] {
      const offsets: number[] = [];
      let end = heapStart;
      for (const n of sizes) {
        if (!Number.isInteger(n) || n < 0) throw new RangeError(`allocate: bad buffer size ${n}`);
        offsets.push(end);
        end = align(end + 4 * n);
      }
      ensure(end); // grow first: views made before a grow would be detached
      known = new WeakMap();
      const buf = memory.buffer;
      new Uint8Array(buf, heapStart, end - heapStart).fill(0);
      used = end;
      return sizes.map((n, i) => new Float32Array(buf, offsets[i], n));
    },
    gemm(transA, transB, M, N, K, A, aOff, B, bOff, C, cOff, accumulate) {
      const pa = ptr(A);
      const pb = ptr(B);
      const pc = ptr(C);
      if (pa >= 0 && pb >= 0 && pc >= 0) {
        if (threaded && M * N * K >= minMacs && N >= 32 && canSplit()) {
          parallelProducts++;
          ex.gemmParallel!(transA ? 1 : 0, transB ? 1 : 0, M, N, K, pa + 4 * aOff, pb + 4 * bOff, pc + 4 * cOff, accumulate ? 1 : 0, scratch, ctl, threads);
        } else ex.gemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, pa + 4 * aOff, pb + 4 * bOff, pc + 4 * cOff, accumulate ? 1 : 0, scratch);
      } else {
        gemmF32(transA, transB, M, N, K, A as Float32Array, aOff, B as Float32Array, bOff, C as Float32Array, cOff, accumulate);
      }
    },
    firstNonFinite(n, X, xOff) {
      const px = ptr(X);
      if (px >= 0) return ex.firstNonFinite(n, px + 4 * xOff);
      return firstNonFiniteJs(n, X, xOff);
    },
    axpbyKeep(n, alpha, X, xOff, beta, Y, yOff, K, kOff) {
      const px = ptr(X);
      const py = ptr(Y);
      const pk = ptr(K);
      if (px >= 0 && py >= 0 && pk >= 0) ex.axpbyKeep(n, alpha, px + 4 * xOff, beta, py + 4 * yOff, pk + 4 * kOff);
      else axpbyKeepJs(n, alpha, X, xOff, beta, Y, yOff, K, kOff);
    },
    axpby(n, alpha, X, xOff, beta, Y, yOff) {
      const px = ptr(X);
      const py = ptr(Y);
      if (px >= 0 && py >= 0) ex.axpby(n, alpha, px + 4 * xOff, beta, py + 4 * yOff);
      else axpby(n, alpha, X, xOff, beta, Y, yOff);
    },
    adam(n, lr, beta1, beta2, eps, t, P, pOff, G, gOff, Mo, mOff, V, vOff) {
      const pp = ptr(P);
      const pg = ptr(G);
      const pm = ptr(Mo);
      const pv = ptr(V);
      if (pp >= 0 && pg >= 0 && pm >= 0 && pv >= 0) {
        const bc1 = 1 - Math.pow(beta1, t);
        const bc2 = 1 - Math.pow(beta2, t);
        ex.adam(n, lr, beta1, beta2, eps, bc1, bc2, pp + 4 * pOff, pg + 4 * gOff, pm + 4 * mOff, pv + 4 * vOff);
      } else adamStep(n, lr, beta1, beta2, eps, t, P, pOff, G, gOff, Mo, mOff, V, vOff);
    },
    unary(fn, n, X, xOff, Y, yOff) {
      const px = ptr(X);
      const py = ptr(Y);
      if (px >= 0 && py >= 0) ex.unary(UNARY_CODE[fn], n, px + 4 * xOff, py + 4 * yOff);
      else unaryMap(fn, n, X, xOff, Y, yOff);
    },
    unaryBackward(fn, n, Y, yOff, GY, gyOff, GX, gxOff) {
      const py = ptr(Y);
      const pgy = ptr(GY);
      const pgx = ptr(GX);
      if (py >= 0 && pgy >= 0 && pgx >= 0) ex.unaryBackward(UNARY_CODE[fn], n, py + 4 * yOff, pgy + 4 * gyOff, pgx + 4 * gxOff);
      else unaryBackwardMap(fn, n, Y, yOff, GY, gyOff, GX, gxOff);
    },
    addBias(rows, cols, X, xOff, b, bOff, Y, yOff) {
      const px = ptr(X);
      const pb = ptr(b);
      const py = ptr(Y);
      if (px >= 0 && pb >= 0 && py >= 0) ex.addBias(rows, cols, px + 4 * xOff, pb + 4 * bOff, py + 4 * yOff);
      else addBias(rows, cols, X, xOff, b, bOff, Y, yOff);
    },
    softmaxRows(rows, L, Z, zOff, Y, yOff) {
      const pz = ptr(Z);
      const py = ptr(Y);
      if (pz >= 0 && py >= 0) ex.softmaxRows(rows, L, pz + 4 * zOff, py + 4 * yOff);
      else softmaxRows(rows, L, Z, zOff, Y, yOff);
    },
    gatherRows(count, cols, X, xOff, idx, idxOff, Y, yOff) {
      const px = ptr(X);
      const pi = ptr(idx);
      const py = ptr(Y);
      if (px >= 0 && pi >= 0 && py >= 0) ex.gatherRows(count, cols, px + 4 * xOff, pi + 4 * idxOff, py + 4 * yOff);
      else gatherRows(count, cols, X, xOff, idx, idxOff, Y, yOff);
    },
    crossEntropyRows(rows, L, Y, yOff, T, tOff, out, outOff) {
      const py = ptr(Y);
      const pt = ptr(T);
      const po = ptr(out);
      if (py >= 0 && pt >= 0 && po >= 0) return ex.crossEntropyRows(rows, L, py + 4 * yOff, pt + 4 * tOff, po + 4 * outOff);
      return crossEntropyRows(rows, L, Y, yOff, T, tOff, out, outOff);
    },
    crossEntropyBackward(rows, L, Y, yOff, T, tOff, G, gOff, GZ, gzOff) {
      const py = ptr(Y);
      const pt = ptr(T);
      const pg = ptr(G);
      const pz = ptr(GZ);
      if (py >= 0 && pt >= 0 && pg >= 0 && pz >= 0)
        ex.crossEntropyBackward(rows, L, py + 4 * yOff, pt + 4 * tOff, pg + 4 * gOff, pz + 4 * gzOff);
      else crossEntropyBackward(rows, L, Y, yOff, T, tOff, G, gOff, GZ, gzOff);
    },
    sumRows(rows, cols, G, gOff, S, sOff) {
      const pg = ptr(G);
      const ps = ptr(S);
      if (pg >= 0 && ps >= 0) ex.biasGradient(rows, cols, pg + 4 * gOff, ps + 4 * sOff);
      else sumRows(rows, cols, G, gOff, S, sOff);
    },
  };
}
