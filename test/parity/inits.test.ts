/**
 * Initializers against PyTorch's definitions (torch.nn.init): for each init, PyTorch reports its
 * fans, the xavier_uniform_ bound and the kaiming_normal_ std (from torch's own helpers), and a
 * large sample drawn by torch.nn.init; our samples (engine initParam) must have the same fans,
 * stay within the same bounds, have the same mean and spread within sampling tolerance, and
 * pass a two-sample Kolmogorov–Smirnov test against torch's sample. Skipped without PyTorch.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { fans, initParam, type InitSpec } from '../../engine/index';
import { PARITY, PYTHON, jsonOf, run, tempDir, torchUnavailable, writeJson } from './harness';

interface Case {
  label: string;
  init: InitSpec;
  shape: number[];
}

const CASES: Case[] = [
  { label: 'glorot [200, 300]', init: { kind: 'glorot' }, shape: [200, 300] },
  { label: 'glorot [16, 8, 5] (receptive field)', init: { kind: 'glorot' }, shape: [16, 8, 5] },
  { label: 'he [300, 200]', init: { kind: 'he' }, shape: [300, 200] },
  { label: 'he [20, 10, 3] (receptive field)', init: { kind: 'he' }, shape: [20, 10, 3] },
  { label: 'normal(0.5, 2)', init: { kind: 'normal', mean: 0.5, std: 2 }, shape: [250, 200] },
  { label: 'uniform(-0.3, 0.7)', init: { kind: 'uniform', lo: -0.3, hi: 0.7 }, shape: [250, 200] },
  { label: 'zeros', init: { kind: 'zeros' }, shape: [7, 3] },
  { label: 'ones', init: { kind: 'ones' }, shape: [7, 3] },
  { label: 'constant(2.5)', init: { kind: 'constant', value: 2.5 }, shape: [7, 3] },
];

/** How many of torch's values come back for the Kolmogorov–Smirnov test. */
const KEEP = 5000;

interface TorchInit {
  fanIn: number;
  fanOut: number;
  /** xavier_uniform_'s bound (glorot). */
  bound?: number;
  /** kaiming_normal_'s std (he). */
  definedStd?: number;
  n: number;
  min: number;
  max: number;
  mean: number;
  /** The sample's standard deviation. */
  std: number;
  sample: number[];
}

function torchArgs(init: InitSpec): Record<string, number> {
  const { kind: _kind, ...rest } = init as InitSpec & Record<string, number>;
  return rest;
}

function stats(a: ArrayLike<number>): { min: number; max: number; mean: number; std: number } {
  let min = Infinity;
  let max = -Infinity;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    min = Math.min(min, a[i]);
    max = Math.max(max, a[i]);
    s += a[i];
  }
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(v / a.length) };
}

/** Two-sample Kolmogorov–Smirnov statistic sup |F1 − F2|. */
function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

/** The KS critical value at significance 0.001. */
function ksCritical(n: number, m: number): number {
  return 1.95 * Math.sqrt((n + m) / (n * m));
}

const skip = torchUnavailable();

describe.skipIf(skip !== null)(`initializers against torch.nn.init (${skip ?? PYTHON})`, () => {
  let torch: TorchInit[] = [];

  beforeAll(() => {
    const dir = tempDir('inits');
    const spec = CASES.map((c) => ({ init: c.init.kind, shape: c.shape, args: torchArgs(c.init), keep: KEEP }));
    const r = run(PYTHON, [join(PARITY, 'torch_models.py'), 'inits', writeJson(join(dir, 'inits.json'), spec)]);
    torch = jsonOf<TorchInit[]>(r, 'torch_models.py inits');
  });

  test.each(CASES.map((c, i) => ({ ...c, i })))('$label', ({ init, shape, i }) => {
    const t = torch[i];
    const n = shape.reduce((a, b) => a * b, 1);
    const ours = new Float64Array(n);
    initParam({ name: 'W', shape, init }, 7, ours);
    const s = stats(ours);
    // fans as torch computes them (rank >= 2)
    expect(fans(shape)).toEqual({ fanIn: t.fanIn, fanOut: t.fanOut });
    const se = (sd: number) => sd / Math.sqrt(n);

    switch (init.kind) {
      case 'zeros':
      case 'ones':
      case 'constant':
        expect(s.min).toBe(t.min);
        expect(s.max).toBe(t.max);
        return;
      case 'glorot': {
        const bound = Math.sqrt(6 / (t.fanIn + t.fanOut));
        expect(t.bound).toBeCloseTo(bound, 14); // torch's own bound
        expect(s.min).toBeGreaterThanOrEqual(-t.bound!);
        expect(s.max).toBeLessThan(t.bound!);
        // U(-a, a): the extremes reach the bound, std = a / sqrt(3)
        expect(s.max).toBeGreaterThan(t.bound! * (1 - 20 / n));
        expect(s.min).toBeLessThan(-t.bound! * (1 - 20 / n));
        expect(Math.abs(s.std / (t.bound! / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
        expect(Math.abs(s.mean)).toBeLessThan(5 * se(t.bound! / Math.sqrt(3)));
        break;
      }
      case 'he':
        expect(t.definedStd).toBeCloseTo(Math.sqrt(2 / t.fanIn), 14); // torch's own std
        expect(Math.abs(s.std / t.definedStd! - 1)).toBeLessThan(n > 10_000 ? 0.02 : 0.06);
        expect(Math.abs(s.mean)).toBeLessThan(5 * se(t.definedStd!));
        break;
      case 'normal':
        expect(Math.abs(s.std / init.std - 1)).toBeLessThan(0.02);
        expect(Math.abs(s.mean - init.mean)).toBeLessThan(5 * se(init.std));
        break;
      case 'uniform':
        expect(s.min).toBeGreaterThanOrEqual(init.lo);
        expect(s.max).toBeLessThan(init.hi);
        expect(s.min).toBeLessThan(init.lo + (init.hi - init.lo) * (20 / n));
        expect(s.max).toBeGreaterThan(init.hi - (init.hi - init.lo) * (20 / n));
        expect(Math.abs(s.mean - t.mean)).toBeLessThan(5 * se(t.std) * Math.SQRT2);
        break;
    }
    // ours and torch's spreads agree, and the distributions are indistinguishable (KS, α = 0.001)
    expect(Math.abs(s.std / t.std - 1)).toBeLessThan(n > 10_000 ? 0.03 : 0.08);
    const m = Math.min(KEEP, n);
    const d = ksStatistic(ours.subarray(0, m), t.sample);
    expect(d, `KS statistic ${d}`).toBeLessThan(ksCritical(m, t.sample.length));
  });

  test('the KS test tells a wrong init apart: he with the glorot fan (fan_in + fan_out)', () => {
    const i = CASES.findIndex((c) => c.label.startsWith('he [300'));
    const shape = CASES[i].shape;
    const wrong = new Float64Array(KEEP);
    initParam({ name: 'W', shape, init: { kind: 'normal', mean: 0, std: Math.sqrt(2 / (shape[0] + shape[1])) } }, 7, wrong);
    expect(ksStatistic(wrong, torch[i].sample)).toBeGreaterThan(ksCritical(KEEP, torch[i].sample.length));
  });
});
