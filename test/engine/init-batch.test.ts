/** Parameter initialisation statistics and the random check batch. */
import { describe, expect, it } from 'vitest';
import type { InitSpec, IRModel } from '../../engine/ir';
import { fans, initParams } from '../../engine/init';
import { randomBatch, targetKind } from '../../engine/check/batch';
import { ModelBuilder, program } from './irBuilder';

function modelWith(params: [string, number[], InitSpec][]): IRModel {
  const b = new ModelBuilder();
  const x = b.input('x', [1]);
  let acc = b.op('sum', [x]);
  for (const [name, shape, init] of params) acc = b.add(acc, b.op('sum', [b.param(name, shape, init)]));
  b.loss('C', acc);
  return b.model();
}

function stats(a: Float64Array) {
  let s = 0;
  let s2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of a) {
    s += v;
    s2 += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean), min, max };
}

describe('initParams', () => {
  it('zeros, ones, constant', () => {
    const p = initParams(
      modelWith([
        ['a', [3], { kind: 'zeros' }],
        ['b', [2, 2], { kind: 'ones' }],
        ['c', [2], { kind: 'constant', value: -0.25 }],
      ]),
      0,
    );
    expect(Array.from(p.a)).toEqual([0, 0, 0]);
    expect(Array.from(p.b)).toEqual([1, 1, 1, 1]);
    expect(Array.from(p.c)).toEqual([-0.25, -0.25]);
  });

  it('normal(mean, std) has that mean and std', () => {
    const s = stats(initParams(modelWith([['w', [200, 300], { kind: 'normal', mean: 0.5, std: 2 }]]), 1).w);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan((4 * 2) / Math.sqrt(60000));
    expect(Math.abs(s.std / 2 - 1)).toBeLessThan(0.02);
  });

  it('uniform(lo, hi) stays in [lo, hi) with the right mean and variance', () => {
    const s = stats(initParams(modelWith([['w', [50000], { kind: 'uniform', lo: -1, hi: 3 }]]), 2).w);
    expect(s.min).toBeGreaterThanOrEqual(-1);
    expect(s.max).toBeLessThan(3);
    expect(Math.abs(s.mean - 1)).toBeLessThan(0.03);
    expect(Math.abs(s.std - 4 / Math.sqrt(12))).toBeLessThan(0.02);
  });

  it('glorot is U(±sqrt(6/(fan_in+fan_out))) with fan_in = shape[1], fan_out = shape[0]', () => {
    const a = Math.sqrt(6 / (300 + 100));
    const s = stats(initParams(modelWith([['w', [100, 300], { kind: 'glorot' }]]), 3).w);
    expect(s.max).toBeLessThanOrEqual(a);
    expect(s.min).toBeGreaterThanOrEqual(-a);
    expect(s.max).toBeGreaterThan(0.99 * a);
    expect(Math.abs(s.std / (a / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
  });

  it('he is N(0, 2/fan_in)', () => {
    const s = stats(initParams(modelWith([['w', [400, 50], { kind: 'he' }]]), 4).w);
    expect(Math.abs(s.mean)).toBeLessThan(0.01);
    expect(Math.abs(s.std / Math.sqrt(2 / 50) - 1)).toBeLessThan(0.02);
  });

  it('fans of every rank', () => {
    expect(fans([])).toEqual({ fanIn: 1, fanOut: 1 });
    expect(fans([7])).toEqual({ fanIn: 7, fanOut: 7 });
    expect(fans([10, 30])).toEqual({ fanIn: 30, fanOut: 10 });
    expect(fans([8, 4, 3, 3])).toEqual({ fanIn: 36, fanOut: 72 });
  });

  it('is deterministic from the seed and independent of the other params and their order', () => {
    const w: [string, number[], InitSpec] = ['w', [4, 5], { kind: 'normal', mean: 0, std: 1 }];
    const v: [string, number[], InitSpec] = ['v', [6], { kind: 'glorot' }];
    const a = initParams(modelWith([w, v]), 9);
    const b = initParams(modelWith([v, ['extra', [10], { kind: 'he' }], w]), 9);
    expect(Array.from(a.w)).toEqual(Array.from(b.w));
    expect(Array.from(a.v)).toEqual(Array.from(b.v));
    const c = initParams(modelWith([w, v]), 10);
    expect(Array.from(c.w)).not.toEqual(Array.from(a.w));
    // same init, same shape, another name: other values
    const d = initParams(modelWith([['u', [4, 5], { kind: 'normal', mean: 0, std: 1 }]]), 9);
    expect(Array.from(d.u)).not.toEqual(Array.from(a.w));
  });
});

describe('randomBatch', () => {
  function model() {
    const b = new ModelBuilder();
    const x = b.input('x', [30]);
    const t1 = b.target('t1', [5]);
    const t2 = b.target('t2', [4]);
    const t3 = b.target('t3', [3]);
    const W = b.param('W', [10, 30]);
    const z = b.matmul(W, x);
    const ce = b.op('cross_entropy', [b.op('softmax', [b.matmul(b.param('V', [5, 10]), z)]), t1]);
    const bce = b.op('binary_cross_entropy', [b.unary('sigmoid', b.matmul(b.param('U', [4, 10]), z)), t2]);
    const ms = b.op('mse', [b.matmul(b.param('Q', [3, 10]), z), t3]);
    b.loss('C', b.add(b.add(ce, bce), ms));
    return b.model();
  }

  it('classifies targets by the loss that reads them', () => {
    const m = model();
    expect(targetKind(m, 't1')).toBe('one-hot');
    expect(targetKind(m, 't2')).toBe('binary');
    expect(targetKind(m, 't3')).toBe('normal');
  });

  it('inputs are standard normal; cross_entropy targets one-hot; binary ones 0/1; others normal', () => {
    const m = model();
    const n = 400;
    const batch = randomBatch(program([m]), m, n, 5);
    expect(batch.n).toBe(n);
    const x = stats(Float64Array.from(batch.data.x));
    expect(x.mean).toBeCloseTo(0, 1);
    expect(Math.abs(x.std - 1)).toBeLessThan(0.02);
    const t1 = batch.data.t1;
    expect(t1.length).toBe(n * 5);
    for (let r = 0; r < n; r++) {
      const row = Array.from(t1.slice(r * 5, r * 5 + 5));
      expect(row.filter((v) => v === 1).length).toBe(1);
      expect(row.filter((v) => v === 0).length).toBe(4);
    }
    const t2 = Array.from(batch.data.t2);
    expect(t2.every((v) => v === 0 || v === 1)).toBe(true);
    expect(t2.filter((v) => v === 1).length / t2.length).toBeGreaterThan(0.4);
    expect(t2.filter((v) => v === 1).length / t2.length).toBeLessThan(0.6);
    const t3 = stats(Float64Array.from(batch.data.t3));
    expect(Math.abs(t3.std - 1)).toBeLessThan(0.1);
    expect(new Set(batch.data.t3).size).toBe(n * 3);
  });

  it('is deterministic from the seed', () => {
    const m = model();
    const a = randomBatch(program([m]), m, 4, 1);
    const b = randomBatch(program([m]), m, 4, 1);
    const c = randomBatch(program([m]), m, 4, 2);
    expect(Array.from(a.data.x)).toEqual(Array.from(b.data.x));
    expect(Array.from(a.data.x)).not.toEqual(Array.from(c.data.x));
  });
});
