/**
 * Optimizer steps against updates computed by hand in this file (float64, PyTorch's formulas
 * written out), on a model small enough to differentiate by hand:
 *   y = w·x + b,  C = (y − t)²,  L = mean over the batch
 *   ∂L/∂w = mean(2(y − t)·x),  ∂L/∂b = mean(2(y − t))
 * The batch is the whole data set, so the shuffle does not matter.
 */
import { describe, expect, it } from 'vitest';
import { Trainer, table, type OptimizerSpec } from '../../engine/index';
import { lowered } from './helpers';

const SOURCE = `
model Line {
  input x: [1]
  target t: [1]
  param w: [1] = constant(0.5)
  param b: [1] = constant(-0.25)
  y = w * x + b
  loss C = mse(y, t)
}
`;

const XS = [1, 2, -1];
const TS = [2, 3.5, 0.5];

function gradients(w: number, b: number): [number, number] {
  let gw = 0;
  let gb = 0;
  for (let i = 0; i < XS.length; i++) {
    const e = w * XS[i] + b - TS[i];
    gw += (2 * e * XS[i]) / XS.length;
    gb += (2 * e) / XS.length;
  }
  return [gw, gb];
}

async function trainer(optimizer: OptimizerSpec): Promise<Trainer> {
  const { program } = await lowered(SOURCE);
  const data = table(XS.map((x, i) => ({ x: [x], y: [TS[i]] })));
  return new Trainer({ program, model: 'Line', ctx: { baseDir: '.' }, data, options: { optimizer, batch: 3, epochs: 3, seed: 5 } });
}

function weights(t: Trainer): [number, number] {
  const p = t.currentParams();
  return [p.w[0], p.b[0]];
}

/** float32 weights after float32 arithmetic: a few ulps of the float64 hand calculation. */
function expectClose(got: [number, number], want: [number, number]): void {
  for (let i = 0; i < 2; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(2e-6 * Math.max(1, Math.abs(want[i])));
}

describe('optimizers against updates computed by hand', () => {
  it('sgd: p ← p − lr·g', async () => {
    const t = await trainer({ kind: 'sgd', lr: 0.1, momentum: 0 });
    let [w, b] = [0.5, -0.25];
    for (let s = 0; s < 3; s++) {
      const [gw, gb] = gradients(w, b);
      w -= 0.1 * gw;
      b -= 0.1 * gb;
      t.step();
      expectClose(weights(t), [w, b]);
    }
  });

  it('sgd with momentum: v ← μv + g, p ← p − lr·v (torch.optim.SGD: the first v is g)', async () => {
    const lr = 0.05;
    const mu = 0.9;
    const t = await trainer({ kind: 'sgd', lr, momentum: mu });
    let [w, b] = [0.5, -0.25];
    let [vw, vb] = [0, 0];
    const seen: number[] = [];
    for (let s = 0; s < 3; s++) {
      const [gw, gb] = gradients(w, b);
      vw = s === 0 ? gw : mu * vw + gw;
      vb = s === 0 ? gb : mu * vb + gb;
      w -= lr * vw;
      b -= lr * vb;
      t.step();
      expectClose(weights(t), [w, b]);
      seen.push(w);
    }
    // momentum made a difference: plain sgd would be elsewhere after three steps
    let [pw, pb] = [0.5, -0.25];
    for (let s = 0; s < 3; s++) {
      const [gw, gb] = gradients(pw, pb);
      pw -= lr * gw;
      pb -= lr * gb;
    }
    expect(Math.abs(seen[2] - pw)).toBeGreaterThan(1e-3);
  });

  it('adam: moments, bias correction 1 − βᵗ, eps outside the square root (torch.optim.Adam)', async () => {
    const [lr, b1, b2, eps] = [0.1, 0.8, 0.95, 1e-3];
    const t = await trainer({ kind: 'adam', lr, beta1: b1, beta2: b2, eps });
    let p = [0.5, -0.25];
    const m = [0, 0];
    const v = [0, 0];
    for (let s = 1; s <= 3; s++) {
      const g = gradients(p[0], p[1]);
      p = p.map((pi, i) => {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const mHat = m[i] / (1 - b1 ** s);
        const vHat = v[i] / (1 - b2 ** s);
        return pi - (lr * mHat) / (Math.sqrt(vHat) + eps);
      });
      t.step();
      expectClose(weights(t), [p[0], p[1]]);
    }
  });

  it('adam’s first step moves every weight by about lr against its gradient’s sign', async () => {
    const t = await trainer({ kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    const [gw, gb] = gradients(0.5, -0.25);
    t.step();
    const [w, b] = weights(t);
    expect(w - 0.5).toBeCloseTo(-0.01 * Math.sign(gw), 6);
    expect(b + 0.25).toBeCloseTo(-0.01 * Math.sign(gb), 6);
  });

  it('refuses hyper-parameters no step can use', async () => {
    await expect(trainer({ kind: 'sgd', lr: -1, momentum: 0 })).rejects.toThrow(/lr must be a positive number/);
    await expect(trainer({ kind: 'sgd', lr: 0.1, momentum: 1 })).rejects.toThrow(/momentum must be in \[0, 1\)/);
    await expect(trainer({ kind: 'adam', lr: 0.1, beta1: 0.9, beta2: 1.5, eps: 1e-8 })).rejects.toThrow(/beta2/);
  });
});
