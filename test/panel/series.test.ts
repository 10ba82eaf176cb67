// The loss chart's numbers: smoothing, log filtering, alignment of several runs, CSV.
import { describe, expect, it } from 'vitest';
import { appendPoints, emptyColumns, MAX_RUN_POINTS, pushPoint, type RunData } from '../../client/panel/messages';
import { buildTable, fmt, positiveOnly, runLabel, smoothEma, toCsv } from '../../client/panel/series';

function run(runId: string, model: string, losses: number[], steps?: number[], extra: Partial<RunData> = {}): RunData {
  const points = emptyColumns();
  losses.forEach((loss, i) => pushPoint(points, {
    step: steps ? steps[i] : i + 1, epoch: 1, loss, valLoss: null, accuracy: null, elapsedMs: 10 * i,
  }));
  return {
    runId, model, uri: 'file:///w/a.nn', source: 'server', startedAt: Date.UTC(2025, 0, 2, 3, 4, 5),
    epochs: 1, stepsPerEpoch: losses.length, hasValidation: false, hasAccuracy: false,
    status: 'running', message: null, points, ...extra,
  };
}

describe('smoothEma (TensorBoard debiased EMA)', () => {
  it('matches a hand calculation', () => {
    // w = 0.5: last = 0.5, 1.25, 2.125; debias by 1 - 0.5^n = 0.5, 0.75, 0.875.
    const s = smoothEma([1, 2, 3], 0.5);
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeCloseTo(1.25 / 0.75, 12);
    expect(s[2]).toBeCloseTo(2.125 / 0.875, 12);
  });
  it('is the identity at weight 0 and keeps a constant series constant', () => {
    expect(smoothEma([3, 1, 2], 0)).toEqual([3, 1, 2]);
    for (const v of smoothEma([0.7, 0.7, 0.7, 0.7], 0.9)) expect(v).toBeCloseTo(0.7, 12);
  });
  it('passes nulls and non-finite values through without averaging them in', () => {
    const s = smoothEma([1, null, NaN, 3], 0.5);
    expect(s[1]).toBeNull();
    expect(s[2]).toBeNaN();
    // The second finite value is the EMA's second step.
    expect(s[3]).toBeCloseTo((0.5 * 0.5 + 0.5 * 3) / 0.75, 12);
  });
});

describe('buildTable', () => {
  it('draws one run on its own steps, with raw and smoothed loss when smoothing is on', () => {
    const t = buildTable([run('a', 'Digits', [4, 2, 1])], { smoothing: 0.5, logScale: false });
    expect(t.data[0]).toEqual([1, 2, 3]);
    expect(t.specs.map((s) => [s.metric, s.raw])).toEqual([['loss', true], ['loss', false]]);
    expect(t.data[1]).toEqual([4, 2, 1]);
    expect(t.data[2]![2]).toBeCloseTo(smoothEma([4, 2, 1], 0.5)[2]!, 12);
    expect(t.specs[1].label).toMatch(/^Digits · \d\d:\d\d:\d\d · loss$/);
  });
  it('aligns several runs on the union of their steps, null where a run has no sample', () => {
    const t = buildTable([run('a', 'A', [1, 2], [1, 3]), run('b', 'B', [5, 6], [2, 3])], { smoothing: 0, logScale: false });
    expect(t.data[0]).toEqual([1, 2, 3]);
    expect(t.data[1]).toEqual([1, null, 2]);
    expect(t.data[2]).toEqual([null, 5, 6]);
  });
  it('leaves out hidden runs and, on a log axis, values that are not positive', () => {
    const t = buildTable([run('a', 'A', [1, 0, -1, 2]), run('b', 'B', [1])], { smoothing: 0, logScale: true, hidden: new Set(['b']) });
    expect(t.specs).toHaveLength(1);
    expect(t.data[1]).toEqual([1, null, null, 2]);
    expect(positiveOnly([0, 1e-9, NaN])).toEqual([null, 1e-9, null]);
  });
  it('adds val loss and accuracy series when the run has them', () => {
    const r = run('a', 'A', [1, 2], undefined, { hasValidation: true, hasAccuracy: true });
    r.points.valLoss[1] = 1.5;
    r.points.accuracy[1] = 0.5;
    const t = buildTable([r], { smoothing: 0, logScale: false });
    expect(t.specs.map((s) => s.metric)).toEqual(['loss', 'valLoss', 'accuracy']);
    expect(t.data[2]).toEqual([null, 1.5]);
    expect(t.data[3]).toEqual([null, 0.5]);
  });
});

describe('toCsv', () => {
  it('writes one row per sample with the smoothed loss, quoting where needed', () => {
    const r = run('a', 'My,Model', [2, 1]);
    r.points.valLoss[1] = 1.25;
    const lines = toCsv([r], 0.5).trimEnd().split('\n');
    expect(lines[0]).toBe('run,model,started,step,epoch,elapsed_ms,loss,loss_smoothed,val_loss,accuracy');
    expect(lines).toHaveLength(3);
    const last = lines[2];
    expect(last).toContain('"My,Model"');
    expect(last).toContain('2025-01-02T03:04:05.000Z');
    // loss_smoothed of [2, 1] at w = 0.5: (0.5*1 + 0.5*1) / 0.75 with last=1 after the first step.
    expect(last.endsWith(`,2,1,10,1,${(0.5 * 1 + 0.5 * 1) / 0.75},1.25,`)).toBe(true);
    expect(runLabel(r)).toMatch(/^My,Model · /);
  });
  it('formats numbers compactly', () => {
    expect(fmt(0.123456)).toBe('0.1235');
    expect(fmt(2.5e-5)).toBe('2.50e-5');
    expect(fmt(null)).toBe('–');
  });
});

describe('a run’s points past the cap', () => {
  it('are halved by merging neighbours: the later step and epoch, the mean loss, the later validation numbers', () => {
    const c = emptyColumns();
    const pts = Array.from({ length: 12_000 }, (_, i) => ({
      step: i + 1, epoch: i + 1, loss: i % 2 ? 3 : 1, valLoss: i % 2 ? 0.5 : null, accuracy: i % 2 ? 0.9 : null, elapsedMs: i,
    }));
    for (let i = 0; i < pts.length; i += 100) appendPoints(c, pts.slice(i, i + 100));
    expect(c.step.length).toBeLessThanOrEqual(MAX_RUN_POINTS);
    expect(c.step.length).toBeGreaterThan(MAX_RUN_POINTS / 2);
    expect(c.step.at(-1)).toBe(12_000);
    // merged points are means of neighbours: the 1s and 3s average out to 2
    expect(c.loss.every((v) => v >= 1 && v <= 3)).toBe(true);
    expect(c.loss.reduce((a, b) => a + b, 0) / c.loss.length).toBeCloseTo(2, 2);
    expect(c.valLoss.filter((v) => v !== null).every((v) => v === 0.5)).toBe(true);
    for (let i = 1; i < c.step.length; i++) expect(c.step[i]).toBeGreaterThan(c.step[i - 1]);
    const few = emptyColumns();
    appendPoints(few, pts.slice(0, 300));
    expect(few.step).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });
});
