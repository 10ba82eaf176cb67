import { describe, expect, it } from 'vitest';
import { jsBackend, wasmBackend, wasmSimdSupported, type Backend } from '../../engine/kernels';
import { Rng } from '../../engine/rng';

function backends(): Backend[] {
  const list = [jsBackend('f64'), jsBackend('f32')];
  if (wasmSimdSupported()) list.push(wasmBackend());
  return list;
}

const SIZES = [0, 1, 3, 4, 5, 8, 17, 1001];

describe.each(backends().map((b) => [b.name, b] as const))('%s optimizer updates', (_name, be) => {
  it('axpby: Y = αX + βY, with offsets, tails and β = 0 ignoring NaN', () => {
    const rng = new Rng(1);
    for (const n of SIZES) {
      for (const [alpha, beta] of [
        [-0.1, 1],
        [1, 0.9],
        [2.5, 0],
      ]) {
        const [X, Y] = be.allocate([n + 3, n + 5]);
        for (let i = 0; i < X.length; i++) X[i] = rng.range(-1, 1);
        for (let i = 0; i < Y.length; i++) Y[i] = beta === 0 && i >= 2 && i < n + 2 ? NaN : rng.range(-1, 1);
        const Y0 = Float64Array.from(Y);
        be.axpby!(n, alpha, X, 3, beta, Y, 2);
        for (let i = 0; i < Y.length; i++) {
          if (i < 2 || i >= n + 2) {
            expect(Object.is(Y[i], be.dtype === 'f32' ? Math.fround(Y0[i]) : Y0[i])).toBe(true);
            continue;
          }
          const want = alpha * X[i + 1] + (beta === 0 ? 0 : beta * Y0[i]);
          expect(Math.abs(Y[i] - want)).toBeLessThanOrEqual(be.dtype === 'f32' ? 1e-6 : 1e-15);
        }
      }
    }
  });

  it('adam: matches torch.optim.Adam’s update written out in float64, over three steps', () => {
    const rng = new Rng(2);
    const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
    for (const n of SIZES) {
      const [P, G, Mo, V] = be.allocate([n + 1, n, n + 2, n]);
      for (let i = 0; i < P.length; i++) P[i] = rng.range(-1, 1);
      const p = Float64Array.from(P);
      const m = new Float64Array(n);
      const v = new Float64Array(n);
      for (let t = 1; t <= 3; t++) {
        for (let i = 0; i < n; i++) G[i] = rng.range(-1, 1) * (i % 3 === 0 ? 1e-3 : 1);
        be.adam!(n, lr, b1, b2, eps, t, P, 1, G, 0, Mo, 2, V, 0);
        for (let i = 0; i < n; i++) {
          const g = G[i];
          m[i] = b1 * m[i] + (1 - b1) * g;
          v[i] = b2 * v[i] + (1 - b2) * g * g;
          const mhat = m[i] / (1 - b1 ** t);
          const vhat = v[i] / (1 - b2 ** t);
          p[i + 1] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
        }
      }
      const tol = be.dtype === 'f32' ? 2e-6 : 1e-14;
      for (let i = 0; i < n; i++) {
        expect(Math.abs(P[i + 1] - p[i + 1])).toBeLessThanOrEqual(tol);
        expect(Math.abs(Mo[i + 2] - m[i])).toBeLessThanOrEqual(tol);
        expect(Math.abs(V[i] - v[i])).toBeLessThanOrEqual(tol);
      }
      expect(P[0]).toBe(be.dtype === 'f32' ? Math.fround(p[0]) : p[0]);
    }
  });
});

describe.runIf(wasmSimdSupported())('wasm updates outside its memory', () => {
  it('fall back to JavaScript with the same results', () => {
    const be = wasmBackend();
    const [X, Y] = be.allocate([7, 7]);
    X.set([1, 2, 3, 4, 5, 6, 7]);
    Y.fill(1);
    const Xp = Float32Array.from(X);
    const Yp = Float32Array.from(Y);
    be.axpby(7, -0.5, X, 0, 2, Y, 0);
    be.axpby(7, -0.5, Xp, 0, 2, Yp, 0);
    expect(Array.from(Yp)).toEqual(Array.from(Y));
    expect(Array.from(Y)).toEqual([1.5, 1, 0.5, 0, -0.5, -1, -1.5]);
  });
});
