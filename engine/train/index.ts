/**
 * Training (float32): the loop, optimizers, metrics and the worker-thread API.
 * docs/training.md describes them.
 */
export * from './types';
export {
  Trainer,
  runTraining,
  checkTrainOptions,
  trainingSeeds,
  chooseThreads,
  largestProductMacs,
  pointEvery,
  POINTS_PER_RUN,
  type TrainerOptions,
  type RunTrainingOptions,
} from './trainer';
export { weightsJson, shortestFloat32 } from './weights';
export { trainInWorker, defaultWorkerScript, type TrainInWorkerOptions } from './in-worker';
export { createOptimizer, optimizerStateSizes, describeOptimizer, type Optimizer } from './optimizers';
export { outputNodeOf, outputNameOf, accuracyKindOf, countCorrect, type AccuracyKind } from './metrics';
export { BoundaryGrid, hasPlaneInput, pictureDue, BOUNDARY_SIZE, BOUNDARY_POINTS, STOP_PICTURE_MS, PICTURE_SPACING } from './boundary';
