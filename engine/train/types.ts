/**
 * The training API's types. The trainer (engine/train) compiles a model once into float32,
 * runs the optimizer over seeded batches, and reports progress; `trainInWorker` runs the same
 * loop in a worker_thread for editors (progress at least every 100 ms, stops within 200 ms of
 * an abort). docs/training.md describes the loop, the metrics and the API.
 */
import type { DataContext, Dataset } from '../data/types';
import type { IRProgram, Range, TrainOptions } from '../ir';

export interface TrainJob {
  program: IRProgram;
  /** The model to train; its `train` block supplies the data and options. */
  model: string;
  /** Where data files are resolved (csv). */
  ctx: DataContext;
  /** Overrides of the `train` block's options (e.g. fewer epochs in a test). */
  options?: Partial<TrainOptions>;
  /** Already loaded data (instead of the train block's data spec). */
  data?: Dataset;
  /** Start from these weights instead of the initial ones (`P.json` layout, float64). */
  initialParams?: Record<string, ArrayLike<number>>;
  /**
   * The train block's data set, already loaded by the caller (parsed once: `trainInWorker` hands
   * its arrays to the worker without copying them — they are detached here afterwards).
   */
  loadedData?: Dataset;
}

/**
 * What a run is going to do, known once its data is loaded and its program compiled (before the
 * first step): `trainInWorker`'s and `runTraining`'s `onStart`.
 */
export interface TrainPlan {
  model: string;
  /** The data set's name in the file (null for `TrainJob.data`). */
  data: string | null;
  /** The options in effect (the train block's, with `TrainJob.options` over them). */
  options: TrainOptions;
  epochs: number;
  /** Optimizer steps per epoch: ceil(trainExamples / batch); the last batch may be smaller. */
  stepsPerEpoch: number;
  totalSteps: number;
  trainExamples: number;
  /** 0 without a validation split. */
  validationExamples: number;
  /** Size of each epoch's last batch (= the batch size when it divides the training examples). */
  lastBatch: number;
  /**
   * How accuracy is measured: 'one-hot' (argmax of the output = argmax of the target),
   * 'binary' (a single 0/1 target: output ≥ 0.5 predicts 1), or null (no accuracy).
   */
  accuracy: 'one-hot' | 'binary' | null;
  /**
   * Where accuracy is measured at each epoch's end: the validation split, else the whole training
   * set (valLoss is null without a split).
   */
  evaluatedOn: 'validation' | 'training';
  /** The output accuracy is read from (the loss's prediction argument), by node id and name. */
  outputNode: number | null;
  outputName: string | null;
  parameters: number;
  /** The numeric backend, e.g. `wasm-simd-f32`. */
  backend: string;
  /** Threads the large matrix products use (the `threads` option; 1: this thread only). */
  threads: number;
  /** Steps per point of the loss curve within an epoch (see `TrainPoint`). */
  pointEvery: number;
  /** Loading the data and compiling the program, before the first step. */
  setupMs: number;
}

/**
 * A point of the loss curve: one per epoch, and for long epochs one every `TrainPlan.pointEvery`
 * steps as well (about 500 per run; see `pointEvery` in ./trainer).
 */
export interface TrainPoint {
  epoch: number;
  /** Optimizer steps done (over all epochs) when the point was made. */
  step: number;
  /** Mean training loss of the steps since the previous point. */
  loss: number;
  /** Measured at this point: on an epoch's last point (null elsewhere, and without a split). */
  valLoss: number | null;
  accuracy: number | null;
  elapsedMs: number;
  /** The epoch's last point. */
  epochEnd?: boolean;
  /** On the epoch's last point: the epoch's mean training loss (weighted by batch size). */
  epochLoss?: number;
}

export interface TrainProgress {
  epoch: number; // 1-based epoch being trained
  step: number; // optimizer steps done so far (over all epochs)
  epochs: number;
  stepsPerEpoch: number;
  /** Mean training loss since the previous progress report. */
  loss: number;
  /** Validation loss at the end of the latest finished epoch (null before one, or without a split). */
  valLoss: number | null;
  /**
   * Accuracy on the validation set at the end of the latest finished epoch; without a split, the
   * running accuracy of that epoch's batches (each at the weights of its own step). Null before
   * an epoch has finished, and when `TrainPlan.accuracy` is null.
   */
  accuracy: number | null;
  /** Milliseconds since the first step began. */
  elapsedMs: number;
  /** True for the report made at the end of an epoch (after valLoss and accuracy were measured). */
  epochEnd?: boolean;
  /** On `epochEnd` reports: the epoch's mean training loss (weighted by batch size). */
  epochLoss?: number;
  /**
   * Every point of the loss curve since the previous report (none are dropped however reports
   * are throttled: a throttle merges the reports' lists).
   */
  points?: TrainPoint[];
  /**
   * For a model whose input is a point of the plane: its output over the plane at the current
   * weights (./boundary.ts), on the reports `pictureDue` picks: every
   * `RunTrainingOptions.boundaryIntervalMs` (wider apart for a picture that costs more), at the
   * last epoch's end, and on a stopped run's last report (the weights it kept) when it is cheap.
   */
  boundary?: DecisionBoundary;
}

/** A model's output over the plane of its 2-D input, with the data points (TF Playground's picture). */
export interface DecisionBoundary {
  /** The plane: input[0] from x[0] to x[1] (across), input[1] from y[0] to y[1] (up). */
  x: [number, number];
  y: [number, number];
  /** Cells per side. */
  size: number;
  /** Output numbers per cell. */
  outputs: number;
  /** 'binary': one probability (0/1 labels); 'classes': one number per class (one-hot labels); 'values': anything else. */
  kind: 'binary' | 'classes' | 'values';
  /**
   * Cell (i, j) — row i from the bottom, column j from the left — holds
   * values[(i·size + j)·outputs + c], the output at input (x[0] + (j + ½)/size·(x[1] − x[0]), y[0] + (i + ½)/size·(y[1] − y[0])).
   */
  values: number[];
  /** Data points (at most 300): their input and label (the class index for 'classes'). */
  points: { x: number; y: number; label: number }[];
  /** The weights are those after this step, in this epoch. */
  step: number;
  epoch: number;
}

export type TrainEndReason = 'completed' | 'stopped' | 'diverged';

/** Where a diverged run's loss first became non-finite. */
export interface TrainDivergence {
  epoch: number;
  /**
   * The 1-based global step where it happened: the step whose loss was not finite, or, when an
   * update made a weight non-finite, the step of that update.
   */
  step: number;
  /** The op that first produced NaN/±Infinity (e.g. `log`, `cross_entropy`, `exp`), if found. */
  op: string | null;
  /** Its source range (for a diagnostic on that line). */
  range: Range | null;
  /** The cause in words, e.g. `log(0) = -Infinity`. */
  cause: string;
}

export interface TrainOutcome {
  reason: TrainEndReason;
  /** The last good weights (float64 copies, `P.json` layout). */
  params: Record<string, Float64Array>;
  /** For 'diverged': "loss exploded at epoch E, step S: log produced -Infinity … — try a lower lr". */
  message: string;
  /** Epochs completed. */
  epochs: number;
  /** For 'stopped': the epoch it was in (epochs + 1, or epochs when it stopped at an epoch's end). */
  stoppedInEpoch?: number;
  /** Optimizer steps done. */
  steps: number;
  /** Mean training loss of the last epoch (the part trained, for a run that ended within one). */
  finalLoss: number | null;
  finalValLoss: number | null;
  finalAccuracy: number | null;
  elapsedMs: number;
  /** Set when reason is 'diverged'. */
  divergence?: TrainDivergence;
  /**
   * Set when the last finished epoch's training loss is 10× (or more) the lowest epoch's: the run
   * is diverging although every number stayed finite.
   */
  lossRose?: { bestEpoch: number; bestLoss: number; finalEpoch: number; finalLoss: number };
}
