/**
 * Mode "train" of the debugger: the model's `train` block run by the engine's own trainer
 * (float32, the same seeds, batches and updates as `nnlens train`), a few milliseconds at a time
 * so that the session still answers pause and disconnect, until the first step whose loss is NaN
 * or Infinity. Where that value came from is what the `training-diverged` diagnostic says: the
 * trainer's `diagnose` finds the first op that produced it (engine/exec/nonfinite.ts). The
 * debugger then shows that batch's tensors, still in the trainer's program.
 */
import type { Trainer } from '../engine/train/trainer';
import type { TrainDivergence } from '../engine/train/types';
import type { EnvTensor, EvalEnv } from './evaluator';
import type { ScopeTensor } from './stops';

export type TrainEnd =
  | { kind: 'diverged'; divergence: TrainDivergence; /** the program holds the gradients of that step */ replayed: boolean }
  | { kind: 'paused' }
  | { kind: 'completed'; epochs: number; steps: number; lastLoss: number }
  | { kind: 'stopped' };

export class TrainRun {
  private inEpoch = false;
  private finished: TrainEnd | null = null;

  constructor(readonly trainer: Trainer) {}

  get epochs(): number {
    return this.trainer.plan.epochs;
  }

  /**
   * Trains until the loss is not finite, the last epoch ends, or `interrupt` (asked between
   * slices of about 20 ms) says to pause or stop. A paused run goes on where it was.
   */
  async run(interrupt: () => 'pause' | 'stop' | null): Promise<TrainEnd> {
    if (this.finished) return this.finished;
    const t = this.trainer;
    for (;;) {
      const until = performance.now() + 20;
      while (performance.now() < until) {
        if (!this.inEpoch) {
          if (t.epoch >= this.epochs) return this.finish({ kind: 'completed', epochs: t.epoch, steps: t.steps, lastLoss: t.lastLoss });
          t.beginEpoch();
          this.inEpoch = true;
        }
        if (t.epochDone) {
          // a NaN can hide behind a relu without making the loss NaN: the weights at each epoch's end
          const bad = t.checkWeights();
          if (bad) return this.finish({ kind: 'diverged', divergence: t.diagnoseWeights(bad), replayed: true });
          this.inEpoch = false;
          continue;
        }
        const loss = t.step();
        if (loss - loss !== 0) {
          const d = t.diagnose();
          // diagnose replays the previous update when it made a weight non-finite (its step is that one)
          return this.finish({ kind: 'diverged', divergence: d, replayed: d.step === t.steps });
        }
      }
      await new Promise<void>((r) => setImmediate(r));
      const i = interrupt();
      if (i === 'stop') return this.finish({ kind: 'stopped' });
      if (i === 'pause') return { kind: 'paused' };
    }
  }

  private finish(end: TrainEnd): TrainEnd {
    this.finished = end;
    return end;
  }

  /**
   * The tensors of the batch the program holds: inputs, targets, named values and the
   * per-example losses ([B, …shape]), the params, and — after a replayed update — their gradients.
   */
  batchScope(withGrads: boolean): { values: ScopeTensor[]; params: ScopeTensor[]; grads: ScopeTensor[]; env: EvalEnv } {
    const p = this.trainer.program;
    const m = this.trainer.model;
    const B = p.batchSize;
    const values: ScopeTensor[] = [];
    const named = new Map<string, EnvTensor>();
    const data: Record<string, Float64Array> = {};
    const take = (name: string, id: number) => {
      const s = p.slot(id);
      const len = s.size * (s.batched ? B : 1);
      const value = Float64Array.from(p.value(id).subarray(0, len));
      values.push({ name, evaluateName: name, shape: s.batched ? [B, ...s.shape] : s.shape.slice(), value });
      named.set(name, { shape: s.shape.slice(), value, batched: s.batched });
      return value;
    };
    for (const d of [...m.inputs, ...m.targets]) {
      const id = p.dataNodeId(d.name);
      if (id !== undefined) data[d.name] = take(d.name, id);
    }
    for (const v of [...m.values, m.loss]) take(v.name, v.node);
    const params: ScopeTensor[] = [];
    const paramValues: Record<string, Float64Array> = {};
    const grads: ScopeTensor[] = [];
    const gradMap = new Map<string, EnvTensor>();
    for (const q of m.params) {
      const value = Float64Array.from(p.params[q.name]);
      paramValues[q.name] = value;
      params.push({ name: q.name, evaluateName: q.name, shape: q.shape.slice(), value });
      named.set(q.name, { shape: q.shape.slice(), value, batched: false });
      const g = p.grads[q.name];
      if (withGrads && g) {
        const gv = Float64Array.from(g);
        grads.push({ name: `grad ${q.name}`, shape: q.shape.slice(), value: gv, note: `∂C/∂${q.name} of the batch (mean)` });
        gradMap.set(q.name, { shape: q.shape.slice(), value: gv, batched: false });
      }
    }
    const env: EvalEnv = {
      n: B,
      params: paramValues,
      data,
      named,
      grads: gradMap,
      noGrad: (x) => `grad ${x}: a training batch has the gradients of its params only${withGrads ? '' : ', and only after a replayed update'}`,
      precision: 'f32',
    };
    return { values, params, grads, env };
  }
}
