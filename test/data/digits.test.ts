import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, describeData, loadData } from '../../engine/data';
import {
  allDigits,
  areaWeights,
  decodeDigits,
  digitsFromMnistPackage,
  downsampleArea,
  encodeDigits,
  findDigitsFile,
  findMnistPackage,
} from '../../engine/data/digits';

const ctx = { baseDir: __dirname };
const S = 1.75; // 28 / 16

describe('area averaging 28×28 → 16×16', () => {
  it('has the hand-computed overlap weights along one axis', () => {
    const w = areaWeights(28, 16);
    // output cell 0 covers [0, 1.75): all of input 0, 0.75 of input 1
    expect(w[0]).toBeCloseTo(1 / S, 15);
    expect(w[1]).toBeCloseTo(0.75 / S, 15);
    expect(w[2]).toBe(0);
    // output cell 1 covers [1.75, 3.5): 0.25 of input 1, all of 2, 0.5 of 3
    expect(w[28 + 1]).toBeCloseTo(0.25 / S, 15);
    expect(w[28 + 2]).toBeCloseTo(1 / S, 15);
    expect(w[28 + 3]).toBeCloseTo(0.5 / S, 15);
    expect(w[28 + 4]).toBe(0);
    // output cell 15 covers [26.25, 28): 0.75 of input 26, all of 27
    expect(w[15 * 28 + 26]).toBeCloseTo(0.75 / S, 15);
    expect(w[15 * 28 + 27]).toBeCloseTo(1 / S, 15);
    for (let i = 0; i < 16; i++) {
      let s = 0;
      for (let p = 0; p < 28; p++) s += w[i * 28 + p];
      expect(s).toBeCloseTo(1, 14);
    }
  });

  it('spreads one lit input pixel over the output cells it overlaps', () => {
    const img = new Float64Array(784);
    img[1 * 28 + 1] = 1; // pixel (1, 1) covers [1,2)×[1,2)
    const out = downsampleArea(img, 28, 28, 16, 16);
    const area = S * S;
    expect(out[0]).toBeCloseTo((0.75 * 0.75) / area, 15); // cell (0,0): 0.75 × 0.75 overlap
    expect(out[1]).toBeCloseTo((0.75 * 0.25) / area, 15); // cell (0,1)
    expect(out[16]).toBeCloseTo((0.25 * 0.75) / area, 15); // cell (1,0)
    expect(out[17]).toBeCloseTo((0.25 * 0.25) / area, 15); // cell (1,1)
    let total = 0;
    for (const v of out) total += v;
    expect(total).toBeCloseTo(1 / area, 14); // mass is conserved: Σ out · 1.75² = Σ in
  });

  it('averages a horizontal ramp exactly', () => {
    const img = new Float64Array(784);
    for (let p = 0; p < 28; p++) for (let q = 0; q < 28; q++) img[p * 28 + q] = q;
    const out = downsampleArea(img, 28, 28, 16, 16);
    // cell column 0: (1·0 + 0.75·1) / 1.75; column 1: (0.25·1 + 1·2 + 0.5·3) / 1.75
    expect(out[0]).toBeCloseTo(0.75 / S, 14);
    expect(out[1]).toBeCloseTo((0.25 + 2 + 1.5) / S, 14);
    expect(out[5 * 16 + 1]).toBeCloseTo((0.25 + 2 + 1.5) / S, 14);
  });

  it('keeps a constant image constant', () => {
    const out = downsampleArea(new Float64Array(784).fill(0.4), 28, 28, 16, 16);
    for (const v of out) expect(v).toBeCloseTo(0.4, 14);
  });
});

describe('digits16()', () => {
  it('describes 16×16 → one-hot [10]', () => {
    expect(describeData({ kind: 'digits16', limit: 2000, seed: 1 }, ctx)).toEqual({
      xShape: [256],
      yShape: [10],
      n: 2000,
      oneHot: true,
    });
  });

  it('picks a class-balanced, seeded selection of distinct digits with values in [0, 1]', () => {
    const d = loadData({ kind: 'digits16', limit: 205, seed: 3 }, ctx);
    expect(d.n).toBe(205);
    expect(d.x.length).toBe(205 * 256);
    const counts = new Array(10).fill(0);
    for (let e = 0; e < d.n; e++) {
      const row = Array.from(d.y.subarray(e * 10, e * 10 + 10));
      expect(row.filter((v) => v === 1).length).toBe(1);
      expect(row.filter((v) => v === 0).length).toBe(9);
      counts[row.indexOf(1)]++;
    }
    for (const c of counts) expect(c === 20 || c === 21).toBe(true);
    let min = Infinity;
    let max = -Infinity;
    for (const v of d.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
    const keys = new Set<string>();
    for (let e = 0; e < d.n; e++) keys.add(Array.from(d.x.subarray(e * 256, e * 256 + 256)).join());
    expect(keys.size).toBe(205);
    const again = loadData({ kind: 'digits16', limit: 205, seed: 3 }, ctx);
    expect(Array.from(again.x)).toEqual(Array.from(d.x));
    const other = loadData({ kind: 'digits16', limit: 205, seed: 4 }, ctx);
    expect(Array.from(other.x)).not.toEqual(Array.from(d.x));
    // the classes are mixed, not grouped
    const firstTen = new Set(Array.from({ length: 10 }, (_, e) => d.y.subarray(e * 10, e * 10 + 10).indexOf(1)));
    expect(firstTen.size).toBeGreaterThan(3);
  });

  it('holds the area-averaged mnist digits (to the 1/255 storage step)', () => {
    const pkg = findMnistPackage();
    expect(pkg).not.toBeNull();
    const set = allDigits();
    expect(set.count).toBe(10000);
    // The full set is ordered by class, then by position in the mnist package's file.
    const threes = JSON.parse(readFileSync(join(pkg as string, '3.json'), 'utf8')).data as number[];
    let offset = 0;
    for (let i = 0; i < set.count; i++) if (set.labels[i] < 3) offset++;
    for (const e of [0, 17, 500]) {
      const expected = downsampleArea(threes.slice(e * 784, (e + 1) * 784), 28, 28, 16, 16);
      expect(set.labels[offset + e]).toBe(3);
      for (let i = 0; i < 256; i++) {
        expect(Math.abs(set.pixels[(offset + e) * 256 + i] / 255 - expected[i])).toBeLessThanOrEqual(0.5 / 255 + 1e-12);
      }
    }
  });

  it('encodes and decodes the binary format losslessly', () => {
    const fromPkg = digitsFromMnistPackage(findMnistPackage() as string);
    const round = decodeDigits(encodeDigits(fromPkg));
    expect(round.count).toBe(fromPkg.count);
    expect(Buffer.compare(Buffer.from(round.pixels), Buffer.from(fromPkg.pixels))).toBe(0);
    expect(Buffer.compare(Buffer.from(round.labels), Buffer.from(fromPkg.labels))).toBe(0);
  });

  it.runIf(findDigitsFile() !== null)('the build output (digits16.bin) matches the package byte for byte', () => {
    const file = findDigitsFile() as string;
    const fromFile = decodeDigits(new Uint8Array(readFileSync(file)), file);
    const fromPkg = digitsFromMnistPackage(findMnistPackage() as string);
    expect(Buffer.compare(Buffer.from(fromFile.pixels), Buffer.from(fromPkg.pixels))).toBe(0);
    expect(Buffer.compare(Buffer.from(fromFile.labels), Buffer.from(fromPkg.labels))).toBe(0);
  });

  it('refuses a limit outside 1..10000', () => {
    for (const limit of [0, 10001, 2.5]) {
      const f = () => describeData({ kind: 'digits16', limit, seed: 0 }, ctx);
      expect(f).toThrow(DataError);
      expect(f).toThrow(`digits16: limit must be an integer from 1 to 10000, got ${limit}`);
    }
  });

  it('refuses a corrupt digits file', () => {
    expect(() => decodeDigits(new Uint8Array(40), 'x.bin')).toThrow(
      'digits16: x.bin is not a digits file (bad magic); run npm run build',
    );
  });
});
