/**
 * The engine side of the benchmark: a workload's `.nn` model, analysed and lowered by the
 * language layer, trained by the real trainer (engine/train: `Trainer`, as `nnlens train` and the
 * editor run it) on a synthetic data set of 64 batches. One step is `Trainer.step()`: gather the
 * next batch of the epoch's shuffled order into the program's input and target, forward, backward,
 * keep the weights as the last good ones, optimizer update (SGD with the backend's `axpby`) —
 * allocation-free. Every 64 steps a new epoch reshuffles the order.
 */
import { analyzeText } from '../language/index';
import { Trainer } from '../engine/train/trainer';
import { bestBackend, type Backend } from '../engine/kernels/index';
import { Rng } from '../engine/rng';
import type { Dataset } from '../engine/data/types';
import type { Workload } from './workloads';

export interface EngineRunner {
  /** The backend's name (e.g. wasm-simd-f32). */
  backend: string;
  /** Threads its large products use. */
  threads: number;
  /** Releases the backend's helper threads. */
  dispose(): void;
  /** One training step; returns nothing, allocates nothing. */
  step(): void;
  /** The loss of the last step. */
  loss(): number;
}

/** Batches in the synthetic data set (one epoch). */
export const BATCHES_PER_EPOCH = 64;

/** Random normal inputs; one-hot targets (cross-entropy) or normal targets (mse). */
export function syntheticData(w: Workload): Dataset {
  const n = BATCHES_PER_EPOCH * w.batch;
  const dx = w.layers[0];
  const k = w.layers[w.layers.length - 1];
  const rng = new Rng(1);
  const x = Float64Array.from({ length: n * dx }, () => rng.normal());
  const y = new Float64Array(n * k);
  if (w.loss === 'ce') for (let e = 0; e < n; e++) y[e * k + rng.int(k)] = 1;
  else for (let i = 0; i < y.length; i++) y[i] = rng.normal();
  return { xShape: [dx], yShape: [k], n, oneHot: w.loss === 'ce', x, y };
}

export async function engineRunner(w: Workload, backend: Backend = bestBackend('f32')): Promise<EngineRunner> {
  const threads = (backend as { threads?: number }).threads ?? 1;
  const analysis = await analyzeText(w.source, { uri: `bench-${w.id}.nn` });
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    throw new Error(`${w.id}: the model does not compile: ${errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
  }
  const model = analysis.program.models.find((m) => m.name === w.model);
  if (!model) throw new Error(`${w.id}: model ${w.model} was not lowered`);
  const trainer = new Trainer(
    {
      program: analysis.program,
      model: model.name,
      ctx: { baseDir: '.' },
      data: syntheticData(w),
      options: {
        optimizer: { kind: 'sgd', lr: w.lr, momentum: 0 },
        batch: w.batch,
        epochs: 1,
        split: 1,
        seed: 0,
        gradients: 'auto',
      },
    },
    { backend },
  );
  return {
    backend: backend.name,
    threads,
    dispose: () => backend.dispose?.(),
    step() {
      trainer.step();
    },
    loss: () => trainer.lastLoss,
  };
}

/** Runs whole steps for about `seconds` (after `runner` was warmed up); returns steps per second. */
export function runFor(runner: EngineRunner, seconds: number): number {
  let steps = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  for (;;) {
    for (let i = 0; i < 8; i++) runner.step();
    steps += 8;
    const now = performance.now();
    if (now >= deadline) return (steps * 1000) / (now - start);
  }
}

/** The engine's training speed on a workload: the median of `repeats` timed runs. */
export async function engineStepsPerSecond(w: Workload, seconds = 1, repeats = 3): Promise<number> {
  const runner = await engineRunner(w);
  runFor(runner, 0.3); // warm up: let V8 optimise the kernels
  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) rates.push(runFor(runner, seconds));
  return median(rates);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
