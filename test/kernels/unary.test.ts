import { describe, expect, it } from 'vitest';
import { jsBackend, wasmBackend, wasmSimdSupported, type Backend } from '../../engine/kernels';
import type { MappedFn } from '../../engine/kernels/backend';
import { Rng } from '../../engine/rng';

const EXACT: Record<MappedFn, (x: number) => number> = {
  exp: Math.exp,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  tanh: Math.tanh,
  relu: (x) => (x < 0 ? 0 : x),
};

// Hand-picked points: zero, tiny, the tanh branch point 0.625, the clamps, large values.
const POINTS = [
  0, -0, 1e-30, -1e-8, 1e-4, 0.1, -0.5, 0.6249, 0.625, -0.6251, 1, -1, 2.5, -3, 10, -10, 20, -20, 44, -44, 80,
  -80, 88.3, -88.3, 89, -89, 100, -100, 1000, -1000,
];

function inputs(): Float64Array {
  const rng = new Rng(8);
  const rand = Array.from({ length: 2001 }, () => rng.range(-30, 30));
  return Float64Array.from([...POINTS, ...rand]);
}

/** Float32 round-trip of the exact value; the error allowed is relative, with a tiny absolute floor. */
function check(be: Backend, fn: MappedFn, rel: number): void {
  const xs = inputs();
  const n = xs.length;
  const [X, Y] = be.allocate([n + 3, n + 1]);
  X.set(xs, 3);
  Y.fill(-7);
  be.unary!(fn, n, X, 3, Y, 1);
  expect(Y[0]).toBe(-7);
  for (let i = 0; i < n; i++) {
    const x = X[3 + i]; // the float32 input actually used
    const want = EXACT[fn](x);
    const got = Y[1 + i];
    if (fn === 'exp' && be.dtype === 'f32' && x > 88.72283935546875) {
      expect(got, `exp(${x})`).toBe(Infinity);
      continue;
    }
    if (fn === 'exp' && be.name.startsWith('wasm-simd') && x > 88.3762626647949) {
      // documented: between the clamp and float32 overflow the result stays at e^88.376
      expect(got).toBeGreaterThan(2.4e38);
      continue;
    }
    if (!Number.isFinite(want)) {
      expect(got).toBe(want);
      continue;
    }
    const err = Math.abs(got - want);
    if (be.dtype === 'f32' && Math.abs(want) < 1.2e-38) {
      expect(Math.abs(got)).toBeLessThan(1.2e-38); // float32 subnormal range: flushing to 0 is fine
      continue;
    }
    if (!(err <= rel * Math.abs(want) + 1e-37)) {
      throw new Error(`${be.name} ${fn}(${x}) = ${got}, exact ${want}, relative error ${err / Math.abs(want)}`);
    }
  }
}

function backends(): Backend[] {
  const list = [jsBackend('f64'), jsBackend('f32')];
  if (wasmSimdSupported()) list.push(wasmBackend());
  return list;
}

describe.each(backends().map((b) => [b.name, b] as const))('%s unary', (_name, be) => {
  const rel = be.name === 'js-f64' ? 1e-15 : be.name === 'js-f32' ? 6e-8 : 6e-7;
  it.each(['exp', 'sigmoid', 'tanh', 'relu'] as const)('%s matches Math within float32 accuracy', (fn) => check(be, fn, rel));

  it('keeps NaN, handles every tail length and works in place', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7]) {
      const [X] = be.allocate([n]);
      for (let i = 0; i < n; i++) X[i] = i === 2 ? NaN : i / 3 - 1;
      const orig = Array.from(X);
      be.unary!('tanh', n, X, 0, X, 0);
      for (let i = 0; i < n; i++) {
        if (i === 2) expect(X[i]).toBeNaN();
        else expect(X[i]).toBeCloseTo(Math.tanh(orig[i]), 6);
      }
    }
    const [Z] = be.allocate([3]);
    Z.set([NaN, Infinity, -Infinity]);
    be.unary!('exp', 3, Z, 0, Z, 0);
    expect(Z[0]).toBeNaN();
    expect(Z[1]).toBe(Infinity);
    expect(Z[2]).toBe(0);
    Z.set([NaN, Infinity, -Infinity]);
    be.unary!('sigmoid', 3, Z, 0, Z, 0);
    expect(Z[0]).toBeNaN();
    expect([Z[1], Z[2]]).toEqual([1, 0]);
  });
});
