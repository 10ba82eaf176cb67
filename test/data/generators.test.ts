import { describe, expect, it } from 'vitest';
import { DataError, describeData, loadData } from '../../engine/data';
import type { DataSpec } from '../../engine/ir';

const ctx = { baseDir: __dirname };

function rows(d: { x: Float64Array; n: number }, dim = 2): number[][] {
  return Array.from({ length: d.n }, (_, i) => Array.from(d.x.subarray(i * dim, (i + 1) * dim)));
}

function dataError(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

describe('xor()', () => {
  it('is the four XOR points with 0/1 labels', () => {
    const d = loadData({ kind: 'xor' }, ctx);
    expect(d.n).toBe(4);
    expect(d.xShape).toEqual([2]);
    expect(d.yShape).toEqual([1]);
    expect(d.oneHot).toBe(false);
    expect(rows(d)).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    expect(Array.from(d.y)).toEqual([0, 1, 1, 0]);
    expect(describeData({ kind: 'xor' }, ctx)).toEqual({ xShape: [2], yShape: [1], n: 4, oneHot: false });
  });
});

describe('circle()', () => {
  it('puts class 1 inside radius 2.5 and class 0 on the ring 3.5..5 (noise 0)', () => {
    const d = loadData({ kind: 'circle', n: 400, noise: 0, seed: 3 }, ctx);
    expect(d.n).toBe(400);
    expect(d.x.length).toBe(800);
    let ones = 0;
    rows(d).forEach(([x, y], i) => {
      const r = Math.hypot(x, y);
      if (d.y[i] === 1) {
        ones++;
        expect(r).toBeLessThanOrEqual(2.5);
      } else {
        expect(d.y[i]).toBe(0);
        expect(r).toBeGreaterThanOrEqual(3.5);
        expect(r).toBeLessThanOrEqual(5);
      }
    });
    expect(ones).toBe(200);
  });

  it('with noise keeps the points but flips labels near the boundary', () => {
    const clean = loadData({ kind: 'circle', n: 2000, noise: 0, seed: 5 }, ctx);
    const noisy = loadData({ kind: 'circle', n: 2000, noise: 0.3, seed: 5 }, ctx);
    let flipped = 0;
    rows(noisy).forEach(([x, y], i) => {
      const r = Math.hypot(x, y);
      // geometry of the stored points is unchanged by noise
      expect(r <= 2.5 || (r >= 3.5 && r <= 5)).toBe(true);
      const inside = r < 2.5 ? 1 : 0;
      if (noisy.y[i] !== inside) flipped++;
    });
    expect(flipped).toBeGreaterThan(50);
    expect(flipped).toBeLessThan(1000);
    expect(Array.from(clean.y).filter((v) => v === 1).length).toBe(1000);
  });

  it('is reproducible from its seed and differs between seeds', () => {
    const a = loadData({ kind: 'circle', n: 50, noise: 0.1, seed: 1 }, ctx);
    const b = loadData({ kind: 'circle', n: 50, noise: 0.1, seed: 1 }, ctx);
    const c = loadData({ kind: 'circle', n: 50, noise: 0.1, seed: 2 }, ctx);
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(Array.from(a.y)).toEqual(Array.from(b.y));
    expect(Array.from(a.x)).not.toEqual(Array.from(c.x));
  });

  it('gives exactly n points for odd n', () => {
    const d = loadData({ kind: 'circle', n: 7, noise: 0, seed: 0 }, ctx);
    expect(d.n).toBe(7);
    expect(Array.from(d.y)).toEqual([1, 1, 1, 1, 0, 0, 0]);
  });
});

describe('gauss()', () => {
  function stats(d: { x: Float64Array; y: Float64Array; n: number }, label: number) {
    const pts = rows(d).filter((_, i) => d.y[i] === label);
    const mean = [0, 1].map((k) => pts.reduce((s, p) => s + p[k], 0) / pts.length);
    const variance = [0, 1].map((k) => pts.reduce((s, p) => s + (p[k] - mean[k]) ** 2, 0) / pts.length);
    return { count: pts.length, mean, variance };
  }

  it('has class 1 around (2, 2) and class 0 around (-2, -2), variance 0.5 at noise 0', () => {
    const d = loadData({ kind: 'gauss', n: 20000, noise: 0, seed: 1 }, ctx);
    const pos = stats(d, 1);
    const neg = stats(d, 0);
    expect(pos.count).toBe(10000);
    expect(neg.count).toBe(10000);
    for (const k of [0, 1]) {
      expect(pos.mean[k]).toBeCloseTo(2, 1);
      expect(neg.mean[k]).toBeCloseTo(-2, 1);
      expect(pos.variance[k]).toBeGreaterThan(0.45);
      expect(pos.variance[k]).toBeLessThan(0.55);
    }
  });

  it('reaches variance 4 at noise 0.5, as in the Playground', () => {
    const d = loadData({ kind: 'gauss', n: 20000, noise: 0.5, seed: 2 }, ctx);
    const { variance } = stats(d, 1);
    for (const v of variance) {
      expect(v).toBeGreaterThan(3.7);
      expect(v).toBeLessThan(4.3);
    }
  });
});

describe('spiral()', () => {
  it('lays out one arm per class with r = 5·i/m and one-hot labels (noise 0)', () => {
    const spec: DataSpec = { kind: 'spiral', n: 600, classes: 3, noise: 0, seed: 0 };
    const d = loadData(spec, ctx);
    expect(describeData(spec, ctx)).toEqual({ xShape: [2], yShape: [3], n: 600, oneHot: true });
    expect(d.yShape).toEqual([3]);
    expect(d.oneHot).toBe(true);
    const pts = rows(d);
    for (let c = 0; c < 3; c++) {
      for (let j = 0; j < 200; j++) {
        const i = c * 200 + j;
        expect(Array.from(d.y.subarray(i * 3, i * 3 + 3))).toEqual([0, 1, 2].map((k) => (k === c ? 1 : 0)));
        const [x, y] = pts[i];
        const r = (5 * j) / 200;
        const t = (3.5 * Math.PI * j) / 200 + (2 * Math.PI * c) / 3;
        expect(x).toBeCloseTo(r * Math.sin(t), 12);
        expect(y).toBeCloseTo(r * Math.cos(t), 12);
      }
    }
  });

  it('adds uniform noise of at most `noise` per coordinate', () => {
    const clean = loadData({ kind: 'spiral', n: 300, classes: 2, noise: 0, seed: 4 }, ctx);
    const noisy = loadData({ kind: 'spiral', n: 300, classes: 2, noise: 0.2, seed: 4 }, ctx);
    let maxDev = 0;
    for (let i = 0; i < clean.x.length; i++) maxDev = Math.max(maxDev, Math.abs(clean.x[i] - noisy.x[i]));
    expect(maxDev).toBeLessThanOrEqual(0.2);
    expect(maxDev).toBeGreaterThan(0.15);
  });

  it('splits odd n as evenly as possible', () => {
    const d = loadData({ kind: 'spiral', n: 11, classes: 3, noise: 0, seed: 0 }, ctx);
    const counts = [0, 0, 0];
    for (let i = 0; i < 11; i++) for (let c = 0; c < 3; c++) counts[c] += d.y[i * 3 + c];
    expect(counts).toEqual([4, 4, 3]);
  });
});

describe('generator argument errors', () => {
  it.each([
    [{ kind: 'circle', n: 0, noise: 0, seed: 0 }, 'circle: n must be a positive integer, got 0'],
    [{ kind: 'gauss', n: 10.5, noise: 0, seed: 0 }, 'gauss: n must be a positive integer, got 10.5'],
    [{ kind: 'circle', n: 10, noise: -1, seed: 0 }, 'circle: noise must be a number ≥ 0, got -1'],
    [{ kind: 'spiral', n: 10, classes: 1, noise: 0, seed: 0 }, 'spiral: classes must be an integer ≥ 2, got 1'],
    [{ kind: 'spiral', n: 2, classes: 3, noise: 0, seed: 0 }, 'spiral: classes (3) must not exceed n (2)'],
  ] as [DataSpec, string][])('%j', (spec, message) => {
    expect(dataError(() => describeData(spec, ctx)).message).toBe(message);
    expect(dataError(() => loadData(spec, ctx)).message).toBe(message);
  });
});

describe('table', () => {
  it('turns inline rows into a data set', () => {
    const spec: DataSpec = {
      kind: 'table',
      rows: [
        { x: [0, 0], y: [0] },
        { x: [0, 1], y: [1] },
      ],
    };
    expect(describeData(spec, ctx)).toEqual({ xShape: [2], yShape: [1], n: 2, oneHot: false });
    const d = loadData(spec, ctx);
    expect(Array.from(d.x)).toEqual([0, 0, 0, 1]);
    expect(Array.from(d.y)).toEqual([0, 1]);
  });

  it('marks labels as one-hot when every label row is one-hot', () => {
    const oneHot: DataSpec = {
      kind: 'table',
      rows: [
        { x: [1], y: [1, 0] },
        { x: [2], y: [0, 1] },
      ],
    };
    const notOneHot: DataSpec = {
      kind: 'table',
      rows: [
        { x: [1], y: [1, 0] },
        { x: [2], y: [0.5, 0.5] },
      ],
    };
    expect(describeData(oneHot, ctx).oneHot).toBe(true);
    expect(describeData(notOneHot, ctx).oneHot).toBe(false);
  });

  it('names the ragged row', () => {
    const e = dataError(() =>
      describeData(
        {
          kind: 'table',
          rows: [
            { x: [0, 0], y: [0] },
            { x: [0, 1], y: [1] },
            { x: [1, 0, 1], y: [1] },
          ],
        },
        ctx,
      ),
    );
    expect(e.message).toBe('table: row 3 has 3 features, row 1 has 2');
    expect(e.row).toBe(3);
  });

  it('names a row whose label has the wrong length', () => {
    const e = dataError(() =>
      loadData(
        {
          kind: 'table',
          rows: [
            { x: [0], y: [0] },
            { x: [1], y: [1, 0] },
          ],
        },
        ctx,
      ),
    );
    expect(e.message).toBe('table: row 2 has a label of 2 values, row 1 has 1');
    expect(e.row).toBe(2);
  });

  it('refuses an empty table', () => {
    expect(dataError(() => describeData({ kind: 'table', rows: [] }, ctx)).message).toBe('table: no rows');
  });
});
