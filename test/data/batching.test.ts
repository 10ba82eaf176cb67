import { describe, expect, it } from 'vitest';
import { DataError, EpochShuffler, gatherBatch, loadData, splitData } from '../../engine/data';

const ctx = { baseDir: __dirname };
const spiral = () => loadData({ kind: 'spiral', n: 100, classes: 3, noise: 0.1, seed: 1 }, ctx);

function rowKey(x: Float64Array, i: number): string {
  return `${x[2 * i]},${x[2 * i + 1]}`;
}

describe('splitData', () => {
  it('splits into disjoint parts that cover the data set, seeded', () => {
    const d = spiral();
    const { train, validation } = splitData(d, 0.8, 7);
    expect(train.n).toBe(80);
    expect(validation?.n).toBe(20);
    const keys = new Set<string>();
    for (let i = 0; i < train.n; i++) keys.add(rowKey(train.x, i));
    for (let i = 0; i < (validation?.n ?? 0); i++) keys.add(rowKey(validation!.x, i));
    const all = new Set<string>();
    for (let i = 0; i < d.n; i++) all.add(rowKey(d.x, i));
    expect(keys).toEqual(all);
    // labels travel with their rows
    for (let i = 0; i < train.n; i++) {
      const j = Array.from({ length: d.n }, (_, k) => k).find((k) => rowKey(d.x, k) === rowKey(train.x, i))!;
      expect(Array.from(train.y.subarray(3 * i, 3 * i + 3))).toEqual(Array.from(d.y.subarray(3 * j, 3 * j + 3)));
    }
    const again = splitData(d, 0.8, 7);
    expect(Array.from(again.validation!.x)).toEqual(Array.from(validation!.x));
    const other = splitData(d, 0.8, 8);
    expect(Array.from(other.validation!.x)).not.toEqual(Array.from(validation!.x));
    expect(validation!.yShape).toEqual([3]);
    expect(validation!.oneHot).toBe(true);
  });

  it('has no validation part at split 1 or when nothing would be left', () => {
    const d = spiral();
    expect(splitData(d, 1, 0).validation).toBeNull();
    expect(splitData(d, 1, 0).train).toBe(d);
    expect(splitData(d, 0.999, 0).validation).toBeNull();
    expect(splitData(loadData({ kind: 'xor' }, ctx), 0.01, 0).train.n).toBe(1);
  });

  it('refuses a split outside (0, 1]', () => {
    for (const s of [0, -0.5, 1.5, NaN]) {
      expect(() => splitData(spiral(), s, 0)).toThrow(DataError);
    }
  });
});

describe('EpochShuffler', () => {
  it('reshuffles the same array each epoch into a new permutation, reproducibly', () => {
    const s = new EpochShuffler(50, 3);
    const first = s.next();
    const firstCopy = Array.from(first);
    const second = s.next();
    expect(second).toBe(first); // no allocation per epoch
    expect(Array.from(second)).not.toEqual(firstCopy);
    for (const order of [firstCopy, Array.from(second)]) {
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    const t = new EpochShuffler(50, 3);
    expect(Array.from(t.next())).toEqual(firstCopy);
    expect(Array.from(new EpochShuffler(50, 4).next())).not.toEqual(firstCopy);
  });
});

describe('gatherBatch', () => {
  it('copies the ordered rows into float32 buffers at offsets', () => {
    const d = spiral();
    const order = Uint32Array.from([5, 99, 0]);
    const x = new Float32Array(2 + 2 * 2);
    const y = new Float32Array(1 + 2 * 3);
    gatherBatch(d, order, 1, 2, x, y, 2, 1);
    // rows order[1] = 99 and order[2] = 0, after 2 untouched leading elements
    expect(Array.from(x)).toEqual([0, 0, d.x[198], d.x[199], d.x[0], d.x[1]].map(Math.fround));
    expect(Array.from(y)).toEqual([0, ...Array.from(d.y.subarray(297, 300)), ...Array.from(d.y.subarray(0, 3))]);
  });
});
