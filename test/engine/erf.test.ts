/**
 * The complementary error function behind gelu (engine/scalar.ts, Cody's rational
 * approximations) against independent references: erf's everywhere-positive series, erfc's
 * continued fraction (with an exactly split e^(−z²)), and published values.
 */
import { describe, expect, it } from 'vitest';
import { erfc } from '../../engine/scalar';
import { erfcRef, erfSeries } from './scalarRef';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('erfc in float64', () => {
  it('agrees with 1 − erf from its series to a few units in the last place on [-1, 1]', () => {
    let worst = 0;
    for (let x = -1; x <= 1; x += 0.00073) worst = Math.max(worst, rel(erfc(x), 1 - erfSeries(x)));
    expect(worst).toBeLessThan(4e-15);
    expect(worst).toBeGreaterThan(0); // two different computations, not one
  });

  it('erfc keeps its relative precision far into the tail (down to 1e-300)', () => {
    let worst = 0;
    let n = 0;
    for (let x = -6; x <= 26.5; x += 0.0011) {
      const r = erfcRef(x);
      if (r < 1e-300) continue;
      worst = Math.max(worst, rel(erfc(x), r));
      n++;
    }
    expect(n).toBeGreaterThan(29000);
    expect(worst).toBeLessThan(4e-15);
  });

  it('published values', () => {
    // 1 − erf(1), 1 − erf(0.5), erfc(5), erfc(10) to 16 digits (Abramowitz & Stegun; DLMF 7.2)
    expect(rel(erfc(1), 1 - 0.8427007929497149)).toBeLessThan(1e-15);
    expect(rel(erfc(0.5), 1 - 0.5204998778130465)).toBeLessThan(1e-15);
    expect(rel(erfc(5), 1.5374597944280349e-12)).toBeLessThan(1e-15);
    expect(rel(erfc(10), 2.0884875837625448e-45)).toBeLessThan(1e-15);
  });

  it('symmetry, limits and NaN', () => {
    for (const x of [0.1, 0.46875, 0.5, 2, 4.5, 7]) expect(erfc(-x)).toBeCloseTo(2 - erfc(x), 15);
    expect(erfc(0)).toBe(1);
    expect(erfc(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
    expect(erfc(30)).toBe(0);
    expect(erfc(NaN)).toBeNaN();
  });
});
