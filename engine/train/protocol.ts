/** Messages between `trainInWorker` and the training worker (./worker.ts). */
import type { TrainJob, TrainOutcome, TrainPlan, TrainProgress } from './types';

export interface WorkerData {
  job: TrainJob;
  /** Int32Array(1) over it: 0 = run, 1 = stop. */
  stop: SharedArrayBuffer;
  /** `RunTrainingOptions.boundaryIntervalMs` (absent: no decision boundary; the CLI draws none). */
  boundaryIntervalMs?: number;
}

export type WorkerMessage =
  | { kind: 'start'; plan: TrainPlan }
  | { kind: 'progress'; progress: TrainProgress }
  | { kind: 'done'; outcome: TrainOutcome }
  | { kind: 'error'; message: string; stack: string };
