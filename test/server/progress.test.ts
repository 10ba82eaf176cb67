/** Training progress notifications: at most one per interval, losses in between averaged by steps. */
import { describe, expect, it } from 'vitest';
import type { TrainPoint, TrainProgress } from '../../engine/train';
import { readSettings } from '../../server/settings';
import { ProgressThrottle } from '../../server/training';

const at = (step: number, loss: number, epoch = 1): TrainProgress => ({
  epoch,
  step,
  epochs: 10,
  stepsPerEpoch: 100,
  loss,
  valLoss: null,
  accuracy: null,
  elapsedMs: step,
});

describe('progress throttle', () => {
  it('sends at most one notification per interval, with the step-weighted mean loss of the reports it merged', () => {
    let now = 0;
    const sent: [number, number][] = [];
    const t = new ProgressThrottle((p, loss) => sent.push([p.step, loss]), 40, () => now);
    now = 50;
    t.add(at(10, 1.0)); // sent at once: 50 ms since the start
    now = 60;
    t.add(at(20, 0.5)); // 10 steps at 0.5
    now = 70;
    t.add(at(50, 0.1)); // 30 steps at 0.1
    expect(sent).toEqual([[10, 1.0]]);
    now = 95;
    t.add(at(60, 0.2)); // 10 steps at 0.2; 45 ms since the last: sent
    expect(sent).toHaveLength(2);
    expect(sent[1][0]).toBe(60);
    expect(sent[1][1]).toBeCloseTo((10 * 0.5 + 30 * 0.1 + 10 * 0.2) / 50, 12);
    now = 100;
    t.add(at(61, 0.3));
    t.flush(); // the end of the run: the last report goes out
    expect(sent.at(-1)).toEqual([61, 0.3]);
    t.flush(); // nothing left
    expect(sent).toHaveLength(3);
  });
});

describe('progress throttle and the loss curve', () => {
  it('throttles the notifications, not the points: every point of the reports it merged goes out', () => {
    let now = 0;
    const sent: { step: number; points: TrainPoint[] }[] = [];
    const t = new ProgressThrottle((p, _loss, points) => sent.push({ step: p.step, points }), 40, () => now);
    const point = (epoch: number): TrainPoint => ({ epoch, step: epoch, loss: 1 / epoch, valLoss: null, accuracy: epoch / 300, elapsedMs: epoch, epochEnd: true, epochLoss: 1 / epoch });
    // 300 one-step epochs in 0.15 s: a report per epoch, each with its point
    for (let e = 1; e <= 300; e++) {
      now = e / 2;
      t.add({ ...at(e, 1 / e, e), epochEnd: true, points: [point(e)] });
    }
    t.flush();
    expect(sent.length).toBeLessThanOrEqual(5);
    const points = sent.flatMap((m) => m.points);
    expect(points.map((p) => p.epoch)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(points[299].accuracy).toBe(1);
  });
});

describe('nnlens.trainThreads', () => {
  it('is auto by default, a count from 1 to 256 when set (a numeric string too), and the default for anything else', () => {
    expect(readSettings({}).trainThreads).toBe('auto');
    expect(readSettings({ trainThreads: 2 }).trainThreads).toBe(2);
    expect(readSettings({ trainThreads: '3' }).trainThreads).toBe(3);
    expect(readSettings({ trainThreads: 'auto' }).trainThreads).toBe('auto');
    for (const bad of [0, -1, 1.5, 'many', null, 1000]) expect(readSettings({ trainThreads: bad }).trainThreads).toBe('auto');
    expect(readSettings({ trainThreads: 'x' }, readSettings({ trainThreads: 4 })).trainThreads).toBe(4);
  });
});
