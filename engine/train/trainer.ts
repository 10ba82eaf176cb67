/**
 * The float32 training loop.
 *
 *   const t = new Trainer(job);        // loads the data, splits it, compiles the model ONCE into
 *                                      // float32 (bestBackend('f32')), initialises the weights
 *   t.beginEpoch();                    // a seeded shuffle of the training examples
 *   const loss = t.step();             // gather the next batch, forward, backward, optimizer update
 *   t.evaluate('validation');          // loss and accuracy at the current weights
 *
 * `runTraining(job, onProgress, shouldStop)` drives a Trainer through the train block's epochs,
 * reporting progress and stopping cleanly; the worker (./worker.ts) runs exactly that.
 *
 * A step allocates nothing and rebuilds nothing: every buffer — values, gradients, optimizer
 * state, the last good weights — comes from the one `backend.allocate` of the compiled program;
 * the training data is converted to float32 once; a batch is gathered by copying rows. Only an
 * epoch's last, smaller batch re-binds the program's kernels (twice per epoch, no allocation of
 * buffers).
 *
 * Metrics come from the steps themselves: an epoch's training loss (and, without a validation
 * split, its accuracy) is the running mean over the batches it trained on, each at the weights of
 * its own step (as Keras and Lightning report them) — no second pass over the training set. The
 * validation split alone is evaluated at each epoch's end.
 *
 * Divergence: a step whose loss is NaN or ±Infinity updates nothing; the run stops with reason
 * 'diverged', the weights of the last step whose loss was finite, and a message naming the epoch,
 * the step and the first op that produced a non-finite value (`findNonFiniteForward`, or, when the
 * previous update itself made a weight non-finite, `findNonFiniteBackward` on that step replayed).
 */
import { EpochShuffler, loadData, splitData } from '../data/index';
import type { Dataset } from '../data/types';
import { compileModel, type CompiledModel } from '../exec/program';
import { findNonFiniteBackward, findNonFiniteForward, fmt } from '../exec/nonfinite';
import { initParams, paramSeed } from '../init';
import { availableParallelism, loadavg } from 'node:os';
import { DEFAULT_TRAIN_OPTIONS, type IRModel, type TrainOptions } from '../ir';
import { bestBackend, PARALLEL_MIN_MACS } from '../kernels/index';
import { axpby as axpbyJs, firstNonFinite as firstNonFiniteJs, gatherRows as gatherRowsJs } from '../kernels/fused';
import type { Backend, FloatArray } from '../kernels/backend';
import { accuracyKindOf, countCorrect, outputNameOf, outputNodeOf, type AccuracyKind } from './metrics';
import { createOptimizer, optimizerStateSizes, type Optimizer } from './optimizers';
import type { TrainDivergence, TrainJob, TrainOutcome, TrainPlan, TrainPoint, TrainProgress } from './types';
import { BoundaryGrid, pictureDue } from './boundary';

/**
 * A split of the data set, converted to float32 once and kept in the program's own memory (extra
 * buffers of its one allocation: in WebAssembly memory for the SIMD backend), so that a batch is
 * gathered by the backend's `gatherRows` — one memory copy per example — and an evaluation chunk by
 * one contiguous copy.
 */
interface Data32 {
  n: number;
  dx: number;
  dy: number;
  x: FloatArray;
  y: FloatArray;
}

const prodOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function sameSize(a: readonly number[], b: readonly number[]): boolean {
  return a.reduce((p, d) => p * d, 1) === b.reduce((p, d) => p * d, 1);
}

const fmtShape = (s: readonly number[]) => `[${s.join(', ')}]`;

export interface TrainerOptions {
  /** The numeric backend (default: `bestBackend('f32')`, threaded as `threads` says). */
  backend?: Backend;
}

/** Threads `auto` uses at most (beyond, a step's products are too small to split further). */
const AUTO_THREADS_MAX = 4;

/**
 * The largest matrix product of a training step, in multiply-adds at batch size B (a product
 * whose operand has the batch axis is one gemm of B times the rows).
 */
export function largestProductMacs(model: IRModel, B: number): number {
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const batched = new Map<number, boolean>();
  let most = 0;
  for (const n of model.nodes) {
    const b = n.op === 'input' || n.op === 'target' || n.args.some((a) => batched.get(a));
    batched.set(n.id, b);
    if (n.op !== 'matmul' || n.args.length !== 2) continue;
    const [a, w] = n.args.map((id) => byId.get(id)!.shape);
    const M = a.length === 2 ? a[0] : 1;
    const K = a.length === 2 ? a[1] : a[0];
    const N = w.length === 2 ? w[1] : 1;
    most = Math.max(most, M * K * N * (b ? B : 1));
  }
  return most;
}

/**
 * How many threads a run uses: the `threads` option when it is a count; for 'auto', every core (up
 * to 4) when the model has a product of at least PARALLEL_MIN_MACS multiply-adds per step (W2's
 * 64×784×128), else one (W1, W3: splitting their products costs more than it saves) — and one
 * when the machine is already busy (its 1-minute load average at least its cores: a helper
 * thread that is not scheduled makes the training thread wait; 0 where the system has none).
 */
export function chooseThreads(
  threads: TrainOptions['threads'],
  model: IRModel,
  batch: number,
  cores = availableParallelism(),
  load = loadavg()[0],
): number {
  if (typeof threads === 'number') return threads;
  if (cores < 2 || largestProductMacs(model, batch) < PARALLEL_MIN_MACS || load >= cores) return 1;
  return Math.min(cores, AUTO_THREADS_MAX);
}

export class Trainer {
  readonly plan: TrainPlan;
  readonly options: TrainOptions;
  readonly model: IRModel;
  readonly program: CompiledModel;
  readonly optimizer: Optimizer;
  /** The whole data set (before the split). */
  readonly dataset: Dataset;

  /** Epochs begun so far. */
  epoch = 0;
  /** Optimizer steps done so far. */
  steps = 0;
  /** The loss of the last step (NaN before one). */
  lastLoss = NaN;
  /** The epoch so far: Σ batch loss × batch size, examples, and examples classified right. */
  private epochLossSum = 0;
  private epochExamples = 0;
  private epochCorrect = 0;

  private readonly train: Data32;
  private readonly validation: Data32 | null;
  private readonly gatherRows: NonNullable<Backend['gatherRows']>;
  private readonly copy: NonNullable<Backend['axpby']>;
  private readonly shuffler: EpochShuffler;
  private order: Uint32Array;
  private pos: number;
  private readonly capacity: number;
  private batch = 0;
  private readonly manual: boolean;
  private readonly xBuf: FloatArray | null;
  private readonly tBuf: FloatArray | null;
  private readonly params: FloatArray[];
  private readonly good: FloatArray[];
  /** The examples of the current step and of the one before (swapped per step). */
  private curIdx: Uint32Array;
  private prevIdx: Uint32Array;
  private curCount = 0;
  private prevCount = 0;
  private readonly accuracyKind: AccuracyKind | null;
  private readonly outNode: number | null;
  private readonly outSize: number;
  /** Weights at the end of the last epoch whose weights were all finite. */
  private readonly epochGood: FloatArray[];
  /** Whether each step counts the batch's right answers (accuracy without a validation split). */
  private readonly countTrainCorrect: boolean;
  private readonly backend: Backend;
  private readonly ownBackend: boolean;
  private readonly nonFinite: NonNullable<Backend['firstNonFinite']>;

  constructor(job: TrainJob, opts: TrainerOptions = {}) {
    const started = performance.now();
    const { program } = job;
    const model = program.models.find((m) => m.name === job.model);
    if (!model) throw new Error(`no model named ${job.model}`);
    this.model = model;
    const block = program.trains.find((t) => t.model === model.name);
    if (!block && !job.data) throw new Error(`model ${model.name} has no train block`);
    const options: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...(block?.options ?? {}), ...(job.options ?? {}) };
    checkTrainOptions(options);
    this.options = options;
    this.manual = options.gradients === 'manual';
    if (this.manual && !model.backward?.length)
      throw new Error(`gradients: manual needs a backward block in model ${model.name}`);

    // ---- data --------------------------------------------------------------------------------
    let dataName: string | null = null;
    let ds: Dataset;
    if (job.data) ds = job.data;
    else {
      const decl = program.data.find((d) => d.name === block!.data);
      if (!decl) throw new Error(`train ${model.name} on ${block!.data}: no data named ${block!.data}`);
      dataName = decl.name;
      ds = job.loadedData ?? loadData(decl.spec, job.ctx);
    }
    if (model.inputs.length !== 1) throw new Error(`model ${model.name} has ${model.inputs.length} inputs; training binds exactly one`);
    if (model.targets.length > 1) throw new Error(`model ${model.name} has ${model.targets.length} targets; training binds at most one`);
    const input = model.inputs[0];
    const target = model.targets[0];
    if (!sameSize(input.shape, ds.xShape))
      throw new Error(`input ${input.name} is ${fmtShape(input.shape)} but the data's examples are ${fmtShape(ds.xShape)}`);
    if (target && !sameSize(target.shape, ds.yShape))
      throw new Error(`target ${target.name} is ${fmtShape(target.shape)} but the data's labels are ${fmtShape(ds.yShape)}`);
    if (ds.n < 1) throw new Error('the data set has no examples');
    this.dataset = ds;
    const split = splitData(ds, options.split, trainingSeeds(options.seed).split);
    const dx = prodOf(ds.xShape);
    const dy = prodOf(ds.yShape);
    const nTrain = split.train.n;
    const nVal = split.validation?.n ?? 0;

    // ---- the program, compiled once ----------------------------------------------------------
    // extra buffers: optimizer state, the last good weights, the weights of the last good epoch,
    // the data, two batches' indices
    const sizes = model.params.map((p) => p.size);
    const stateSizes = optimizerStateSizes(options.optimizer, sizes);
    const capacity = Math.min(options.batch, nTrain);
    const dataSizes = [nTrain * dx, nTrain * dy, nVal * dx, nVal * dy, capacity, capacity];
    const threads = chooseThreads(options.threads, model, capacity);
    const backend = opts.backend ?? bestBackend('f32', { threads });
    this.backend = backend;
    this.ownBackend = !opts.backend;
    this.nonFinite = backend.firstNonFinite ? backend.firstNonFinite.bind(backend) : firstNonFiniteJs;
    this.program = compileModel(program, model, backend, {
      grads: 'params',
      extraBuffers: [...stateSizes, ...sizes, ...sizes, ...dataSizes],
    });
    // a threaded backend's helper threads start while the program compiles; the run waits for
    // them (a second at most) rather than doing its first steps alone
    (backend as { waitForHelpers?: (ms: number) => boolean }).waitForHelpers?.(1000);
    this.capacity = capacity;
    this.resize(capacity);
    const extra = this.program.extra;
    const at = stateSizes.length + 2 * sizes.length;
    const [tx, ty, vx, vy, ia, ib] = extra.slice(at, at + dataSizes.length);
    tx.set(split.train.x);
    ty.set(split.train.y);
    this.train = { n: nTrain, dx, dy, x: tx, y: ty };
    if (split.validation) {
      vx.set(split.validation.x);
      vy.set(split.validation.y);
      this.validation = { n: nVal, dx, dy, x: vx, y: vy };
    } else this.validation = null;
    this.gatherRows = backend.gatherRows ? backend.gatherRows.bind(backend) : gatherRowsJs;
    this.copy = backend.axpby ? backend.axpby.bind(backend) : axpbyJs;
    const p = this.program;
    const init = job.initialParams ?? initParams(model, trainingSeeds(options.seed).init);
    for (const q of model.params) {
      const src = init[q.name];
      if (!src) throw new Error(`initial weights: no value for param ${q.name}`);
      if (src.length !== q.size) throw new Error(`initial weights: ${src.length} numbers for ${q.name} ${fmtShape(q.shape)}`);
    }
    p.setParams(init);
    this.params = model.params.map((q) => p.params[q.name]);
    const grads = model.params.map((q) => p.grads[q.name]);
    this.optimizer = createOptimizer(options.optimizer, backend, this.params, grads, p.extra.slice(0, stateSizes.length));
    this.good = p.extra.slice(stateSizes.length, stateSizes.length + sizes.length);
    this.epochGood = p.extra.slice(stateSizes.length + sizes.length, at);
    this.saveGood();
    this.copyAll(this.params, this.epochGood);
    this.xBuf = p.data[input.name] ?? null;
    this.tBuf = target ? (p.data[target.name] ?? null) : null;
    // u32 views of two float32 buffers of the program's memory (gatherRows reads indices there)
    this.curIdx = new Uint32Array(ia.buffer, ia.byteOffset, capacity);
    this.prevIdx = new Uint32Array(ib.buffer, ib.byteOffset, capacity);

    this.shuffler = new EpochShuffler(this.train.n, trainingSeeds(options.seed).shuffle);
    this.order = this.shuffler.order;
    this.pos = this.train.n;

    // ---- metrics ---------------------------------------------------------------------------------
    this.outNode = outputNodeOf(model);
    const outSlot = this.outNode === null ? null : p.slot(this.outNode);
    this.outSize = outSlot && outSlot.batched ? outSlot.size : 0;
    this.accuracyKind = target && outSlot?.batched ? accuracyKindOf(ds, this.outSize) : null;
    this.countTrainCorrect = this.accuracyKind !== null && this.validation === null && this.tBuf !== null;

    const stepsPerEpoch = Math.ceil(this.train.n / options.batch);
    const last = this.train.n - (stepsPerEpoch - 1) * options.batch;
    this.plan = {
      model: model.name,
      data: dataName,
      options,
      epochs: options.epochs,
      stepsPerEpoch,
      totalSteps: stepsPerEpoch * options.epochs,
      trainExamples: this.train.n,
      validationExamples: this.validation?.n ?? 0,
      lastBatch: last,
      accuracy: this.accuracyKind,
      evaluatedOn: this.validation ? 'validation' : 'training',
      outputNode: this.outNode,
      outputName: outputNameOf(model, this.outNode),
      parameters: sizes.reduce((a, b) => a + b, 0),
      backend: backend.name,
      threads: (backend as { threads?: number }).threads ?? 1,
      pointEvery: pointEvery(options.epochs, stepsPerEpoch),
      setupMs: performance.now() - started,
    };
  }

  // ---- stepping ------------------------------------------------------------------------------

  /** Starts the next epoch: a new seeded order of the training examples. */
  beginEpoch(): void {
    this.order = this.shuffler.next();
    this.pos = 0;
    this.epoch++;
    this.epochLossSum = 0;
    this.epochExamples = 0;
    this.epochCorrect = 0;
  }

  /** Examples the current epoch has trained on so far. */
  get epochExamplesSoFar(): number {
    return this.epochExamples;
  }

  /** The epoch's mean training loss so far (weighted by batch size; NaN before its first step). */
  get epochLoss(): number {
    return this.epochLossSum / this.epochExamples;
  }

  /**
   * The epoch's training accuracy so far: the batches' right answers at the weights of their own
   * steps; null when the run measures accuracy on a validation split (or has none).
   */
  get epochAccuracy(): number | null {
    return this.countTrainCorrect && this.epochExamples > 0 ? this.epochCorrect / this.epochExamples : null;
  }

  /** True when every batch of the current epoch has been stepped. */
  get epochDone(): boolean {
    return this.pos >= this.train.n;
  }

  /**
   * One optimizer step on the next batch of the epoch (beginning a new epoch when the current
   * one is done): gather, forward, backward (or the backward block), update. Returns the batch's
   * mean loss. When it is NaN or ±Infinity nothing is updated and the program still holds that
   * forward pass (see `diagnose`). Allocates nothing.
   */
  step(): number {
    if (this.pos >= this.train.n) this.beginEpoch();
    const start = this.pos;
    const count = Math.min(this.capacity, this.train.n - start);
    this.pos += count;
    if (count !== this.batch) this.resize(count);
    const order = this.order;
    const idx = this.prevIdx;
    this.prevIdx = this.curIdx;
    this.prevCount = this.curCount;
    this.curIdx = idx;
    this.curCount = count;
    for (let i = 0; i < count; i++) idx[i] = order[start + i];
    this.gather(this.train, idx, count);
    const p = this.program;
    const loss = p.forward();
    this.lastLoss = loss;
    if (loss - loss !== 0) return loss; // NaN or ±Infinity
    this.epochLossSum += loss * count;
    this.epochExamples += count;
    if (this.countTrainCorrect)
      this.epochCorrect += countCorrect(this.accuracyKind!, count, this.outSize, p.value(this.outNode!), this.tBuf!, 0);
    if (this.manual) p.manualGradients();
    else p.backward();
    // the update keeps the weights it started from as the last good ones (one pass)
    this.optimizer.step(this.good);
    this.steps++;
    return loss;
  }

  /** Size of the batch of the current/next step (the program's batch size). */
  get batchSize(): number {
    return this.batch;
  }

  private resize(B: number): void {
    this.program.setBatchSize(B);
    this.batch = B;
  }

  /** Copies the examples idx[0 … count) of `ds` into the program's input and target. */
  private gather(ds: Data32, idx: Uint32Array, count: number): void {
    if (this.xBuf) this.gatherRows(count, ds.dx, ds.x, 0, idx, 0, this.xBuf, 0);
    if (this.tBuf) this.gatherRows(count, ds.dy, ds.y, 0, idx, 0, this.tBuf, 0);
  }

  /** Copies the examples start … start+count of `ds`, in order, into the input and target. */
  private gatherRange(ds: Data32, start: number, count: number): void {
    if (this.xBuf) this.copy(count * ds.dx, 1, ds.x, start * ds.dx, 0, this.xBuf, 0);
    if (this.tBuf) this.copy(count * ds.dy, 1, ds.y, start * ds.dy, 0, this.tBuf, 0);
  }

  // ---- weights ---------------------------------------------------------------------------------

  /**
   * Copies the weights to the last good ones. (Not `TypedArray.set`: both live in one buffer, and
   * V8 then copies the source to a fresh buffer first — an allocation and a second copy per step.)
   */
  private saveGood(): void {
    this.copyAll(this.params, this.good);
  }

  private copyAll(from: readonly FloatArray[], to: readonly FloatArray[]): void {
    const copy = this.copy;
    for (let i = 0; i < from.length; i++) copy(from[i].length, 1, from[i], 0, 0, to[i], 0);
  }

  private allFinite(xs: readonly FloatArray[]): boolean {
    for (const x of xs) if (this.nonFinite(x.length, x, 0) >= 0) return false;
    return true;
  }

  private copyParams(from: readonly FloatArray[]): Record<string, Float64Array> {
    const out: Record<string, Float64Array> = {};
    this.model.params.forEach((q, i) => (out[q.name] = Float64Array.from(from[i])));
    return out;
  }

  /** The current weights (float64 copies, by name). */
  currentParams(): Record<string, Float64Array> {
    return this.copyParams(this.params);
  }

  /**
   * The weights of the last step whose loss was finite (what a diverged run keeps); the weights
   * of the last finite epoch end when even those hold a non-finite number.
   */
  lastGoodParams(): Record<string, Float64Array> {
    if (this.allFinite(this.good)) return this.copyParams(this.good);
    return this.copyParams(this.epochGood);
  }

  /**
   * At an epoch's end: true when every weight is finite (and remembered as the epoch's weights);
   * false names a weight that is not (a NaN can hide behind relu without making the loss NaN).
   */
  checkWeights(): string | null {
    const bad = this.model.params.find((_, i) => this.nonFinite(this.params[i].length, this.params[i], 0) >= 0);
    if (bad) return bad.name;
    this.copyAll(this.params, this.epochGood);
    return null;
  }

  /** Releases the backend's helper threads (a backend the trainer made itself). */
  dispose(): void {
    if (this.ownBackend) this.backend.dispose?.();
  }

  // ---- metrics ---------------------------------------------------------------------------------

  /**
   * The mean loss and the accuracy (null when the data has none) over a whole split, at the
   * current weights; null when `shouldStop` said so in between.
   */
  evaluate(which: 'validation' | 'training', shouldStop?: () => boolean): { loss: number; accuracy: number | null } | null {
    const ds = which === 'validation' ? this.validation : this.train;
    if (!ds) throw new Error('this run has no validation split');
    const p = this.program;
    const kind = this.accuracyKind;
    let sum = 0;
    let right = 0;
    for (let start = 0; start < ds.n; start += this.capacity) {
      if (shouldStop?.()) return null;
      const count = Math.min(this.capacity, ds.n - start);
      if (count !== this.batch) this.resize(count);
      this.gatherRange(ds, start, count);
      sum += p.forward() * count;
      if (kind) right += countCorrect(kind, count, this.outSize, p.value(this.outNode!), ds.y, start * ds.dy);
    }
    return { loss: sum / ds.n, accuracy: kind ? right / ds.n : null };
  }

  get hasValidation(): boolean {
    return this.validation !== null;
  }

  get hasAccuracy(): boolean {
    return this.accuracyKind !== null;
  }

  // ---- divergence ------------------------------------------------------------------------------

  /**
   * Right after `step()` returned a non-finite loss: where it came from. When the forward pass
   * finds a weight that is already non-finite, the previous step's update made it so: that step
   * is replayed from the last good weights and its backward pass searched.
   */
  diagnose(): TrainDivergence {
    const p = this.program;
    const nf = findNonFiniteForward(p);
    if (nf && p.nodes[nf.node].op === 'param') {
      // the previous step's update made a weight non-finite: replay that step
      return this.replayUpdate(this.prevIdx, this.prevCount, p.nodes[nf.node].name!, nf.value, this.steps);
    }
    const at = { epoch: this.epoch, step: this.steps + 1 };
    if (nf)
      return {
        ...at,
        op: nf.opName,
        range: nf.range,
        cause: `${nf.opName} gives ${fmt(nf.value)} at ${nf.where}${nf.example === null ? '' : ` (example ${nf.exampleNumber})`}: ${nf.cause}`,
      };
    return { ...at, op: null, range: null, cause: `the loss is ${fmt(this.lastLoss)}` };
  }

  /**
   * After `checkWeights` found a non-finite weight at an epoch's end: the last step's update made
   * it so (or a NaN hid behind a relu for longer); replays that step to say why.
   */
  diagnoseWeights(name: string): TrainDivergence {
    const i = this.model.params.findIndex((q) => q.name === name);
    const bad = i >= 0 ? this.params[i].find((v) => v - v !== 0) ?? NaN : NaN;
    return this.replayUpdate(this.curIdx, this.curCount, name, bad, this.steps);
  }

  /**
   * Replays the update of step `step` (batch idx[0 … count)) from the weights it started with
   * (the last good ones, restored): the backward op that produced a non-finite gradient, the
   * backward-block line, or the update itself overflowing.
   */
  private replayUpdate(idx: Uint32Array, count: number, name: string, value: number, step: number): TrainDivergence {
    const p = this.program;
    const at = { epoch: this.epoch, step };
    const made = `which made ${name} ${fmt(value)}`;
    if (count === 0 || !this.allFinite(this.good))
      return {
        ...at,
        op: null,
        range: null,
        cause: `${name} became ${fmt(value)} while the loss stayed finite (a NaN behind a relu, or an update that overflowed)`,
      };
    for (let k = 0; k < this.params.length; k++) this.copy(this.params[k].length, 1, this.good[k], 0, 0, this.params[k], 0);
    if (count !== this.batch) this.resize(count);
    this.gather(this.train, idx, count);
    p.forward();
    if (!this.manual) {
      const nb = findNonFiniteBackward(p);
      if (nb)
        return {
          ...at,
          op: nb.opName,
          range: nb.range,
          cause: `the backward of ${nb.opName} gives ${fmt(nb.value)} for ${nb.where}${nb.example === null ? '' : ` (example ${nb.exampleNumber})`}: ${nb.cause}, ${made}`,
        };
    } else {
      p.manualGradients();
      const q = this.model.params.find((x) => !allFinite(p.grads[x.name]));
      if (q) {
        const line = this.model.backward?.find((b) => b.target === q.name);
        return {
          ...at,
          op: `grad ${q.name}`,
          range: line?.range ?? null,
          cause: `the backward block's grad ${q.name} is not finite, ${made}`,
        };
      }
    }
    const g = p.grads[name];
    let big = 0;
    if (g) for (let k = 0; k < g.length; k++) big = Math.max(big, Math.abs(g[k]));
    return {
      ...at,
      op: null,
      range: null,
      cause: `the ${this.options.optimizer.kind} update overflowed float32 (gradients of ${name} up to ${fmt(big)}), ${made}`,
    };
  }
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] - a[i] !== 0) return false;
  return true;
}

function divergedMessage(d: TrainDivergence, job: TrainJob, lr: number, atStart = false): string {
  if (atStart)
    return `the loss is not finite at the first step (epoch 1, step 1): ${d.cause}. ${job.initialParams ? 'The given weights' : 'The initial weights'} give it: check the model and its data`;
  return `loss exploded at epoch ${d.epoch}, step ${d.step}: ${d.cause} — try a lower lr (now ${lr})`;
}

/** Refuses options no run can use (the language checks the train block; overrides come from code). */
export function checkTrainOptions(o: TrainOptions): void {
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new Error(`batch must be a positive integer, got ${o.batch}`);
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new Error(`epochs must be a non-negative integer, got ${o.epochs}`);
  if (!(o.split > 0 && o.split <= 1)) throw new Error(`split must be in (0, 1], got ${o.split}`);
  if (!Number.isFinite(o.seed)) throw new Error(`seed must be a number, got ${o.seed}`);
  if (o.gradients !== 'auto' && o.gradients !== 'manual') throw new Error(`gradients must be auto or manual, got ${String(o.gradients)}`);
  if (o.threads !== undefined && o.threads !== 'auto' && !(Number.isInteger(o.threads) && o.threads >= 1 && o.threads <= 256))
    throw new Error(`threads must be auto or an integer from 1 to 256, got ${String(o.threads)}`);
}

// ---- the loop ------------------------------------------------------------------------------------

export interface RunTrainingOptions {
  /** Called once, before the first step, with what the run is going to do. */
  onStart?: (plan: TrainPlan) => void;
  /** Minimum time between two progress reports within an epoch (ms, default 50). */
  progressIntervalMs?: number;
  /** Minimum time between two decision boundaries (ms, default 250; 0: none); see `pictureDue`. */
  boundaryIntervalMs?: number;
  backend?: Backend;
}

/** About this many points per run (one per epoch at least, one per step at most; see pointEvery). */
export const POINTS_PER_RUN = 500;

/**
 * Steps per point of the loss curve within an epoch: one point per epoch when a run has
 * POINTS_PER_RUN epochs or more; for fewer, longer epochs, a point every N steps so that the run
 * has about POINTS_PER_RUN of them (every epoch's end is a point too).
 */
export function pointEvery(epochs: number, stepsPerEpoch: number): number {
  const perEpoch = Math.max(1, Math.min(stepsPerEpoch, Math.floor(POINTS_PER_RUN / Math.max(1, epochs))));
  return Math.ceil(stepsPerEpoch / perEpoch);
}

/**
 * Trains a model as its train block says (with `job.options` over it), synchronously, in this
 * thread. `onProgress` is called at every epoch's end and, within an epoch, at most every
 * `progressIntervalMs` (default 50 ms); each report carries the loss curve's points since the
 * previous one (`TrainProgress.points`). `shouldStop` is polled before every step and between
 * the evaluation's batches. Problems of the job (no such model, data that cannot be loaded,
 * options out of range) throw; what happens to the numbers (divergence) is an outcome.
 */
export function runTraining(
  job: TrainJob,
  onProgress?: (p: TrainProgress) => void,
  shouldStop?: () => boolean,
  opts: RunTrainingOptions = {},
): TrainOutcome {
  const trainer = new Trainer(job, { backend: opts.backend });
  try {
    return trainLoop(trainer, job, onProgress, shouldStop, opts);
  } finally {
    trainer.dispose();
  }
}

function trainLoop(
  trainer: Trainer,
  job: TrainJob,
  onProgress: ((p: TrainProgress) => void) | undefined,
  shouldStop: (() => boolean) | undefined,
  opts: RunTrainingOptions,
): TrainOutcome {
  const { plan, options } = trainer;
  opts.onStart?.(plan);
  const interval = opts.progressIntervalMs ?? 50;
  const t0 = performance.now();
  const lr = options.optimizer.lr;
  const boundaryInterval = opts.boundaryIntervalMs ?? 250;
  const boundary = onProgress && boundaryInterval > 0 ? BoundaryGrid.for(job.program, trainer.model, trainer.dataset) : null;
  let lastBoundary = -Infinity;
  let boundaryCost = 0;
  const every = plan.pointEvery;

  let valLoss: number | null = null;
  let accuracy: number | null = null;
  let epochsDone = 0;
  let sinceSum = 0;
  let sinceN = 0;
  let lastReported = NaN;
  let lastReport = t0;
  let finalLoss: number | null = null;
  // the loss curve: points since the last report, and the current point's steps
  let points: TrainPoint[] = [];
  let pointSum = 0;
  let pointN = 0;
  // the clock is read every `checkEvery` steps (about every millisecond: a read costs ~30 ns)
  let checkEvery = 1;
  let sinceCheck = 0;
  let lastCheck = t0;
  let lastCheckStep = 0;
  // the loss rising: the lowest epoch loss so far
  let best = Infinity;
  let bestEpoch = 0;

  const report = (epochEnd: boolean, epochLoss?: number, last = false) => {
    const loss = sinceN ? sinceSum / sinceN : lastReported;
    lastReported = loss;
    sinceSum = 0;
    sinceN = 0;
    const now = performance.now();
    lastReport = now;
    if (!onProgress) {
      points = [];
      return;
    }
    const p: TrainProgress = {
      epoch: trainer.epoch,
      step: trainer.steps,
      epochs: plan.epochs,
      stepsPerEpoch: plan.stepsPerEpoch,
      loss,
      valLoss,
      accuracy,
      elapsedMs: now - t0,
      points,
    };
    points = [];
    if (epochEnd) {
      p.epochEnd = true;
      p.epochLoss = epochLoss;
    }
    // at the interval (spaced by the picture's cost), after the last epoch, and at a stop (the kept
    // weights) — not at every epoch's end: a forward pass per cell per epoch would take most of a
    // tiny model's short epochs
    const lastEpoch = epochEnd && trainer.epoch >= plan.epochs;
    if (boundary && pictureDue({ now, lastEnd: lastBoundary, lastCost: boundaryCost, interval: boundaryInterval, lastEpoch, stop: last })) {
      p.boundary = boundary.compute(trainer.program.params, trainer.steps, trainer.epoch);
      lastBoundary = performance.now();
      boundaryCost = lastBoundary - now;
    }
    onProgress(p);
  };

  const point = (epochEnd: boolean, epochLoss?: number) => {
    const pt: TrainPoint = {
      epoch: trainer.epoch,
      step: trainer.steps,
      loss: pointN ? pointSum / pointN : NaN,
      valLoss: epochEnd ? valLoss : null,
      accuracy: epochEnd ? accuracy : null,
      elapsedMs: performance.now() - t0,
    };
    if (epochEnd) {
      pt.epochEnd = true;
      pt.epochLoss = epochLoss;
    }
    points.push(pt);
    pointSum = 0;
    pointN = 0;
  };

  const finish = (reason: TrainOutcome['reason'], message: string, params: Record<string, Float64Array>, divergence?: TrainDivergence): TrainOutcome => {
    const out: TrainOutcome = {
      reason,
      params,
      message,
      epochs: epochsDone,
      steps: trainer.steps,
      finalLoss: trainer.epochExamplesSoFar ? trainer.epochLoss : finalLoss,
      finalValLoss: valLoss,
      finalAccuracy: accuracy,
      elapsedMs: performance.now() - t0,
    };
    if (divergence) out.divergence = divergence;
    // a finished epoch whose loss is 10× the lowest one: the run is diverging
    if (reason !== 'diverged' && finalLoss !== null && bestEpoch > 0 && epochsDone > bestEpoch && finalLoss >= 10 * best)
      out.lossRose = { bestEpoch, bestLoss: best, finalEpoch: epochsDone, finalLoss };
    return out;
  };

  const stopped = () => {
    // what was trained of the epoch in progress still makes a point, and a last report carries it
    // with the decision boundary of the weights kept
    if (pointN > 0) point(false);
    const picture = boundary !== null && trainer.steps > 0 &&
      pictureDue({ now: performance.now(), lastEnd: lastBoundary, lastCost: boundaryCost, interval: boundaryInterval, lastEpoch: false, stop: true });
    if (points.length || picture) report(false, undefined, true);
    const out = finish(
      'stopped',
      `stopped at epoch ${trainer.epoch}, step ${trainer.steps.toLocaleString('en-US')} of ${plan.totalSteps.toLocaleString('en-US')}; kept the weights after step ${trainer.steps.toLocaleString('en-US')}`,
      trainer.currentParams(),
    );
    out.stoppedInEpoch = trainer.epoch;
    return out;
  };

  for (let e = 1; e <= plan.epochs; e++) {
    trainer.beginEpoch();
    let stepInEpoch = 0;
    while (!trainer.epochDone) {
      if (shouldStop?.()) return stopped();
      const loss = trainer.step();
      if (loss - loss !== 0) {
        const d = trainer.diagnose();
        if (pointN > 0) point(false);
        if (points.length) report(false);
        return finish('diverged', divergedMessage(d, job, lr, trainer.steps === 0), trainer.lastGoodParams(), d);
      }
      sinceSum += loss;
      sinceN++;
      pointSum += loss;
      pointN++;
      stepInEpoch++;
      if (stepInEpoch % every === 0 && !trainer.epochDone) point(false);
      if (++sinceCheck >= checkEvery) {
        sinceCheck = 0;
        const now = performance.now();
        const perStep = (now - lastCheck) / Math.max(1, trainer.steps - lastCheckStep);
        checkEvery = perStep > 0 ? Math.max(1, Math.min(64, Math.floor(1 / perStep))) : 64;
        lastCheck = now;
        lastCheckStep = trainer.steps;
        if (now - lastReport >= interval) report(false);
      }
    }
    const epochLoss = trainer.epochLoss;
    finalLoss = epochLoss;
    const bad = trainer.checkWeights();
    if (bad) {
      const d = trainer.diagnoseWeights(bad);
      return finish('diverged', divergedMessage(d, job, lr), trainer.lastGoodParams(), d);
    }
    if (trainer.hasValidation) {
      const r = trainer.evaluate('validation', shouldStop);
      if (!r) return stopped();
      valLoss = r.loss;
      accuracy = r.accuracy;
    } else if (trainer.hasAccuracy) {
      accuracy = trainer.epochAccuracy;
    }
    epochsDone = e;
    if (epochLoss < best) {
      best = epochLoss;
      bestEpoch = e;
    }
    point(true, epochLoss);
    report(true, epochLoss);
  }
  const secs = (performance.now() - t0) / 1000;
  return finish(
    'completed',
    `trained ${plan.epochs.toLocaleString('en-US')} epoch${plan.epochs === 1 ? '' : 's'} (${trainer.steps.toLocaleString('en-US')} step${trainer.steps === 1 ? '' : 's'}) in ${secs < 10 ? secs.toFixed(2) : secs.toFixed(1)} s`,
    trainer.currentParams(),
  );
}

/**
 * The seeds a run draws from its `seed` option: the initial weights and the train/validation
 * split use it as it is; the per-epoch shuffle uses a seed derived from it. (The PyTorch export
 * reproduces the same draws.)
 */
export function trainingSeeds(seed: number): { init: number; split: number; shuffle: number } {
  return { init: seed, split: seed, shuffle: paramSeed(seed, '#shuffle') };
}
