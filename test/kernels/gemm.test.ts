import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bestBackend,
  jsBackend,
  referenceBackend,
  referenceGemm,
  wasmBackend,
  wasmFmaSupported,
  wasmSimdSupported,
  type Backend,
  type FloatArray,
  type WasmBackend,
} from '../../engine/kernels';
import { Rng } from '../../engine/rng';

const VARIANTS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;
const name = (tA: boolean, tB: boolean) => `${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`;

/**
 * Runs backend.gemm and the reference (in float64, on the same rounded inputs) with offsets,
 * and checks every element of C, including that nothing outside the target region changed.
 */
function check(
  be: Backend,
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  accumulate: boolean,
  rng: Rng,
  offsets = [0, 0, 0],
): void {
  const [aOff, bOff, cOff] = offsets;
  const pad = 5;
  const [A, B, C] = be.allocate([aOff + M * K + pad, bOff + K * N + pad, cOff + M * N + pad]);
  for (let i = 0; i < A.length; i++) A[i] = rng.range(-1, 1);
  for (let i = 0; i < B.length; i++) B[i] = rng.range(-1, 1);
  for (let i = 0; i < C.length; i++) C[i] = rng.range(-1, 1);
  if (!accumulate) for (let i = cOff; i < cOff + M * N; i++) if (i % 3 === 0) C[i] = NaN; // must be overwritten
  const A64 = Float64Array.from(A);
  const B64 = Float64Array.from(B);
  const C64 = Float64Array.from(C);
  be.gemm(tA, tB, M, N, K, A, aOff, B, bOff, C, cOff, accumulate);
  referenceGemm(tA, tB, M, N, K, A64, aOff, B64, bOff, C64, cOff, accumulate);
  // float32 sums of K products of values in [-1, 1]: error ≲ K·2⁻²⁴ per element (plus C's rounding)
  const tol = be.dtype === 'f64' ? 1e-12 * (K + 1) : 4e-7 * (K + 2);
  let worst = 0;
  for (let i = 0; i < C.length; i++) {
    const inside = i >= cOff && i < cOff + M * N;
    if (!inside) {
      expect(C[i], `C[${i}] outside the result was changed`).toBe(C64[i]);
      continue;
    }
    worst = Math.max(worst, Math.abs(C[i] - C64[i]));
    if (!(Math.abs(C[i] - C64[i]) <= tol)) {
      throw new Error(
        `${be.name} ${name(tA, tB)} M=${M} N=${N} K=${K} acc=${accumulate}: C[${i}] = ${C[i]}, reference ${C64[i]}`,
      );
    }
  }
  expect(worst).toBeLessThanOrEqual(tol);
}

const SMALL = [1, 2, 3, 4, 5, 7, 8, 9, 16, 33];

/**
 * How many entries of C differ, bit for bit, from C0 (+)= op(A)·op(B) by the wasm kernel of the
 * fused build with its sparse paths off.
 */
function differFromDense(C: FloatArray, tA: boolean, tB: boolean, M: number, N: number, K: number, A: FloatArray, B: FloatArray, C0: FloatArray, accumulate: boolean): number {
  const dense = wasmBackend({ fma: true, sparse: false });
  const [A2, B2, D] = dense.allocate([M * K, N * K, M * N]);
  A2.set(A.subarray(0, M * K));
  B2.set(B.subarray(0, N * K));
  D.set(C0);
  dense.gemm(tA, tB, M, N, K, A2, 0, B2, 0, D, 0, accumulate);
  expect(dense.sparseProducts).toEqual({ rowMajor: 0, transposed: 0 });
  let differ = 0;
  for (let i = 0; i < C.length; i++) if (C[i] !== D[i]) differ++;
  return differ;
}

function backends(): [string, () => Backend][] {
  const list: [string, () => Backend][] = [
    ['js-f64', () => jsBackend('f64')],
    ['js-f32', () => jsBackend('f32')],
  ];
  if (wasmSimdSupported()) list.push(['wasm-simd-f32', () => wasmBackend({ fma: false })]);
  if (wasmFmaSupported()) list.push(['wasm-simd-fma-f32', () => wasmBackend({ fma: true })]);
  return list;
}

describe.each(backends())('%s gemm', (_label, make) => {
  for (const [tA, tB] of VARIANTS) {
    it(`${name(tA, tB)}: every combination of small and odd sizes, accumulate on and off`, () => {
      const be = make();
      const rng = new Rng(17);
      for (const M of SMALL) {
        for (const N of SMALL) {
          for (const K of [1, 3, 7, 33]) {
            check(be, tA, tB, M, N, K, false, rng);
            check(be, tA, tB, M, N, K, true, rng);
          }
        }
      }
    });

    it(`${name(tA, tB)}: offsets into larger buffers`, () => {
      const be = make();
      const rng = new Rng(5);
      for (const [M, N, K] of [
        [5, 9, 7],
        [33, 17, 3],
        [4, 8, 16],
      ]) {
        check(be, tA, tB, M, N, K, false, rng, [3, 11, 1]);
        check(be, tA, tB, M, N, K, true, rng, [1, 2, 7]);
      }
    });

    it(`${name(tA, tB)}: workload sizes and blocking boundaries`, () => {
      const be = make();
      const rng = new Rng(9);
      for (const [M, N, K] of [
        [32, 30, 256], // W1 forward
        [30, 256, 32], // W1 weight gradient
        [64, 128, 784], // W2 first layer
        [129, 9, 257], // past the wasm kernel's MC = 128 and KC = 256 blocks
        [3, 1030, 5], // past NC = 1024
        [1, 1, 600],
      ]) {
        check(be, tA, tB, M, N, K, false, rng);
        check(be, tA, tB, M, N, K, true, rng);
      }
    });
  }

  it('an op(A) of half zeros (a relu layer\'s gradient): the float32 sum of its terms in order of k, as with no zeros', () => {
    // the wasm kernel (its sparse path: row-major B, ≥ 35% zeros, ≥ 2^18 multiply-adds) must give
    // exactly the float32 sum over k, in order, of the terms (the JavaScript kernels sum in
    // float64: within rounding of it)
    const be = make();
    const rng = new Rng(23);
    for (const [tA, M, N, K, zeros] of [
      [true, 128, 784, 64, 0.5], // W2's first weight gradient
      [false, 64, 128, 64, 0.5], // W2's input gradient of the second layer
      [true, 70, 100, 40, 0.6], // a last, narrower block of columns
      [false, 40, 83, 90, 0.9],
      [true, 33, 300, 27, 0.4],
    ] as const) {
      for (const accumulate of [false, true]) {
        const [A, B, C] = be.allocate([M * K, K * N, M * N]);
        for (let i = 0; i < A.length; i++) A[i] = rng.uniform() < zeros ? 0 : rng.range(-1, 1);
        for (let i = 0; i < B.length; i++) B[i] = rng.range(-1, 1);
        for (let i = 0; i < C.length; i++) C[i] = rng.range(-1, 1);
        const expected = new Float64Array(M * N);
        for (let m = 0; m < M; m++)
          for (let j = 0; j < N; j++) {
            let acc = 0;
            for (let k = 0; k < K; k++) {
              const a = tA ? A[k * M + m] : A[m * K + k];
              acc = Math.fround(acc + Math.fround(a * B[k * N + j]));
            }
            expected[m * N + j] = accumulate ? Math.fround(C[m * N + j] + acc) : acc;
          }
        const C0 = Float32Array.from(C);
        be.gemm(tA, false, M, N, K, A, 0, B, 0, C, 0, accumulate);
        if (!be.name.startsWith('wasm') || (be as WasmBackend).fma) {
          for (let i = 0; i < C.length; i++) expect(Math.abs(C[i] - expected[i])).toBeLessThan(1e-6 * K);
        }
        if ((be as WasmBackend).fma) {
          // fused multiply-adds round once per term: the dense kernel of the same build adds the
          // same terms in the same order, zeros included
          expect(differFromDense(C, tA, false, M, N, K, A, B, C0, accumulate), `${name(tA, false)} M=${M} N=${N} K=${K} accumulate=${accumulate}: sparse vs dense`).toBe(0);
          continue;
        }
        if (!be.name.startsWith('wasm')) continue;
        let differ = 0;
        for (let i = 0; i < C.length; i++) if (C[i] !== expected[i]) differ++;
        expect(differ, `${name(tA, false)} M=${M} N=${N} K=${K} accumulate=${accumulate}`).toBe(0);
      }
    }
  });

  it('an op(A) of mostly zeros times B stored N×K (a first layer on digits): B transposed, the sum of the nonzero terms', () => {
    // the wasm kernel's second sparse path (≥ 70% zeros, ≥ 16 rows, a finite B of ≤ 1 MB): B
    // transposed into the lists' space, then as above; the 4×4 transpose and its edges (N, K not
    // multiples of 4)
    const be = make();
    const rng = new Rng(29);
    const wasm = be.name.startsWith('wasm') ? (be as WasmBackend) : null;
    for (const [tA, M, N, K, zeros] of [
      [false, 64, 128, 784, 0.8], // W2's first layer on digits (past the dense kernel's KC)
      [false, 40, 83, 90, 0.9],
      [true, 33, 50, 202, 0.75],
    ] as const) {
      for (const accumulate of [false, true]) {
        const before = wasm?.sparseProducts.transposed ?? 0;
        const [A, B, C] = be.allocate([M * K, N * K, M * N]);
        for (let i = 0; i < A.length; i++) A[i] = rng.uniform() < zeros ? 0 : rng.range(-1, 1);
        for (let i = 0; i < B.length; i++) B[i] = rng.range(-1, 1);
        for (let i = 0; i < C.length; i++) C[i] = rng.range(-1, 1);
        const C0 = Float32Array.from(C);
        const R = Float64Array.from(C);
        referenceGemm(tA, true, M, N, K, Float64Array.from(A), 0, Float64Array.from(B), 0, R, 0, accumulate);
        be.gemm(tA, true, M, N, K, A, 0, B, 0, C, 0, accumulate);
        for (let i = 0; i < C.length; i++) expect(Math.abs(C[i] - R[i])).toBeLessThan(4e-7 * (K + 2));
        if (!wasm) continue;
        expect(wasm.sparseProducts.transposed, `${name(tA, true)} ${M}×${N}×${K}: the sparse path`).toBe(before + 1);
        if (wasm.fma && K <= 256) {
          expect(differFromDense(C, tA, true, M, N, K, A, B, C0, accumulate), `${name(tA, true)} ${M}×${N}×${K}: sparse vs dense`).toBe(0);
        }
      }
    }
    if (!wasm) return;
    // too few zeros, or a B with ±∞ or NaN: the dense kernel (0·∞ = NaN, as IEEE says)
    const [A, B, C] = be.allocate([64 * 784, 128 * 784, 64 * 128]);
    for (let i = 0; i < A.length; i++) A[i] = rng.uniform() < 0.6 ? 0 : rng.range(-1, 1);
    for (let i = 0; i < B.length; i++) B[i] = rng.range(-1, 1);
    let before = wasm.sparseProducts.transposed;
    be.gemm(false, true, 64, 128, 784, A, 0, B, 0, C, 0, false);
    expect(wasm.sparseProducts.transposed).toBe(before);
    for (let i = 0; i < A.length; i++) if (rng.uniform() < 0.3) A[i] = 0; // now 72% zeros
    for (const bad of [Infinity, NaN]) {
      B[5 * 784 + 7] = bad; // column 5 of C: Σ_k A[m, k]·B[5, k], with k = 7 among them
      before = wasm.sparseProducts.transposed;
      be.gemm(false, true, 64, 128, 784, A, 0, B, 0, C, 0, false);
      expect(wasm.sparseProducts.transposed).toBe(before);
      for (let m = 0; m < 64; m++) {
        if (A[m * 784 + 7] === 0) expect(C[m * 128 + 5], `row ${m}: 0·${bad}`).toBeNaN();
        expect(Number.isFinite(C[m * 128 + 6])).toBe(true);
      }
    }
  });

  it('K = 0 gives zeros, or leaves C alone when accumulating', () => {
    const be = make();
    const [A, B, C] = be.allocate([1, 1, 6]);
    C.fill(3);
    be.gemm(false, false, 2, 3, 0, A, 0, B, 0, C, 0, true);
    expect(Array.from(C)).toEqual([3, 3, 3, 3, 3, 3]);
    be.gemm(false, false, 2, 3, 0, A, 0, B, 0, C, 0, false);
    expect(Array.from(C)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('multiplies a hand-computed example', () => {
    const be = make();
    const [A, B, C] = be.allocate([6, 6, 4]);
    A.set([1, 2, 3, 4, 5, 6]); // [[1,2,3],[4,5,6]]
    B.set([7, 8, 9, 10, 11, 12]); // [[7,8],[9,10],[11,12]]
    be.gemm(false, false, 2, 2, 3, A, 0, B, 0, C, 0, false);
    expect(Array.from(C)).toEqual([58, 64, 139, 154]);
    be.gemm(false, false, 2, 2, 3, A, 0, B, 0, C, 0, true);
    expect(Array.from(C)).toEqual([116, 128, 278, 308]);
  });
});

describe('reference backend', () => {
  it('allocates zeroed buffers of its dtype', () => {
    const [a, b] = referenceBackend('f32').allocate([3, 0]);
    expect(a).toBeInstanceOf(Float32Array);
    expect(Array.from(a)).toEqual([0, 0, 0]);
    expect(b.length).toBe(0);
  });
});

describe.runIf(wasmSimdSupported())('wasm backend memory', () => {
  it('places every buffer in its memory, 64-byte aligned and zero-filled', () => {
    const be = wasmBackend();
    const bufs = be.allocate([10, 0, 3, 1000]);
    bufs.forEach((b) => {
      expect(b).toBeInstanceOf(Float32Array);
      expect(b.buffer).toBe(be.memory.buffer);
      expect(b.byteOffset % 64).toBe(0);
    });
    expect(bufs.map((b) => b.length)).toEqual([10, 0, 3, 1000]);
    bufs[3].fill(7);
    const again = be.allocate([10, 0, 3, 1000]);
    expect(again[3].every((v) => v === 0)).toBe(true); // reused space is cleared
  });

  it('grows its memory before making views; earlier views are detached', () => {
    const be = wasmBackend();
    const [small] = be.allocate([16]);
    const before = be.memory.buffer.byteLength;
    const [big, other] = be.allocate([4_000_000, 5]);
    expect(be.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(big.length).toBe(4_000_000);
    expect(big.buffer).toBe(be.memory.buffer);
    expect(other.buffer).toBe(be.memory.buffer);
    expect(small.length).toBe(0); // detached by the growth
  });

  it('falls back to the JavaScript kernel for arrays outside its memory', () => {
    const be = wasmBackend();
    const rng = new Rng(3);
    const A = Float32Array.from({ length: 35 }, () => rng.range(-1, 1));
    const B = Float32Array.from({ length: 35 }, () => rng.range(-1, 1));
    const C = new Float32Array(49);
    be.gemm(false, true, 7, 7, 5, A, 0, B, 0, C, 0, false);
    const R = new Float64Array(49);
    referenceGemm(false, true, 7, 7, 5, Float64Array.from(A), 0, Float64Array.from(B), 0, R, 0, false);
    for (let i = 0; i < 49; i++) expect(C[i]).toBeCloseTo(R[i], 5);
    // mixed: C in memory, A outside
    const [, , Cw] = be.allocate([1, 1, 49]);
    be.gemm(false, true, 7, 7, 5, A, 0, B, 0, Cw, 0, false);
    expect(Array.from(Cw)).toEqual(Array.from(C));
  });

  it('separate backends have separate memories', () => {
    const a = wasmBackend();
    const b = wasmBackend();
    expect(a.memory).not.toBe(b.memory);
    const [x] = a.allocate([4]);
    const [y] = b.allocate([4]);
    x.fill(1);
    expect(Array.from(y)).toEqual([0, 0, 0, 0]);
  });
});

describe('bestBackend', () => {
  it('picks WebAssembly SIMD for float32 when it validates, JavaScript for float64', () => {
    expect(bestBackend('f32').name).toBe(wasmFmaSupported() ? 'wasm-simd-fma-f32' : wasmSimdSupported() ? 'wasm-simd-f32' : 'js-f32');
    expect(bestBackend('f64').name).toBe('js-f64');
    expect(bestBackend('f64').dtype).toBe('f64');
  });

  it('Node 20 has WebAssembly SIMD', () => {
    expect(wasmSimdSupported()).toBe(true);
  });
});

describe('the two JavaScript kernel copies', () => {
  it('are identical apart from their names and array types', () => {
    const src = readFileSync(join(__dirname, '../../engine/kernels/js.ts'), 'utf8');
    const body = (fn: string) => {
      const start = src.indexOf(`export function ${fn}(`);
      const end = src.indexOf('\n}\n', start);
      expect(start).toBeGreaterThan(0);
      return src.slice(start, end).replace(fn, 'F').replace(/Float(32|64)Array/g, 'T');
    };
    expect(body('gemmF32')).toBe(body('gemmF64'));
  });
});

// keep FloatArray referenced for the type import
export type { FloatArray };
