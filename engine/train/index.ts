/**
 * Training (float32): the loop, optimizers, metrics and the worker-thread API.
 * docs/training.md describes them.
 */
export * from './types';
export { Trainer, runTraining, checkTrainOptions, trainingSeeds, type TrainerOptions, type RunTrainingOptions } from './trainer';
export { trainInWorker, defaultWorkerScript, type TrainInWorkerOptions } from './in-worker';
export { createOptimizer, optimizerStateSizes, describeOptimizer, type Optimizer } from './optimizers';
export { outputNodeOf, outputNameOf, accuracyKindOf, countCorrect, type AccuracyKind } from './metrics';
export { BoundaryGrid, hasPlaneInput, BOUNDARY_SIZE, BOUNDARY_POINTS } from './boundary';
