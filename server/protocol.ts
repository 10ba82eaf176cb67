/**
 * The custom LSP protocol between the NN Lens server and its clients.
 *
 * This file is the only thing the VS Code client imports from `server/`, and only its types
 * (plus the method-name constants, which are plain strings). It must not import anything.
 */

/** Request `nnlens/train`: start training a model of a document in a worker. */
export const TrainRequestMethod = 'nnlens/train';
export interface TrainParams {
  uri: string;
  /** Model name; optional when the document has exactly one model with a `train` block. */
  model?: string;
}
export interface TrainResult {
  runId: string;
  model: string;
  /** Epochs and steps the run is going to do, so a client can show a progress fraction. */
  epochs: number;
  stepsPerEpoch: number;
  /** Whether the data has a validation split and targets are one-hot (accuracy available). */
  hasValidation: boolean;
  hasAccuracy: boolean;
}

/** Request `nnlens/stopTraining`: stop a run. Resolves once the run has stopped. */
export const StopTrainingRequestMethod = 'nnlens/stopTraining';
export interface StopTrainingParams {
  runId: string;
}

/** Notification `nnlens/trainProgress`, at least every 100 ms while a run is live. */
export const TrainProgressNotificationMethod = 'nnlens/trainProgress';
export interface TrainProgressParams {
  runId: string;
  uri: string;
  model: string;
  epoch: number;
  step: number;
  loss: number;
  valLoss: number | null;
  accuracy: number | null;
  elapsedMs: number;
}

/** Notification `nnlens/trainDone`, once per run. */
export const TrainDoneNotificationMethod = 'nnlens/trainDone';
export type TrainDoneReason = 'completed' | 'stopped' | 'diverged' | 'error';
export interface TrainDoneParams {
  runId: string;
  uri: string;
  model: string;
  reason: TrainDoneReason;
  /** Where the trained weights were written (`NAME.weights.json`), if they were. */
  weightsPath: string | null;
  /** Human-readable summary or error message. */
  message: string;
  finalLoss: number | null;
  finalValLoss: number | null;
  finalAccuracy: number | null;
  elapsedMs: number;
}

/** Request `nnlens/checkGradients`: a full gradient check of a document (with `$/progress`). */
export const CheckGradientsRequestMethod = 'nnlens/checkGradients';
export interface CheckGradientsParams {
  uri: string;
  model?: string;
  mode?: 'fast' | 'full';
}
export interface CheckGradientsResult {
  /** Per model: loss and per-param max relative error. */
  models: Record<string, { loss: number; params: Record<string, { shape: number[]; maxRelError: number }> }>;
  errors: number;
  warnings: number;
}

/** Request `nnlens/listModels`: models of a document, for the client's quick pick and lenses. */
export const ListModelsRequestMethod = 'nnlens/listModels';
export interface ListModelsParams {
  uri: string;
}
export interface ModelInfo {
  name: string;
  /** 0-based line of the model's name. */
  line: number;
  params: number;
  hasTrain: boolean;
}
export interface ListModelsResult {
  models: ModelInfo[];
}

/** Client command ids the server's code lenses invoke. */
export const ClientCommands = {
  train: 'nnlens.train',
  checkGradients: 'nnlens.checkGradients',
  stopTraining: 'nnlens.stopTraining',
  showLossPanel: 'nnlens.showLossPanel',
} as const;
