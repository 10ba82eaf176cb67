import { describe, expect, it } from 'vitest';
import { jsBackend, wasmBackend, wasmSimdSupported, type Backend } from '../../engine/kernels';
import type { MappedFn } from '../../engine/kernels/backend';
import { Rng } from '../../engine/rng';

function backends(): Backend[] {
  const list = [jsBackend('f64'), jsBackend('f32')];
  if (wasmSimdSupported()) list.push(wasmBackend());
  return list;
}

/** fn′ written from the function's input x (independently of the kernels' form from the output). */
const DERIV_FROM_X: Record<MappedFn, (x: number) => number> = {
  exp: Math.exp,
  sigmoid: (x) => {
    const s = 1 / (1 + Math.exp(-x));
    return s * (1 - s);
  },
  tanh: (x) => 1 / Math.cosh(x) ** 2,
  relu: (x) => (x > 0 ? 1 : 0),
};

describe.each(backends().map((b) => [b.name, b] as const))('%s training kernels', (_name, be) => {
  const f32 = be.dtype === 'f32';
  const round = (v: number) => (f32 ? Math.fround(v) : v);

  it.each(['exp', 'sigmoid', 'tanh', 'relu'] as const)('unaryBackward %s: GX += GY·fn′, at offsets, every tail length', (fn) => {
    const rng = new Rng(3);
    for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 33]) {
      const [X, Y, GY, GX] = be.allocate([n + 1, n + 1, n + 2, n + 3]);
      for (let i = 0; i <= n; i++) X[i] = rng.range(-4, 4);
      be.unary!(fn, n, X, 1, Y, 1);
      for (let i = 0; i < n + 2; i++) GY[i] = rng.range(-2, 2);
      for (let i = 0; i < n + 3; i++) GX[i] = rng.range(-1, 1);
      const before = Array.from(GX);
      be.unaryBackward!(fn, n, Y, 1, GY, 2, GX, 3);
      expect(Array.from(GX.subarray(0, 3))).toEqual(before.slice(0, 3));
      for (let i = 0; i < n; i++) {
        const want = before[3 + i] + GY[2 + i] * DERIV_FROM_X[fn](X[1 + i]);
        const scale = Math.abs(before[3 + i]) + Math.abs(GY[2 + i] * DERIV_FROM_X[fn](X[1 + i])) + 1e-30;
        expect(Math.abs(GX[3 + i] - want) / scale, `${fn} n=${n} i=${i}`).toBeLessThan(f32 ? 2e-6 : 1e-12);
      }
    }
  });

  it('unaryBackward keeps a non-finite upstream gradient non-finite, even where relu is flat', () => {
    const [Y, GY, GX] = be.allocate([5, 5, 5]);
    Y.set([0, 0, 0.5, 0, 0]);
    GY.set([NaN, Infinity, 1, 1, 1]);
    be.unaryBackward!('relu', 5, Y, 0, GY, 0, GX, 0);
    expect(GX[0]).toBeNaN();
    expect(GX[1]).toBeNaN(); // ∞·0, as the executor's loops compute it
    expect(Array.from(GX.subarray(2))).toEqual([1, 0, 0]);
  });

  it('addBias: Y = X + b in every row, at offsets and in place', () => {
    const rng = new Rng(4);
    for (const [rows, cols] of [
      [1, 1],
      [3, 5],
      [32, 30],
      [2, 4],
      [7, 10],
    ]) {
      const [X, b, Y] = be.allocate([2 + rows * cols, 1 + cols, 3 + rows * cols]);
      for (let i = 0; i < X.length; i++) X[i] = rng.range(-3, 3);
      for (let i = 0; i < b.length; i++) b[i] = rng.range(-3, 3);
      be.addBias!(rows, cols, X, 2, b, 1, Y, 3);
      expect(Array.from(Y.subarray(0, 3))).toEqual([0, 0, 0]);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < cols; j++) expect(Y[3 + r * cols + j]).toBe(round(X[2 + r * cols + j] + b[1 + j]));
      const X0 = Array.from(X);
      be.addBias!(rows, cols, X, 2, b, 1, X, 2);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < cols; j++) expect(X[2 + r * cols + j]).toBe(round(X0[2 + r * cols + j] + b[1 + j]));
    }
  });

  it('softmaxRows: each row’s softmax (stable), at offsets and in place; ∞ and NaN propagate as the executor’s loop does', () => {
    const rng = new Rng(6);
    for (const [rows, L] of [
      [1, 1],
      [3, 10],
      [32, 10],
      [2, 3],
      [5, 7],
    ]) {
      const [Z, Y] = be.allocate([1 + rows * L, 2 + rows * L]);
      for (let i = 0; i < Z.length; i++) Z[i] = rng.range(-30, 30) + (i % 7 === 0 ? 60 : 0);
      be.softmaxRows!(rows, L, Z, 1, Y, 2);
      expect(Array.from(Y.subarray(0, 2))).toEqual([0, 0]);
      for (let r = 0; r < rows; r++) {
        const z = Array.from(Z.subarray(1 + r * L, 1 + (r + 1) * L));
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const s = e.reduce((a, b) => a + b, 0);
        for (let i = 0; i < L; i++) {
          const want = e[i] / s;
          expect(Math.abs(Y[2 + r * L + i] - want), `row ${r} [${i}]`).toBeLessThan((f32 ? 2e-6 : 1e-14) * want + 1e-30);
        }
      }
      const copy = Float64Array.from(Y.subarray(2));
      be.softmaxRows!(rows, L, Z, 1, Z, 1);
      expect(Array.from(Z.subarray(1))).toEqual(Array.from(copy));
    }
    const [W] = be.allocate([9]);
    W.set([1, Infinity, 2, NaN, 0, 1, 1e30, -1e30, 0]);
    be.softmaxRows!(3, 3, W, 0, W, 0);
    // a +∞ maximum shifts by 0: ∞/∞ = NaN where it is, 0 elsewhere; a NaN makes the sum NaN
    expect(Array.from(W.subarray(0, 3))).toEqual([0, NaN, 0]);
    expect(Array.from(W.subarray(3, 6))).toEqual([NaN, NaN, NaN]);
    expect(Array.from(W.subarray(6))).toEqual([1, 0, 0]);
  });

  it('gatherRows: rows by index (repeats and any order), at offsets', () => {
    const rng = new Rng(7);
    // 5 rows: one at a time; 19: two blocks of eight (the wasm kernel's interleaved copy), then 3
    for (const count of [5, 19])
      for (const cols of [1, 2, 3, 10, 256, 785]) {
        const rows = 9;
        const [X, Y, I] = be.allocate([1 + rows * cols, 2 + count * cols + 1, 1 + count]);
        for (let i = 0; i < X.length; i++) X[i] = rng.range(-5, 5);
        const idx = new Uint32Array(I.buffer, I.byteOffset, 1 + count);
        idx.set(count === 5 ? [0, 8, 3, 3, 5] : Array.from({ length: count }, () => rng.int(rows)), 1);
        Y.fill(-9);
        be.gatherRows!(count, cols, X, 1, idx, 1, Y, 2);
        expect(Array.from(Y.subarray(0, 2))).toEqual([-9, -9]);
        expect(Y[2 + count * cols]).toBe(-9);
        for (let i = 0; i < count; i++)
          for (let j = 0; j < cols; j++) expect(Y[2 + i * cols + j]).toBe(X[1 + idx[1 + i] * cols + j]);
      }
  });

  it('crossEntropyRows: −Σ t·log y per row; reports the first row whose y underflowed where t ≠ 0', () => {
    const rows = 4;
    const L = 5;
    const [Y, T, O] = be.allocate([1 + rows * L, rows * L, 2 + rows]);
    const rng = new Rng(8);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let i = 0; i < L; i++) s += Y[1 + r * L + i] = rng.range(0.01, 1);
      for (let i = 0; i < L; i++) Y[1 + r * L + i] /= s;
      T[r * L + (r % L)] = 1;
      T[r * L + ((r + 2) % L)] = r === 3 ? 0.5 : 0; // a soft target too
    }
    expect(be.crossEntropyRows!(rows, L, Y, 1, T, 0, O, 2)).toBe(-1);
    for (let r = 0; r < rows; r++) {
      let want = 0;
      for (let i = 0; i < L; i++) if (T[r * L + i] !== 0) want -= T[r * L + i] * Math.log(Y[1 + r * L + i]);
      expect(Math.abs(O[2 + r] - want)).toBeLessThan(1e-6 * Math.abs(want));
    }
    Y[1 + 2 * L + (2 % L)] = 0; // row 2's target class underflowed
    expect(be.crossEntropyRows!(rows, L, Y, 1, T, 0, O, 2)).toBe(2);
    Y[1 + 2 * L + (2 % L)] = NaN;
    expect(be.crossEntropyRows!(rows, L, Y, 1, T, 0, O, 2)).toBe(2);
  });

  it('crossEntropyBackward: GZ += g·(y·Σt − t), per row', () => {
    const rows = 3;
    const L = 6;
    const [Y, T, G, GZ] = be.allocate([rows * L, rows * L, rows, rows * L + 1]);
    const rng = new Rng(9);
    for (let i = 0; i < rows * L; i++) {
      Y[i] = rng.uniform();
      T[i] = rng.uniform() < 0.3 ? rng.uniform() : 0;
      GZ[1 + i] = rng.range(-1, 1);
    }
    for (let r = 0; r < rows; r++) G[r] = rng.range(0.1, 1);
    const before = Array.from(GZ);
    be.crossEntropyBackward!(rows, L, Y, 0, T, 0, G, 0, GZ, 1);
    expect(GZ[0]).toBe(before[0]);
    for (let r = 0; r < rows; r++) {
      let tsum = 0;
      for (let i = 0; i < L; i++) tsum += T[r * L + i];
      for (let i = 0; i < L; i++) {
        const want = before[1 + r * L + i] + G[r] * (Y[r * L + i] * tsum - T[r * L + i]);
        expect(Math.abs(GZ[1 + r * L + i] - want)).toBeLessThan(1e-6);
      }
    }
  });

  it('sumRows: S += column sums, rows added in order (the roundings of an example-by-example loop)', () => {
    const rng = new Rng(5);
    for (const [rows, cols] of [
      [1, 1],
      [3, 5],
      [32, 30],
      [64, 10],
      [5, 3],
    ]) {
      const [G, S] = be.allocate([1 + rows * cols, 2 + cols]);
      for (let i = 0; i < G.length; i++) G[i] = rng.range(-1, 1) * 10 ** rng.int(4);
      for (let i = 0; i < S.length; i++) S[i] = rng.range(-1, 1);
      const want = Array.from(S);
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) want[2 + j] = round(want[2 + j] + G[1 + r * cols + j]);
      be.sumRows!(rows, cols, G, 1, S, 2);
      expect(Array.from(S)).toEqual(want);
    }
  });
});
