/**
 * Training that blows up stops with reason 'diverged', a message naming the epoch, the step and
 * the first op that produced a non-finite value, and the last good weights.
 */
import { describe, expect, it } from 'vitest';
import { runTraining, type TrainProgress } from '../../engine/index';
import { EXPLODING_SOFTMAX, lowered } from './helpers';

const allFinite = (ps: Record<string, Float64Array>) => Object.values(ps).every((a) => a.every((v) => Number.isFinite(v)));

describe('divergence', () => {
  it('a hand-written softmax under too large an lr: "loss exploded", the op, the epoch and step, a hint to lower lr', async () => {
    const { program } = await lowered(EXPLODING_SOFTMAX);
    const seen: TrainProgress[] = [];
    const out = runTraining({ program, model: 'Soft', ctx: { baseDir: '.' } }, (p) => seen.push(p));
    expect(out.reason).toBe('diverged');
    const d = out.divergence!;
    expect(d.step).toBeGreaterThan(1);
    expect(d.step).toBe(out.steps + 1);
    expect(d.epoch).toBe(Math.ceil(d.step / 30));
    expect(out.message).toContain(`loss exploded at epoch ${d.epoch}, step ${d.step}`);
    expect(out.message).toMatch(/try a lower lr \(now 400\)$/);
    // the first non-finite value: the exp overflowing, or the log of a probability that underflowed
    expect(['exp', 'cross_entropy', '/']).toContain(d.op);
    expect(out.message).toContain(`${d.op} gives`);
    expect(d.range).not.toBeNull();
    expect(allFinite(out.params)).toBe(true);
    expect(out.steps).toBeLessThan(50 * 30);
  });

  it('log in a cross_entropy fed by something other than a softmax: names cross_entropy and log(0)', async () => {
    const { program } = await lowered(`
data d = table {
  [1, 0] -> [1, 0]
  [0, 1] -> [0, 1]
  [1, 1] -> [1, 0]
  [2, 1] -> [0, 1]
}
model Relu {
  input x: [2]
  target t: [2]
  param W: [2, 2] = constant(0.5)
  a = relu(W @ x)
  y = a / sum(a)
  loss C = cross_entropy(y, t)
}
train Relu on d {
  optimizer: sgd(lr: 5)
  batch: 2
  epochs: 100
  seed: 1
}
`);
    const out = runTraining({ program, model: 'Relu', ctx: { baseDir: '.' } });
    expect(out.reason).toBe('diverged');
    expect(out.divergence!.op).toBe('cross_entropy');
    expect(out.divergence!.cause).toMatch(/log\(y\) with y\[\d\] = 0 where t\[\d\] = 1: log\(0\) = -Infinity/);
    expect(out.message).toMatch(/^loss exploded at epoch \d+, step \d+: cross_entropy gives Infinity/);
    expect(allFinite(out.params)).toBe(true);
  });

  it.each([
    [2, 'at the epoch’s end (the weights are checked there)'],
    [1, 'at the next step'],
  ])('an update that makes a weight NaN (batch %i, found %s): the backward op is named and the weights before it kept', async (batch) => {
    const { program } = await lowered(`
data d = table {
  [1] -> [2]
  [2] -> [3]
}
model Kink {
  input x: [1]
  target t: [1]
  param w: [1] = zeros
  param v: [1] = constant(1)
  y = sqrt(w * w) + v * x
  loss C = mse(y, t)
}
train Kink on d {
  optimizer: sgd(lr: 0.1)
  batch: ${batch}
  epochs: 10
  seed: 1
}
`);
    const out = runTraining({ program, model: 'Kink', ctx: { baseDir: '.' } });
    expect(out.reason).toBe('diverged');
    // d/dw sqrt(w·w) at w = 0: ∞ · 0 = NaN, so the first update makes w NaN
    expect(out.divergence!.step).toBe(1);
    expect(out.divergence!.op).toBe('sqrt');
    expect(out.divergence!.cause).toMatch(/the derivative of sqrt at 0 is infinite, which made w NaN$/);
    expect(out.message).toMatch(/^loss exploded at epoch 1, step 1: the backward of sqrt gives /);
    // the weights before the bad update: the initial ones
    expect(Array.from(out.params.w)).toEqual([0]);
    expect(Array.from(out.params.v)).toEqual([1]);
  });

  it('a loss that is not finite at the initial weights says so (no lr hint)', async () => {
    const { program } = await lowered(`
data d = table {
  [0, 1] -> [1]
}
model Log {
  input x: [2]
  target t: [1]
  param w: [1, 2] = zeros
  loss C = sum(log(x) * w) + mse(w @ x, t)
}
train Log on d {
  optimizer: sgd(lr: 0.1)
  batch: 1
  epochs: 3
}
`);
    const out = runTraining({ program, model: 'Log', ctx: { baseDir: '.' } });
    expect(out.reason).toBe('diverged');
    expect(out.steps).toBe(0);
    expect(out.message).toMatch(/^the loss is not finite at the first step \(epoch 1, step 1\): log gives -Infinity .*log\(0\) = -Infinity/);
    expect(out.message).not.toMatch(/lower lr/);
    expect(Array.from(out.params.w)).toEqual([0, 0]);
    expect(out.divergence!.op).toBe('log');
  });
});
