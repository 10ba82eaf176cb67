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
import type { Backend } from './backend';
import { GEMM_WASM_BASE64 } from '../generated/gemm-wasm';
import { gemmF32 } from './js';

interface GemmExports {
  memory: WebAssembly.Memory;
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
  if (!bytes) bytes = new Uint8Array(Buffer.from(GEMM_WASM_BASE64, 'base64'));
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
}

/** A float32 backend whose buffers live in WebAssembly memory and whose gemm uses SIMD. */
export function wasmBackend(): WasmBackend {
  const instance = new WebAssembly.Instance(gemmModule(), {});
  const ex = instance.exports as unknown as GemmExports;
  const memory = ex.memory;
  const scratch = align(ex.heapBase());
  const heapStart = align(scratch + ex.scratchBytes());
  let used = heapStart;

  const ensure = (total: number) => {
    if (total > MAX_BYTES) {
      throw new RangeError(`wasm backend: ${total} bytes do not fit in 32-bit WebAssembly memory`);
    }
    const have = memory.buffer.byteLength;
    if (total > have) memory.grow(Math.ceil((total - have) / PAGE));
  };
  ensure(heapStart);

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
      const buf = memory.buffer;
      if (
        A.buffer === buf &&
        B.buffer === buf &&
        C.buffer === buf &&
        A instanceof Float32Array &&
        B instanceof Float32Array &&
        C instanceof Float32Array
      ) {
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
  };
}
