/**
 * The float32 training step computes the gradients the float64 engine computes (the one the
 * gradient checker verifies against finite differences), within float32 accuracy — through every
 * fast path of the training program: SIMD sigmoid/tanh/exp/relu and their backward passes, bias
 * rows, softmax with the fused cross-entropy, manual gradients.
 */
import { describe, expect, it } from 'vitest';
import {
  Rng,
  Trainer,
  bestBackend,
  compileModel,
  initParams,
  jsBackend,
  lossAndGrads,
  type Batch,
  type IRModel,
  type IRProgram,
} from '../../engine/index';
import { example, lowered } from './helpers';

function randomBatch(model: IRModel, n: number, seed: number, oneHot: boolean): Batch {
  const rng = new Rng(seed);
  const data: Batch['data'] = {};
  for (const d of model.inputs) data[d.name] = Float64Array.from({ length: n * d.shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  for (const d of model.targets) {
    const k = d.shape.reduce((a, b) => a * b, 1);
    const t = new Float64Array(n * k);
    if (oneHot) for (let e = 0; e < n; e++) t[e * k + rng.int(k)] = 1;
    else for (let i = 0; i < t.length; i++) t[i] = rng.uniform();
    data[d.name] = t;
  }
  return { n, data };
}

/** Float32 gradients (the training backend) vs float64 (the engine's exact path). */
function compare(program: IRProgram, model: IRModel, batch: Batch, seed = 3, manual = false): void {
  const params = initParams(model, seed);
  const p32 = compileModel(program, model, bestBackend('f32'));
  p32.setBatch(batch);
  p32.setParams(params);
  const loss32 = p32.forward();
  if (manual) p32.manualGradients();
  else p32.backward();
  let loss64: number;
  let grads64: Record<string, Float64Array>;
  if (manual) {
    const p64 = compileModel(program, model, jsBackend('f64'));
    p64.setBatch(batch);
    p64.setParams(params);
    loss64 = p64.forward();
    p64.manualGradients();
    grads64 = Object.fromEntries(model.params.map((q) => [q.name, Float64Array.from(p64.grads[q.name])]));
  } else {
    ({ loss: loss64, grads: grads64 } = lossAndGrads(program, model, params, batch));
  }
  expect(Math.abs(loss32 - loss64)).toBeLessThan(1e-5 * Math.max(1, Math.abs(loss64)));
  for (const q of model.params) {
    const g32 = p32.grads[q.name];
    const g64 = grads64[q.name];
    let scale = 0;
    for (let i = 0; i < g64.length; i++) scale = Math.max(scale, Math.abs(g64[i]));
    expect(scale, `${q.name} has a gradient`).toBeGreaterThan(0);
    for (let i = 0; i < g64.length; i++) {
      const err = Math.abs(g32[i] - g64[i]);
      if (!(err <= 2e-5 * scale + 1e-6 * Math.abs(g64[i]))) throw new Error(`${q.name}[${i}]: float32 ${g32[i]}, float64 ${g64[i]} (scale ${scale})`);
    }
  }
}

describe('float32 gradients equal the float64 engine’s', () => {
  it('the lecture’s network (sigmoid, bias rows, softmax + cross-entropy), with a short last batch', async () => {
    const { program, model } = await example('digits.nn');
    expect(bestBackend('f32').dtype).toBe('f32');
    compare(program, model, randomBatch(model, 32, 1, true));
    compare(program, model, randomBatch(model, 7, 2, true));
  });

  it('tanh, relu, exp, a hand-written softmax, bias on either side, mse and binary cross-entropy', async () => {
    const { program, model } = await lowered(`
model Mixed {
  input x: [5]
  target t: [3]
  param W1: [6, 5] = glorot
  param b1: [6] = uniform(-0.5, 0.5)
  param W2: [6, 6] = he
  param b2: [6] = uniform(-0.5, 0.5)
  param W3: [3, 6] = glorot
  param b3: [3] = uniform(-0.1, 0.1)
  h1 = tanh(W1 @ x + b1)
  h2 = relu(b2 + W2 @ h1)
  z = W3 @ h2 + b3
  e = exp(z)
  p = e / sum(e)
  s = sigmoid(z)
  loss C = cross_entropy(p, t) + mse(z, t) + binary_cross_entropy(s, t)
}
`);
    compare(program, model, randomBatch(model, 16, 4, true));
    compare(program, model, randomBatch(model, 5, 5, true));
  });

  it('a softmax probability that underflows in float32: the fused loss and gradient stay exact and finite', async () => {
    const { program, model } = await lowered(`
model Wide {
  input x: [2]
  target t: [3]
  param W: [3, 2] = constant(1)
  y = softmax(W @ x)
  loss C = cross_entropy(y, t)
}
`);
    const p = compileModel(program, model, bestBackend('f32'));
    // example 0: logits (60, 60, −60): the probability of class 2 is e^−120, 0 in float32
    p.setBatch({ n: 2, data: { x: [30, 30, 0.5, -0.25], t: [0, 0, 1, 1, 0, 0] } });
    p.setParams({ W: [1, 1, 1, 1, -1, -1] });
    const loss = p.forward();
    p.backward();
    const want = lossAndGrads(program, model, { W: Float64Array.from([1, 1, 1, 1, -1, -1]) }, { n: 2, data: { x: [30, 30, 0.5, -0.25], t: [0, 0, 1, 1, 0, 0] } });
    expect(Number.isFinite(loss)).toBe(true);
    expect(Math.abs(loss - want.loss)).toBeLessThan(1e-4 * want.loss);
    expect(want.loss).toBeGreaterThan(60); // (120 + log 2 + the second example's loss) / 2
    for (let i = 0; i < 6; i++) expect(Math.abs(p.grads.W[i] - want.grads.W[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(want.grads.W[i])));
  });

  it('manual gradients (the backward block) on the float32 path', async () => {
    const { program, model } = await example('byhand.nn');
    compare(program, model, randomBatch(model, 4, 6, false), 1, true);
  });

  it('a training step’s gradient is the float64 gradient on its batch', async () => {
    const { program, model, ctx } = await example('digits.nn');
    // one batch holding the whole (small) training split: its examples, in any order, are known
    const t = new Trainer({ program, model: model.name, ctx, options: { batch: 10_000, split: 0.9 } });
    const initial = t.currentParams();
    t.step();
    const grads32 = Object.fromEntries(model.params.map((q) => [q.name, Float64Array.from(t.program.grads[q.name])]));
    // the training split, as the trainer split it
    const { loadData, splitData } = await import('../../engine/index');
    const spec = program.data.find((d) => d.name === program.trains[0].data)!.spec;
    const { train } = splitData(loadData(spec, ctx), 0.9, t.options.seed);
    const { grads } = lossAndGrads(program, model, initial, { n: train.n, data: { x: train.x, t: train.y } });
    for (const q of model.params) {
      const scale = grads[q.name].reduce((m, g) => Math.max(m, Math.abs(g)), 0);
      for (let i = 0; i < q.size; i++) expect(Math.abs(grads32[q.name][i] - grads[q.name][i])).toBeLessThan(2e-5 * scale);
    }
  });
});
