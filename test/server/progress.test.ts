/** Training progress notifications: at most one per interval, losses in between averaged by steps. */
import { describe, expect, it } from 'vitest';
import type { TrainProgress } from '../../engine/train';
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
