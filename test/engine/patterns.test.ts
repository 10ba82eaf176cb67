/** How a wrong factor of a derivative is printed (engine/check/compare.ts), by hand. */
import { describe, expect, it } from 'vitest';
import { describePattern, fmtFactor } from '../../engine/check/compare';

describe('factors as a person reads them', () => {
  it.each([
    [2, '2.00'],
    [3, '3.00'],
    [0.5, '0.50'],
    [0.25, '0.25'],
    [-1.5, '-1.50'],
    [1000, '1000'],
    [32, '32'],
    [1 / 256, '1/256 (0.003906)'],
    [1 / 32, '1/32 (0.03125)'],
    [1 / 3, '1/3 (0.3333)'],
    [-1 / 10, '−1/10 (0.1)'],
    [0.007, '0.007'],
  ])('%d prints as %s', (c, text) => expect(fmtFactor(c)).toBe(text));

  it('a line 1/256 of the truth is never "0.00", and the meaning of the factor is named', () => {
    const t = [0.5, -1.25, 2, 0.125];
    const u = t.map((x) => x / 256);
    expect(describePattern(u, t, 1e-12, 1e-6)).toBe('off by a factor 1/256 (0.003906)');
    expect(describePattern(u, t, 1e-12, 1e-6, { factors: [{ value: 256, over: 'the 256 pixels' }] })).toBe(
      'off by a factor 1/256 (0.003906): the 256 pixels',
    );
    const v = t.map((x) => x * 3);
    expect(describePattern(v, t, 1e-12, 1e-6, { factors: [{ value: 3, times: 'missing a mean' }] })).toBe('off by a factor 3.00: missing a mean');
  });
});
