import { describe, expect, it } from 'vitest';
import {
  activationBackward,
  biasActivation,
  biasGradient,
  softmaxCrossEntropy,
  type Activation,
} from '../../engine/kernels';
import { Rng } from '../../engine/rng';

const ACTS: [Activation, (z: number) => number][] = [
  ['identity', (z) => z],
  ['sigmoid', (z) => 1 / (1 + Math.exp(-z))],
  ['tanh', Math.tanh],
  ['relu', (z) => Math.max(0, z)],
];

describe('biasActivation', () => {
  it.each(ACTS)('%s: z += bias row, out = act(z), at offsets', (act, f) => {
    const rows = 3;
    const cols = 5;
    const rng = new Rng(1);
    const z = Float64Array.from({ length: 2 + rows * cols }, () => rng.range(-3, 3));
    const z0 = z.slice();
    const bias = Float64Array.from({ length: 1 + cols }, () => rng.range(-1, 1));
    const out = new Float32Array(4 + rows * cols);
    biasActivation(act, rows, cols, z, 2, bias, 1, out, 4);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        const pre = z0[2 + r * cols + j] + bias[1 + j];
        expect(z[2 + r * cols + j]).toBe(pre);
        expect(out[4 + r * cols + j]).toBeCloseTo(f(pre), 6);
      }
    }
    expect(Array.from(out.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(z.subarray(0, 2))).toEqual(Array.from(z0.subarray(0, 2)));
  });

  it('works in place and keeps sigmoid finite for large |z|', () => {
    const z = Float32Array.from([-1000, 1000, 0]);
    biasActivation('sigmoid', 1, 3, z, 0, new Float32Array(3), 0, z, 0);
    expect(Array.from(z)).toEqual([0, 1, 0.5]);
  });
});

describe('activationBackward', () => {
  it.each(ACTS)('%s: dZ = dA·act′(z) from the output matches a central difference', (act, f) => {
    const rng = new Rng(2);
    const n = 12;
    const zs = Float64Array.from({ length: n }, () => {
      const v = rng.range(-3, 3);
      return Math.abs(v) < 1e-3 ? 0.5 : v; // keep away from relu's kink
    });
    const a = zs.map(f);
    const dA = Float64Array.from({ length: n }, () => rng.range(-1, 1));
    const dZ = new Float64Array(n).fill(NaN);
    activationBackward(act, n, a, 0, dA, 0, dZ, 0, false);
    const h = 1e-6;
    for (let i = 0; i < n; i++) {
      const numeric = (f(zs[i] + h) - f(zs[i] - h)) / (2 * h);
      expect(dZ[i]).toBeCloseTo(dA[i] * numeric, 7);
    }
    const before = dZ.slice();
    activationBackward(act, n, a, 0, dA, 0, dZ, 0, true);
    for (let i = 0; i < n; i++) expect(dZ[i]).toBeCloseTo(2 * before[i], 12);
  });
});

describe('biasGradient', () => {
  it('sums the columns, overwriting or accumulating', () => {
    const dZ = Float32Array.from([9, 1, 2, 3, 4, 5, 6]); // offset 1: [[1,2,3],[4,5,6]]
    const db = Float32Array.from([7, 7, 7]);
    biasGradient(2, 3, dZ, 1, db, 0, false);
    expect(Array.from(db)).toEqual([5, 7, 9]);
    biasGradient(2, 3, dZ, 1, db, 0, true);
    expect(Array.from(db)).toEqual([10, 14, 18]);
  });
});

describe('softmaxCrossEntropy', () => {
  it('matches a hand calculation', () => {
    const logits = Float64Array.from([1, 2, 3]);
    const t = Float64Array.from([0, 0, 1]);
    const p = new Float64Array(3);
    const d = new Float64Array(3);
    const loss = softmaxCrossEntropy(1, 3, logits, 0, t, 0, p, 0, d, 0, 1);
    const Z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expect(loss).toBeCloseTo(Math.log(Z) - 3, 14); // 0.40760596…
    expect(loss).toBeCloseTo(0.4076059644, 9);
    [1, 2, 3].forEach((v, i) => expect(p[i]).toBeCloseTo(Math.exp(v) / Z, 14));
    expect(d[0]).toBeCloseTo(Math.exp(1) / Z, 14);
    expect(d[2]).toBeCloseTo(Math.exp(3) / Z - 1, 14);
  });

  it('gives the gradient of scale·Σ loss for any targets (central differences)', () => {
    const rows = 3;
    const k = 4;
    const rng = new Rng(4);
    const z = Float64Array.from({ length: rows * k }, () => rng.range(-2, 2));
    const t = Float64Array.from({ length: rows * k }, () => rng.range(0, 1)); // not one-hot, not normalised
    const d = new Float64Array(rows * k);
    const scale = 1 / rows;
    softmaxCrossEntropy(rows, k, z, 0, t, 0, null, 0, d, 0, scale);
    const h = 1e-6;
    for (let i = 0; i < z.length; i++) {
      const zp = z.slice();
      const zm = z.slice();
      zp[i] += h;
      zm[i] -= h;
      const numeric =
        (scale * softmaxCrossEntropy(rows, k, zp, 0, t, 0, null, 0, null, 0, 1) -
          scale * softmaxCrossEntropy(rows, k, zm, 0, t, 0, null, 0, null, 0, 1)) /
        (2 * h);
      expect(d[i]).toBeCloseTo(numeric, 7);
    }
  });

  it('stays finite for huge logits, writes probabilities that sum to 1, and may work in place', () => {
    const z = Float32Array.from([1000, 999, -1000, 0, 0, 0]);
    const t = Float32Array.from([0, 1, 0, 1, 0, 0]);
    const loss = softmaxCrossEntropy(2, 3, z, 0, t, 0, z, 0, null, 0, 1);
    expect(loss).toBeCloseTo(Math.log(1 + Math.exp(1)) + Math.log(3), 5);
    expect(z[0] + z[1] + z[2]).toBeCloseTo(1, 6);
    expect(z[2]).toBe(0);
    expect(Array.from(z.subarray(3))).toEqual([1 / 3, 1 / 3, 1 / 3].map(Math.fround));
  });
});
