/**
 * The decision boundary the training loop sends with its progress (engine/train/boundary.ts):
 * for a model with a 2-D input, the output over a grid of the plane at the current weights —
 * checked against the model written out by hand — with the data points; none for other models.
 */
import { describe, expect, it } from 'vitest';
import { PICTURE_SPACING, pictureDue, runTraining, STOP_PICTURE_MS, type DecisionBoundary, type TrainProgress } from '../../engine/index';
import { example, lowered, specDigits } from './helpers';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function collect(job: Parameters<typeof runTraining>[0]): { progress: TrainProgress[]; out: ReturnType<typeof runTraining> } {
  const progress: TrainProgress[] = [];
  const out = runTraining(job, (p) => progress.push(p));
  return { progress, out };
}

/** The largest difference between a 2-4-1 tanh/sigmoid network's picture and that network written
 * out by hand at the given weights, at the centre of every cell. */
function worstAgainstHand(b: DecisionBoundary, params: Record<string, ArrayLike<number>>): number {
  const { W1, b1, W2, b2 } = params;
  const y = (x0: number, x1: number) => {
    let z = b2[0];
    for (let h = 0; h < 4; h++) z += W2[h] * Math.tanh(W1[2 * h] * x0 + W1[2 * h + 1] * x1 + b1[h]);
    return sigmoid(z);
  };
  let worst = 0;
  for (let i = 0; i < b.size; i++) {
    for (let j = 0; j < b.size; j++) {
      const x0 = b.x[0] + ((j + 0.5) / b.size) * (b.x[1] - b.x[0]);
      const x1 = b.y[0] + ((i + 0.5) / b.size) * (b.y[1] - b.y[0]);
      worst = Math.max(worst, Math.abs(b.values[i * b.size + j] - y(x0, x1)));
    }
  }
  return worst;
}

describe('the decision boundary', () => {
  it('xor.nn: the first report and the last epoch’s end carry the output over the plane, equal to the network written out by hand', async () => {
    const { program, model, ctx } = await example('xor.nn');
    const { progress, out } = collect({ program, model: model.name, ctx, options: { epochs: 40 } });
    const ends = progress.filter((p) => p.epochEnd);
    expect(ends).toHaveLength(40);
    // at the interval (250 ms by default) and after the last epoch — not at every epoch's end,
    // which cost a tiny model's short epochs most of their time
    const pictures = progress.filter((p) => p.boundary !== undefined);
    expect(pictures[0]).toBe(progress[0]);
    expect(ends.at(-1)!.boundary).toBeDefined();
    expect(pictures.length).toBeLessThan(40);
    const b = ends.at(-1)!.boundary!;
    expect(b).toMatchObject({ kind: 'binary', outputs: 1, size: 40, epoch: 40, step: out.steps });
    expect(b.values).toHaveLength(40 * 40);
    // the four XOR points, inside the plane, with their labels
    expect(b.points.map((p) => [p.x, p.y, p.label])).toEqual([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]);
    expect(b.x[0]).toBeLessThan(0);
    expect(b.x[1]).toBeGreaterThan(1);
    // y = sigmoid(W2 @ tanh(W1 @ x + b1) + b2) at the centre of every cell, by hand, at the final weights
    expect(worstAgainstHand(b, out.params)).toBeLessThan(1e-4);
    // it changes as the model learns
    expect(pictures[0].boundary!.values).not.toEqual(b.values);
  });

  it('a stopped run’s last report carries the picture of the weights it kept, however soon the stop came', async () => {
    const { program, model, ctx } = await example('xor.nn');
    for (const stopAfter of [1, 7, 500]) {
      const progress: TrainProgress[] = [];
      let asked = 0;
      // a stop long before the 250 ms interval comes round again
      const out = runTraining({ program, model: model.name, ctx, options: { epochs: 1_000_000 } }, (p) => progress.push(p), () => ++asked > stopAfter);
      expect(out.reason).toBe('stopped');
      expect(out.steps).toBe(stopAfter);
      const last = progress.at(-1)!;
      expect(last.step).toBe(out.steps);
      expect(last.boundary).toMatchObject({ step: out.steps, epoch: out.stoppedInEpoch });
      expect(worstAgainstHand(last.boundary!, out.params)).toBeLessThan(1e-4);
    }
  });

  it('when a report carries a picture: the first, then spaced by the interval and by the picture’s own cost, the last epoch’s, and a cheap one at a stop', () => {
    const at = (now: number, lastEnd: number, lastCost: number, more: { lastEpoch?: boolean; stop?: boolean } = {}) =>
      pictureDue({ now, lastEnd, lastCost, interval: 250, lastEpoch: more.lastEpoch ?? false, stop: more.stop ?? false });
    // the first report, whatever it is
    expect(at(0, -Infinity, 0)).toBe(true);
    expect(at(0, -Infinity, 0, { stop: true })).toBe(true);
    // a cheap picture (2 ms): every 250 ms
    expect(at(1249, 1000, 2)).toBe(false);
    expect(at(1250, 1000, 2)).toBe(true);
    // a dear one (500 ms, a 2-512-512-1 network): not before 9 × 500 ms after it ended
    expect(PICTURE_SPACING).toBe(9);
    expect(at(1000 + 4499, 1000, 500)).toBe(false);
    expect(at(1000 + 4500, 1000, 500)).toBe(true);
    // the last epoch's end always has one; a stop only when pictures are cheap (the stop stays prompt)
    expect(at(1001, 1000, 500, { lastEpoch: true })).toBe(true);
    expect(at(1001, 1000, STOP_PICTURE_MS, { stop: true })).toBe(true);
    expect(at(1001, 1000, STOP_PICTURE_MS + 1, { stop: true })).toBe(false);
  });

  it('a wide 2-D network (2-512-512-1) trains on between its pictures: one picture takes as long as hundreds of steps', async () => {
    const { program, model } = await lowered(`data ring = circle(n: 400, noise: 0.1, seed: 3)
model Wide {
  input x: [2]
  target t: [1]
  h1 = dense(x, 512, tanh)
  h2 = dense(h1, 512, tanh)
  y = dense(h2, 1, sigmoid)
  loss C = binary_cross_entropy(y, t)
}
train Wide on ring { epochs: 1000  batch: 8 }`);
    const progress: TrainProgress[] = [];
    let asked = 0;
    const out = runTraining({ program, model: model.name, ctx: { baseDir: '.' } }, (p) => progress.push(p), () => ++asked > 1000);
    expect(out.steps).toBe(1000);
    // a picture of 1,600 points in float64 JS costs what hundreds of (wasm, batch 8) steps do: at a
    // fixed 250 ms nearly every report would carry one; spaced by 9× its cost, the first is the only
    // one in 1,000 steps, and the stop draws none (it would delay the stop)
    const pictures = progress.filter((p) => p.boundary);
    expect(progress.length).toBeGreaterThan(2);
    expect(pictures).toHaveLength(1);
    expect(pictures[0]).toBe(progress[0]);
    expect(progress.at(-1)!.boundary).toBeUndefined();
  });

  it('a 3-class spiral: one probability per class and cell, summing to 1, with class labels', async () => {
    const { program, model } = await lowered(`data swirl = spiral(n: 300, classes: 3, noise: 0.1, seed: 2)
model S {
  input x: [2]
  target t: [3]
  h = dense(x, 8, tanh)
  y = softmax(dense(h, 3))
  loss C = cross_entropy(y, t)
}
train S on swirl { epochs: 3  batch: 32 }`);
    const { progress } = collect({ program, model: model.name, ctx: { baseDir: '.' } });
    const b: DecisionBoundary = progress.filter((p) => p.epochEnd).at(-1)!.boundary!;
    expect(b).toMatchObject({ kind: 'classes', outputs: 3, size: 40 });
    for (let c = 0; c < b.size * b.size; c++) expect(b.values[3 * c] + b.values[3 * c + 1] + b.values[3 * c + 2]).toBeCloseTo(1, 4);
    expect(b.points).toHaveLength(300);
    expect(new Set(b.points.map((p) => p.label))).toEqual(new Set([0, 1, 2]));
    for (const p of b.points) {
      expect(p.x).toBeGreaterThan(b.x[0]);
      expect(p.x).toBeLessThan(b.x[1]);
      expect(p.y).toBeGreaterThan(b.y[0]);
      expect(p.y).toBeLessThan(b.y[1]);
    }
  });

  it('a model whose input is not a point of the plane has none (the digits)', async () => {
    const { program, model, ctx } = await specDigits();
    const { progress } = collect({ program, model: model.name, ctx, options: { epochs: 1 } });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.some((p) => p.boundary)).toBe(false);
  });
});
