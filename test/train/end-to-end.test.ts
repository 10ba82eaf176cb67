/**
 * What a run reports as it goes, without a second pass over the data: the running epoch loss and
 * accuracy (each batch at the weights of its own step), one point of the loss curve per epoch (or
 * per N steps of long epochs), the data handed to the worker without a copy, the threads chosen
 * for a model's large products (with the same numbers as one thread), and a loss that rises.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseThreads,
  countCorrect,
  largestProductMacs,
  pointEvery,
  Rng,
  runTraining,
  trainInWorker,
  Trainer,
  wasmBackend,
  wasmThreadsSupported,
  type Dataset,
  type TrainPoint,
  type TrainProgress,
} from '../../engine/index';
import { example, lowered, ROOT } from './helpers';

const WORKER = join(ROOT, 'out/train-worker.js');

/** A 784-128-10 relu network: its first product is 16·784·128 ≈ 1.6 million multiply-adds. */
const WIDE = `
model Wide {
  input  x: [784]
  target t: [10]
  param W1: [128, 784] = he
  param b1: [128]      = zeros
  param W2: [10, 128]  = glorot
  param b2: [10]       = zeros
  a1 = relu(W1 @ x + b1)
  y  = softmax(W2 @ a1 + b2)
  loss C = cross_entropy(y, t)
}
`;

function wideData(n: number): Dataset {
  const rng = new Rng(5);
  const x = Float64Array.from({ length: n * 784 }, () => rng.normal());
  const y = new Float64Array(n * 10);
  for (let e = 0; e < n; e++) y[e * 10 + rng.int(10)] = 1;
  return { xShape: [784], yShape: [10], n, oneHot: true, x, y };
}

describe('metrics from the steps themselves', () => {
  it('without a split, an epoch’s accuracy is its batches’ right answers at the weights they were stepped with', async () => {
    // xor: 4 examples, batch 4 — each epoch is one step, so its running accuracy is the accuracy
    // of the weights the epoch started with, which Trainer.evaluate('training') measures apart
    const { program, model, ctx } = await example('byhand.nn');
    const epochs = 60;
    const before: number[] = [];
    const t = new Trainer({ program, model: model.name, ctx, options: { gradients: 'auto', epochs } });
    for (let e = 0; e < epochs; e++) {
      before.push(t.evaluate('training')!.accuracy!);
      t.beginEpoch();
      while (!t.epochDone) t.step();
    }
    const reported: number[] = [];
    const out = runTraining({ program, model: model.name, ctx, options: { gradients: 'auto', epochs } }, (p) => {
      if (p.epochEnd) reported.push(p.accuracy!);
    });
    expect(reported).toEqual(before);
    expect(out.finalAccuracy).toBe(before[epochs - 1]);
  });

  it('an epoch’s loss is the mean of its batch losses, weighted by their sizes', async () => {
    const { program, model, ctx } = await example('training.nn'); // 320 training examples, batch 32
    const t = new Trainer({ program, model: model.name, ctx, options: { batch: 48, epochs: 2 } }); // last batch 32
    t.beginEpoch();
    let sum = 0;
    let n = 0;
    while (!t.epochDone) {
      const loss = t.step();
      sum += loss * t.batchSize;
      n += t.batchSize;
    }
    expect(n).toBe(320);
    expect(t.epochLoss).toBeCloseTo(sum / n, 12);
    const ends: TrainPoint[] = [];
    runTraining({ program, model: model.name, ctx, options: { batch: 48, epochs: 1 } }, (p) => ends.push(...(p.points ?? []).filter((q) => q.epochEnd)));
    expect(ends[0].epochLoss).toBeCloseTo(sum / n, 12);
  });

  it('the validation split alone is evaluated at an epoch’s end (its loss and accuracy)', async () => {
    const { program, model, ctx } = await example('training.nn'); // split 0.8: 80 validation examples
    const t = new Trainer({ program, model: model.name, ctx, options: { epochs: 1 } });
    const seen = new Set<number>();
    const forward = t.program.forward.bind(t.program);
    t.program.forward = () => {
      seen.add(t.program.batchSize);
      return forward();
    };
    t.beginEpoch();
    while (!t.epochDone) t.step();
    seen.clear();
    const r = t.evaluate('validation')!;
    expect(t.plan.validationExamples).toBe(80);
    // 80 validation examples in batches of 32: 32, 32, 16 — nothing of the 320 training ones
    expect([...seen].sort((a, b) => a - b)).toEqual([16, 32]);
    expect(r.accuracy).not.toBeNull();
  });
});

describe('the loss curve’s points', () => {
  it('a 300-epoch run has one point per epoch, whatever the reports; fewer, longer epochs get one every N steps', async () => {
    const { program, model, ctx } = await example('byhand.nn');
    const points: TrainPoint[] = [];
    let reports = 0;
    runTraining({ program, model: model.name, ctx, options: { epochs: 300 } }, (p: TrainProgress) => {
      reports++;
      points.push(...(p.points ?? []));
    });
    expect(points.map((p) => p.epoch)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(points.every((p) => p.epochEnd && p.step === p.epoch)).toBe(true);
    expect(reports).toBe(300);
    // the rule: about 500 points a run
    expect(pointEvery(300, 1)).toBe(1);
    expect(pointEvery(20, 57)).toBe(3); // 25 points an epoch would be every 2.3 steps: 19 of 3
    expect(pointEvery(1, 10_000)).toBe(20);
    expect(pointEvery(2000, 57)).toBe(57);
    const { program: p2, model: m2, ctx: c2 } = await example('training.nn'); // 10 steps an epoch
    const pts: TrainPoint[] = [];
    runTraining({ program: p2, model: m2.name, ctx: c2, options: { epochs: 3 } }, (p) => pts.push(...(p.points ?? [])));
    expect(pts.map((p) => p.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1)); // 3 epochs: every step
    expect(pts.filter((p) => p.epochEnd).map((p) => p.step)).toEqual([10, 20, 30]);
    expect(pts.filter((p) => p.valLoss !== null).map((p) => p.step)).toEqual([10, 20, 30]);
  });
});

describe('the worker', () => {
  it('gets the data it is handed without a copy (the arrays are moved) and trains as this thread does', async () => {
    if (!existsSync(WORKER)) throw new Error('out/train-worker.js is missing: run `npm run build`');
    const { program, model, ctx } = await example('training.nn');
    const here = runTraining({ program, model: model.name, ctx, options: { epochs: 5 } });
    const { loadData } = await import('../../engine/index');
    const decl = program.data.find((d) => d.name === program.trains[0].data)!;
    const data = loadData(decl.spec, ctx);
    const points: TrainPoint[] = [];
    const out = await trainInWorker(
      { program, model: model.name, ctx, options: { epochs: 5 }, loadedData: data },
      { workerScript: WORKER, onProgress: (p) => points.push(...(p.points ?? [])) },
    );
    expect(data.x.length).toBe(0); // transferred: detached here
    expect(data.y.length).toBe(0);
    for (const q of model.params) expect(Array.from(out.params[q.name])).toEqual(Array.from(here.params[q.name]));
    expect(points.filter((p) => p.epochEnd).map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('threads', () => {
  it('auto: one thread for the lecture’s network and the tiny one, every core (up to 4) for a product of a million multiply-adds, one on a busy machine', async () => {
    const w1 = await lowered(`model W1 {\n input x: [256]\n target t: [10]\n param W1: [30, 256]\n param W2: [10, 30]\n y = softmax(W2 @ sigmoid(W1 @ x))\n loss C = cross_entropy(y, t)\n}\n`);
    const wide = await lowered(WIDE);
    expect(largestProductMacs(w1.model, 32)).toBe(32 * 256 * 30);
    expect(largestProductMacs(wide.model, 16)).toBe(16 * 784 * 128);
    expect(chooseThreads('auto', w1.model, 32, 2, 0)).toBe(1);
    expect(chooseThreads('auto', wide.model, 16, 2, 0)).toBe(2);
    expect(chooseThreads('auto', wide.model, 16, 16, 0.5)).toBe(4);
    expect(chooseThreads('auto', wide.model, 16, 1, 0)).toBe(1);
    expect(chooseThreads('auto', wide.model, 8, 2, 0)).toBe(1); // 0.8 million
    expect(chooseThreads(3, w1.model, 32, 2, 0)).toBe(3);
    expect(chooseThreads(undefined, wide.model, 16, 2, 1.2)).toBe(2);
    // a busy machine: its cores are taken
    expect(chooseThreads('auto', wide.model, 16, 2, 2.5)).toBe(1);
    expect(chooseThreads(2, wide.model, 16, 2, 9)).toBe(2);
  });

  it.skipIf(!wasmThreadsSupported())('two threads train to the same weights, bit for bit, as one', async () => {
    const { program } = await lowered(WIDE);
    const job = { program, model: 'Wide', ctx: { baseDir: '.' }, data: wideData(96), options: { batch: 16, epochs: 2, seed: 3 } };
    const one = runTraining({ ...job, options: { ...job.options, threads: 1 } });
    const be = wasmBackend({ threads: 2 });
    for (let i = 0; i < 500 && !be.helpersReady; i++) await new Promise((r) => setTimeout(r, 20)); // the helper starts
    const two = runTraining(job, undefined, undefined, { backend: be });
    expect(be.parallelProducts).toBeGreaterThan(0);
    be.dispose();
    for (const name of ['W1', 'b1', 'W2', 'b2']) expect(Array.from(two.params[name])).toEqual(Array.from(one.params[name]));
    const auto = new Trainer({ ...job, options: { ...job.options, threads: 2 } });
    expect(auto.plan.threads).toBe(2);
    expect(auto.plan.backend).toMatch(/^wasm-simd(-fma)?-f32 \(2 threads\)$/);
    auto.dispose();
  });
});

describe('a loss that rises', () => {
  it('is reported when the last epoch’s loss is 10× the lowest epoch’s (every number finite)', async () => {
    // C = (w·1 − 0)², dC/dw = 2w: with lr 1.5 each step makes w → −2w, the loss ×4
    const { program } = await lowered(`
data D = table {
  [1] -> [0]
}
model Up {
  input x: [1]
  target t: [1]
  param w: [1, 1] = constant(0.001)
  loss C = mse(w @ x, t)
}
train Up on D {
  optimizer: sgd(lr: 1.5)
  epochs: 6
}
`);
    const out = runTraining({ program, model: 'Up', ctx: { baseDir: '.' } });
    expect(out.reason).toBe('completed');
    // epoch e's loss is that of w = 0.001·(−2)^(e−1): 1e-6 · 4^(e−1)
    expect(out.finalLoss!).toBeCloseTo(1e-6 * 4 ** 5, 9);
    expect(out.lossRose).toEqual({ bestEpoch: 1, bestLoss: expect.closeTo(1e-6, 12), finalEpoch: 6, finalLoss: out.finalLoss });
    const calm = runTraining({ program, model: 'Up', ctx: { baseDir: '.' }, options: { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 } } });
    expect(calm.lossRose).toBeUndefined();
  });
});
