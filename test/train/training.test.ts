/**
 * Training runs as a user starts them: the examples' train blocks (XOR with automatic and
 * hand-written gradients), the data sources (spiral, circle, iris csv) to sensible accuracy, the
 * split, the last batch, stopping, and the seeds that make a run reproducible.
 */
import { describe, expect, it } from 'vitest';
import { Trainer, jsBackend, runTraining, spiral, type TrainProgress } from '../../engine/index';
import { example, specDigits, lowered } from './helpers';

describe('XOR', () => {
  it('automatic gradients (examples/byhand.nn with gradients: auto) reach a loss below 0.05', async () => {
    const { program, model, ctx } = await example('byhand.nn');
    const out = runTraining({ program, model: model.name, ctx, options: { gradients: 'auto' } });
    expect(out.reason).toBe('completed');
    expect(out.epochs).toBe(2000);
    expect(out.steps).toBe(2000); // 4 examples, batch 4
    expect(out.finalLoss!).toBeLessThan(0.05);
    expect(out.finalAccuracy).toBe(1); // binary 0/1 targets, measured on the training set
    expect(out.finalValLoss).toBeNull();
  });

  it('manual gradients (examples/byhand.nn as written: the backward block) reach a loss below 0.05', async () => {
    const { program, model, ctx } = await example('byhand.nn');
    expect(program.trains[0].options.gradients).toBe('manual');
    const out = runTraining({ program, model: model.name, ctx });
    expect(out.reason).toBe('completed');
    expect(out.finalLoss!).toBeLessThan(0.05);
    expect(out.finalAccuracy).toBe(1);
  });

  it('adam with binary cross-entropy (examples/xor.nn’s model) reaches a loss below 0.05', async () => {
    // seed 1 starts in a local minimum (one point stays at p = 0.5, loss 0.347 — torch.optim.Adam
    // from the same weights ends at the same loss), which is why examples/xor.nn uses seed 4; seed 0
    // learns it too
    const { program, model, ctx } = await example('xor.nn');
    const out = runTraining({ program, model: model.name, ctx, options: { seed: 0 } });
    expect(out.reason).toBe('completed');
    expect(out.finalLoss!).toBeLessThan(0.05);
    expect(out.finalAccuracy).toBe(1);
  });

  it('a correct backward block trains exactly like the automatic gradients; a wrong line does not', async () => {
    const { program, model, ctx } = await example('byhand.nn');
    const run = (gradients: 'auto' | 'manual', p = program) =>
      runTraining({ program: p, model: model.name, ctx, options: { gradients, epochs: 50 } }).params;
    const auto = run('auto');
    const manual = run('manual');
    for (const q of model.params)
      for (let i = 0; i < q.size; i++) expect(Math.abs(manual[q.name][i] - auto[q.name][i])).toBeLessThan(1e-4);
    // the same file with the lecture's classic slip: σ'(z) written as a1 instead of a1(1 − a1)
    const { readFileSync } = await import('node:fs');
    const { resolve } = await import('node:path');
    const text = readFileSync(resolve(ctx.baseDir, 'byhand.nn'), 'utf8').replace('grad z1 = grad a1 * a1 * (1 - a1)', 'grad z1 = grad a1 * a1');
    const wrong = await lowered(text, resolve(ctx.baseDir, 'byhand-wrong.nn'));
    const bad = run('manual', wrong.program);
    const differs = model.params.some((q) => Array.from(bad[q.name]).some((v, i) => Math.abs(v - auto[q.name][i]) > 1e-3));
    expect(differs).toBe(true);
  });
});

describe('data sources train to sensible accuracy', () => {
  it('spiral (3 classes, one-hot): validation accuracy above 90%', async () => {
    const { program } = await lowered(`
data swirl = spiral(n: 600, classes: 3, noise: 0.2, seed: 4)
model Swirl {
  input x: [2]
  target t: [3]
  h1 = dense(x, 32, tanh)
  h2 = dense(h1, 32, tanh)
  y = softmax(dense(h2, 3))
  loss C = cross_entropy(y, t)
}
train Swirl on swirl {
  optimizer: adam(lr: 0.01)
  batch: 32
  epochs: 150
  split: 0.8
  seed: 1
}
`);
    const out = runTraining({ program, model: 'Swirl', ctx: { baseDir: '.' } });
    expect(out.reason).toBe('completed');
    expect(out.finalAccuracy!).toBeGreaterThan(0.9);
    expect(out.finalValLoss!).toBeLessThan(0.4);
  });

  it('circle (examples/training.nn: sgd with momentum, dense layers, 0/1 labels): validation accuracy above 90%', async () => {
    const { program, model, ctx } = await example('training.nn');
    const out = runTraining({ program, model: model.name, ctx });
    expect(out.reason).toBe('completed');
    expect(out.finalAccuracy!).toBeGreaterThan(0.9);
  });

  it('iris from a csv file (examples/data.nn): validation accuracy above 90%', async () => {
    const { program, ctx } = await example('data.nn');
    const out = runTraining({ program, model: 'Iris', ctx });
    expect(out.reason).toBe('completed');
    expect(out.finalAccuracy!).toBeGreaterThan(0.9);
  });

  it('the lecture’s digits (the spec’s §1 listing as written): training loss falls below 0.3 and validation accuracy above 85%', async () => {
    const { program, model, ctx } = await specDigits();
    const epochs: TrainProgress[] = [];
    const out = runTraining({ program, model: model.name, ctx }, (p) => p.epochEnd && epochs.push(p));
    expect(out.reason).toBe('completed');
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(epochs[19].step).toBe(20 * 57); // 1800 training examples, batch 32: 56 full batches and one of 8
    expect(out.finalLoss!).toBeLessThan(0.3);
    expect(epochs[0].epochLoss!).toBeGreaterThan(1.5);
    expect(out.finalAccuracy!).toBeGreaterThan(0.85);
    expect(out.finalValLoss).toBe(epochs[19].valLoss);
  });
});

describe('the loop', () => {
  it('plans 90/10, keeps a short last batch, and reports each epoch’s end', async () => {
    const { program, model, ctx } = await specDigits();
    const t = new Trainer({ program, model: model.name, ctx });
    expect(t.plan).toMatchObject({
      trainExamples: 1800,
      validationExamples: 200,
      stepsPerEpoch: 57,
      lastBatch: 8,
      accuracy: 'one-hot',
      evaluatedOn: 'validation',
      outputName: 'y',
      parameters: 8020,
    });
    const sizes: number[] = [];
    t.beginEpoch();
    while (!t.epochDone) {
      t.step();
      sizes.push(t.batchSize);
    }
    expect(sizes.length).toBe(57);
    expect(sizes.slice(0, 56).every((s) => s === 32)).toBe(true);
    expect(sizes[56]).toBe(8);
  });

  it('is reproducible from the seed, and another seed gives other weights', async () => {
    const { program, model, ctx } = await example('training.nn');
    const run = (seed: number) => runTraining({ program, model: model.name, ctx, options: { epochs: 3, seed } });
    const a = run(7);
    const b = run(7);
    const c = run(8);
    for (const q of model.params) expect(Array.from(b.params[q.name])).toEqual(Array.from(a.params[q.name]));
    expect(Array.from(c.params[model.params[0].name])).not.toEqual(Array.from(a.params[model.params[0].name]));
  });

  it('stops before the next step when asked, with the weights after the last finished step', async () => {
    const { program, model, ctx } = await specDigits();
    let polls = 0;
    const out = runTraining({ program, model: model.name, ctx }, undefined, () => ++polls > 7);
    expect(out.reason).toBe('stopped');
    expect(out.steps).toBe(7);
    expect(out.epochs).toBe(0);
    // the same seven steps, taken one by one
    const t = new Trainer({ program, model: model.name, ctx });
    for (let s = 0; s < 7; s++) t.step();
    const want = t.currentParams();
    for (const q of model.params) expect(Array.from(out.params[q.name])).toEqual(Array.from(want[q.name]));
  });

  it('trains the same on the plain JavaScript backend (the fallback without WebAssembly SIMD)', async () => {
    const { program, model, ctx } = await specDigits();
    const job = { program, model: model.name, ctx, options: { epochs: 2 } };
    const wasm = runTraining(job);
    const js = runTraining(job, undefined, undefined, { backend: jsBackend('f32') });
    expect(js.reason).toBe('completed');
    expect(Math.abs(js.finalLoss! - wasm.finalLoss!)).toBeLessThan(1e-4);
    expect(Math.abs(js.finalValLoss! - wasm.finalValLoss!)).toBeLessThan(1e-4);
    for (const q of model.params)
      for (let i = 0; i < q.size; i++) expect(Math.abs(js.params[q.name][i] - wasm.params[q.name][i])).toBeLessThan(1e-4);
  });

  it('starts from given weights, and refuses ones of the wrong size', async () => {
    const { program, model, ctx } = await example('xor.nn');
    const first = runTraining({ program, model: model.name, ctx, options: { epochs: 200 } });
    const more = runTraining({ program, model: model.name, ctx, options: { epochs: 1 }, initialParams: first.params });
    expect(more.finalLoss!).toBeLessThan(0.5 * runTraining({ program, model: model.name, ctx, options: { epochs: 1 } }).finalLoss!);
    expect(() => runTraining({ program, model: model.name, ctx, initialParams: { ...first.params, W1: new Float64Array(3) } })).toThrow(
      /3 numbers for W1 \[4, 2\]/,
    );
  });

  it('says what is wrong with a job that cannot run', async () => {
    const { program, ctx } = await example('xor.nn');
    expect(() => runTraining({ program, model: 'Nope', ctx })).toThrow(/no model named Nope/);
    expect(() => runTraining({ program, model: 'Xor', ctx, options: { batch: 0 } })).toThrow(/batch must be a positive integer/);
    expect(() => runTraining({ program, model: 'Xor', ctx, options: { gradients: 'manual' } })).toThrow(/needs a backward block/);
    const data = spiral(30, 3, 0, 1);
    expect(() => runTraining({ program, model: 'Xor', ctx, data })).toThrow(/target t is \[1\] but the data's labels are \[3\]/);
  });
});
