/**
 * The training API's types. The trainer (engine/train) compiles a model once into float32,
 * runs the optimizer over seeded batches, and reports progress; `trainInWorker` runs the same
 * loop in a worker_thread for editors (progress at least every 100 ms, stops within 200 ms of
 * an abort).
 */
import type { DataContext, Dataset } from '../data/types';
import type { IRProgram, TrainOptions } from '../ir';

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
  /** Accuracy on the validation set (training set without one), one-hot targets only. */
  accuracy: number | null;
  elapsedMs: number;
}

export type TrainEndReason = 'completed' | 'stopped' | 'diverged';

export interface TrainOutcome {
  reason: TrainEndReason;
  /** The last good weights (float64 copies, `P.json` layout). */
  params: Record<string, Float64Array>;
  /** For 'diverged': "loss exploded at epoch E, step S: log produced -Infinity … — try a lower lr". */
  message: string;
  epochs: number;
  steps: number;
  finalLoss: number | null;
  finalValLoss: number | null;
  finalAccuracy: number | null;
  elapsedMs: number;
}
