/**
 * The engine side of the benchmark: a workload's `.nn` model, analysed and lowered by the
 * language layer, compiled by the executor (`compileModel`) over the fastest float32 backend,
 * trained on one fixed synthetic batch. One step = forward + backward + SGD update
 * (p ← p − lr·∂L/∂p, L the batch mean, with the backend's `axpby` when it has one),
 * allocation-free.
 */
import { analyzeText } from '../language/index';
import { compileModel } from '../engine/exec/program';
import { initParam } from '../engine/init';
import { bestBackend, type Backend } from '../engine/kernels/index';
import { Rng } from '../engine/rng';
import type { Workload } from './workloads';

export interface EngineRunner {
  /** The backend's name (e.g. wasm-simd-f32). */
  backend: string;
  /** One training step; returns nothing, allocates nothing. */
  step(): void;
  /** The loss of the current parameters on the batch (runs a forward pass). */
  loss(): number;
}

export async function engineRunner(w: Workload, backend: Backend = bestBackend('f32')): Promise<EngineRunner> {
  const analysis = await analyzeText(w.source, { uri: `bench-${w.id}.nn` });
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    throw new Error(`${w.id}: the model does not compile: ${errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
  }
  const model = analysis.program.models.find((m) => m.name === w.model);
  if (!model) throw new Error(`${w.id}: model ${w.model} was not lowered`);
  const p = compileModel(analysis.program, model, backend);
  p.setBatchSize(w.batch);

  for (const param of model.params) initParam(param, 0, p.params[param.name]);
  const rng = new Rng(1);
  const x = p.data[model.inputs[0].name];
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const t = p.data[model.targets[0].name];
  const k = w.layers[w.layers.length - 1];
  if (w.loss === 'ce') {
    for (let e = 0; e < w.batch; e++) t[e * k + rng.int(k)] = 1;
  } else {
    for (let i = 0; i < t.length; i++) t[i] = rng.normal();
  }

  const pairs = model.params.map((q) => [p.params[q.name], p.grads[q.name]] as const);
  const lr = w.lr;
  const axpby = backend.axpby?.bind(backend);
  return {
    backend: backend.name,
    step() {
      p.forward();
      p.backward();
      for (let j = 0; j < pairs.length; j++) {
        const [v, g] = pairs[j];
        if (axpby) axpby(v.length, -lr, g, 0, 1, v, 0);
        else for (let i = 0; i < v.length; i++) v[i] -= lr * g[i];
      }
    },
    loss: () => p.forward(),
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
