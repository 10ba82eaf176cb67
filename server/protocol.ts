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
  /**
   * Where the run starts: 'initial' (the default) from the train block's initial weights, as
   * `nnlens train` does; 'resume' from the model's current weights — the last run's, or weights
   * loaded from a file (`ModelInfo.currentWeights` says which). Refused when there are none.
   */
  weights?: 'initial' | 'resume';
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
  /** The epoch in progress, 1-based. */
  epoch: number;
  /** Optimizer steps done since the start of the run (global, not reset per epoch); the
   * loss panel's x axis. */
  step: number;
  /** Training loss at this step (or the mean of the steps since the previous notification). */
  loss: number;
  /** Loss on the validation split, when one was measured since the previous notification. */
  valLoss: number | null;
  /** Fraction (0–1) of correctly classified examples, when the targets are one-hot. */
  accuracy: number | null;
  elapsedMs: number;
  /**
   * Every point of the loss curve since the previous notification — one per epoch, and one every
   * N steps of long epochs (about 500 per run) — however the notifications are throttled. Absent
   * from servers before it (a client then charts one point per notification).
   */
  points?: TrainPointParams[];
  /**
   * For a model whose input is a point of the plane (xor, circle, spiral, gauss, a 2-column
   * csv): its output over the plane at the current weights, at least every 500 ms while it
   * trains (the loss panel draws it beside the curves). Absent on most notifications.
   */
  boundary?: TrainBoundary;
}

/** A point of the loss curve. `valLoss` and `accuracy` are set on an epoch's last point. */
export interface TrainPointParams {
  step: number;
  epoch: number;
  /** Mean training loss of the steps since the previous point. */
  loss: number;
  valLoss: number | null;
  accuracy: number | null;
  elapsedMs: number;
}

/** A model's output over the plane of its 2-D input (engine/train/types.ts `DecisionBoundary`). */
export interface TrainBoundary {
  x: [number, number];
  y: [number, number];
  size: number;
  outputs: number;
  kind: 'binary' | 'classes' | 'values';
  /** Cell (i, j), row i from the bottom: values[(i·size + j)·outputs + c] (null: not finite). */
  values: (number | null)[];
  points: { x: number; y: number; label: number }[];
  step: number;
  epoch: number;
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
  /** 0-based last line of the model declaration (its closing brace). Optional: without it the
   * client takes a model to extend to the next model's line. */
  endLine?: number;
  /** 0-based first and last lines of the model's `train` block, if it has one. */
  trainRange?: { line: number; endLine: number };
  /**
   * When the model has weights other than its initial ones (a run's, or loaded), how hovers name
   * them ("the weights trained by run r1 (completed at 14:02, epoch 20)"): a new run may continue
   * from them (`TrainParams.weights: 'resume'`).
   */
  currentWeights?: string;
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
  /** The debugger on example 1 of a model (VS Code only: it starts a debug session). */
  stepThrough: 'nnlens.stepThrough',
} as const;

/**
 * Arguments of the client commands when a code lens (or anything else) invokes them with a
 * target: `nnlens.train` and `nnlens.checkGradients` take `[uri, model?]` (a document URI
 * string and a model name; `nnlens.train` also a third, 'initial' or 'resume', instead of asking
 * when the model has trained weights); `nnlens.stopTraining` takes `[runId?]`. Without arguments
 * the commands act on the active editor (train: the model at the cursor, or a quick pick).
 */
export type TrainCommandArgs = [uri: string, model?: string, weights?: 'initial' | 'resume'];
export type CheckGradientsCommandArgs = [uri: string, model?: string];
export type StopTrainingCommandArgs = [runId?: string];
export type StepThroughCommandArgs = [uri: string, model?: string];

/** The `nnlens.*` settings (VS Code sends them on `workspace/didChangeConfiguration` under
 * `nnlens`, and answers `workspace/configuration` for section `nnlens`). */
export interface NnLensSettings {
  gradientCheck: {
    /** Check gradients as the user types (debounced, in the worker). */
    onEdit: boolean;
    /** Default mode of the check; a `check` block in the file overrides it. */
    mode: 'fast' | 'full';
    /** Relative error above which a gradient is wrong; a `check` block overrides it. */
    tolerance: number;
    /** Central-difference step (float64); a `check` block overrides it. */
    eps: number;
  };
  inlayHints: {
    /** Show the shape of each named value (`z1 = W1 @ x + b1  : [30]`). */
    shapes: boolean;
    /** Show the parameter count of each `param`, `dense` layer and model. */
    paramCounts: boolean;
  };
  training: {
    /** Write `NAME.weights.json` next to the file when a run completes or is stopped. */
    saveWeights: boolean;
  };
  /**
   * A weights file (the P.json format) whose weights hovers, checks and the Backprop view use
   * instead of the initial ones: relative to the `.nn` file's folder, `${model}` for the model's
   * name (`${model}.weights.json`). Empty: none. Added after v1; absent means empty.
   */
  weightsFile: string;
  /**
   * `nnlens.trainThreads`: threads for a run's large matrix products, 'auto' (the default) or a
   * count; a train block's `threads:` option overrides it.
   */
  trainThreads: number | 'auto';
}

/** `initializationOptions` the VS Code client sends in `initialize`. */
export interface InitializationOptions {
  /**
   * False in an untrusted workspace (VS Code's Restricted Mode): the server must not read data
   * files (`csv(...)`), must refuse `nnlens/train`, and should say why in the affected
   * diagnostics. Parsing, shapes and gradient checks on synthetic data stay on.
   */
  workspaceTrusted: boolean;
  settings: NnLensSettings;
}

/** Notification `nnlens/workspaceTrust` (client → server): the user granted workspace trust
 * (VS Code never revokes trust without a restart). The server may now read data files and train. */
export const WorkspaceTrustNotificationMethod = 'nnlens/workspaceTrust';
export interface WorkspaceTrustParams {
  trusted: boolean;
}

/**
 * Request `nnlens/debug/stats` (any client, for tests and troubleshooting): the server process's
 * memory, its engine workers and its documents. Added after v1; clients may ignore it.
 */
export const DebugStatsRequestMethod = 'nnlens/debug/stats';
export interface DebugStatsResult {
  /** `process.memoryUsage()` of the server, in bytes. */
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  workers: Record<string, { restarts: number; crashes: number; jobs: number; running: boolean; pending: number }>;
  documents: number;
  trainingRuns: number;
  /**
   * Requests about open documents since the server started: `stale` were answered ContentModified
   * without any work (a newer edit had replaced their version), `overtaken` were answered
   * ContentModified after their work had started (it was cancelled), `answered` got their result,
   * `cancelled` were cancelled by the client before their work started.
   */
  requests: { received: number; stale: number; overtaken: number; answered: number; cancelled: number };
  /** Document builds that reached validation since the server started (a burst of edits is built once). */
  validations: number;
  /**
   * Model analyses since the server started: `computed` afresh, `reused` from the previous version
   * of their document (the model's text and what it uses were unchanged), and models whose
   * diagnostics were reused too (their validation skipped). An edit in one model of a big file
   * computes that model only.
   */
  analyses: { computed: number; reused: number; diagnosticsReused: number };
  /**
   * Parses of a changed document since the server started: `spliced`, parsed again only around
   * the change (the declarations before and after it taken over), or `whole`.
   */
  parses: { spliced: number; whole: number };
}

/** Request `nnlens/debug/crashWorker`: makes the engine worker of on-edit checks exit abruptly
 * (tests of the server's crash handling). */
export const DebugCrashWorkerRequestMethod = 'nnlens/debug/crashWorker';

// -----------------------------------------------------------------------------------------------
// The trace of one example (the Backprop view, issue 10)

/**
 * Request `nnlens/trace`: the forward and backward pass of one example of a model, in float64,
 * at the initial or the last trained weights (§10). The answer is the trace (`status: 'ok'`),
 * or why there is none: the model has errors (they are listed), or the example or model is not
 * usable (a message).
 */
export const TraceRequestMethod = 'nnlens/trace';
export interface TraceParams {
  uri: string;
  /** Model name; default: the first model of the document. */
  model?: string;
  /** 1-based; default 1. */
  example?: number;
  /** Default 'initial'; 'trained' falls back to the initial weights when none were trained. */
  weights?: 'initial' | 'trained';
}

export type TraceResult =
  | {
      status: 'ok';
      trace: TraceView;
      /** Which weights were used, and whether trained ones exist for the model. */
      weights: 'initial' | 'trained';
      trainedAvailable: boolean;
      /** The models of the document (for a model picker). */
      models: string[];
      /** The document version the trace was computed on. */
      version: number;
    }
  | {
      status: 'errors';
      model: string;
      message: string;
      /** The document's errors (0-based lines and characters). */
      diagnostics: { line: number; character: number; endLine: number; endCharacter: number; code: string | null; message: string }[];
      models: string[];
      version: number;
    }
  | { status: 'unavailable'; model: string | null; message: string; models: string[]; version: number | null };

/** A 0-based position and range (LSP style), as the trace carries them. */
export interface TracePos {
  line: number;
  character: number;
}
export interface TraceRange {
  start: TracePos;
  end: TracePos;
}
/** Numbers as JSON carries them: row-major, null for NaN/±Infinity. */
export type TraceNumbers = (number | null)[];

/**
 * The trace as data: the same type as `TraceData` of engine/session/trace.ts, written out here
 * because this file imports nothing (test/server/protocol-trace.test.ts checks that the two are
 * mutually assignable).
 */
export interface TraceView {
  model: string;
  example: number;
  examples: { count: number; source: string };
  weights: string;
  loss: number | null;
  nodes: {
    name: string;
    kind: 'input' | 'target' | 'param' | 'value' | 'loss';
    line: number;
    range: TraceRange;
    stmtRange: TraceRange | null;
    shape: number[];
    node: number;
    value: TraceNumbers;
    grad: TraceNumbers | null;
    expr: string | null;
    step: number;
    gradStep: number;
    dense?: { value: string; role: 'W' | 'b' };
  }[];
  edges: { from: string; to: string; op: string; opNode: number }[];
  steps: {
    index: number;
    phase: 'forward' | 'backward';
    statement: string;
    line: number;
    range: TraceRange;
    label: string;
    reveals: string[];
    edges: number[];
  }[];
  amplifiers: {
    statement: string;
    fn: string;
    zName: string | null;
    zText: string;
    z: TraceNumbers;
    slope: TraceNumbers;
    zGrad: TraceNumbers;
  }[];
  weightUses: {
    param: string;
    statement: string;
    side: 'left' | 'right';
    input: { name: string | null; text: string; shape: number[]; value: TraceNumbers };
    delta: { name: string | null; text: string; shape: number[]; value: TraceNumbers };
  }[];
  backward: {
    line: number;
    range: TraceRange;
    name: string;
    targetKind: 'param' | 'value';
    shape: number[];
    user: TraceNumbers | null;
    truth: TraceNumbers;
    givenTrue: TraceNumbers;
    status: 'ok' | 'wrong' | 'dependent' | 'unchecked';
    dependsOn: string[];
    uses: string[];
    message: string;
  }[];
  nonFinite: string | null;
}

/** `nnlens.showBackprop` takes `[uri, model?]`; without arguments, the model at the cursor. */
export const ShowBackpropCommand = 'nnlens.showBackprop';
export type ShowBackpropCommandArgs = [uri: string, model?: string];

/**
 * Request `nnlens/loadWeights` (client → server; the command "NN Lens: Load Weights"): a weights
 * file in the P.json format (what `nnlens train` and an exported project's train.py write) becomes
 * the current weights of a model of an open document; hovers, checks and the Backprop view use
 * them. `path`: a file path (relative to the document's folder) or a `file:` URI. `model`: the
 * model it is for; without it, the one model whose params the file fits. Added after v1.
 */
export const LoadWeightsRequestMethod = 'nnlens/loadWeights';
export interface LoadWeightsParams {
  uri: string;
  path: string;
  model?: string;
}
export type LoadWeightsResult =
  | { status: 'ok'; model: string; /** How hovers name the weights. */ label: string }
  | { status: 'error'; message: string };
