/**
 * What the check worker (worker.ts) and its host in the language server (server/engine-host.ts)
 * exchange: a check job (a lowered program, the weights to check at, options), and its result
 * (findings, per-model summaries and the numbers hovers show). Plain structured-clone data: no
 * classes, no functions.
 */
import type { BackwardLineDetail, CheckOptions, DataContext, Finding, FunctionLineDetail, IRProgram, Range, Shape } from '../index';
import type { ModelSummary } from './pipeline';

/** Weights by param name (`P.json` layout, flat float64). */
export type Weights = Record<string, Float64Array>;

export interface CurrentWeights {
  params: Weights;
  /** How hovers name them: "the weights trained by run 3 (completed at 14:02)". */
  label: string;
}

export interface CheckJobRequest {
  uri: string;
  /** The document version the program was lowered from. */
  version: number;
  program: IRProgram;
  /** Where data files are resolved; csv sources are removed from `program` when files may not be read. */
  ctx: DataContext;
  /** The models to check (default: all lowered models). */
  models?: string[];
  /** The editor's settings (below a `check` block's options). */
  defaults: Partial<CheckOptions>;
  /** Overrides every model's mode (the full check the user asked for). */
  mode?: 'fast' | 'full';
  /** Weights other than the initial ones, by model. */
  weights: Record<string, CurrentWeights>;
  /** Compute the numbers hovers show (an evaluation at the check's weights and batch). */
  numbers: boolean;
  /** Compute gradient-health findings (on a larger batch). */
  health: boolean;
  /** A model whose check would need more working memory than this (bytes) is not checked. */
  memoryLimit: number;
  /** In `full` mode, a model above this many parameters is checked in `fast` mode unless `mode` forces full. */
  fullCheckParamLimit: number;
}

export interface CheckJobResult {
  uri: string;
  version: number;
  /** Per checked model. */
  models: Record<string, ModelJobResult>;
  /** Gradient findings and health findings of every model, without repeats. */
  findings: Finding[];
  cancelled: boolean;
  elapsedMs: number;
}

export interface ModelJobResult {
  model: string;
  summary: ModelSummary | null;
  /** Where the check's examples came from: a data set's name, or 'random'. */
  source: string;
  mode: 'fast' | 'full';
  numbers: ModelNumbers | null;
  /** Why the model was not checked, if it was not. */
  skipped: string | null;
  /** A note (e.g. checked in fast mode because it is large). */
  note: string | null;
}

// -----------------------------------------------------------------------------------------------
// Numbers for hovers

export interface Stats {
  count: number;
  /** L2 norm (finite elements). */
  norm: number;
  min: number;
  max: number;
  meanAbs: number;
  /** Elements that are NaN or ±Infinity. */
  nonFinite: number;
}

/** One element of ∂C/∂W worked out as the lecture does: forward part × backward part. */
export interface WorkedElement {
  kind: 'matmul' | 'bias';
  /** Flat index into the param and its text form (`W1[12,130]`). */
  flat: number;
  where: string;
  /** The forward part a (the layer's input): a name, or the range of its expression. */
  input: { name: string | null; range: Range; index: string } | null;
  /** The backward part δ = ∂C/∂z: the name of z, or the range of its expression. */
  /**
   * δ's node: its name (for a dense layer's pre-activation, `h.z`: the layer's z), and `note`
   * saying what an implicit name stands for.
   */
  delta: { name: string | null; range: Range; index: string; note?: string };
  /** Per example n (the first few): aⁿ[j] and δⁿ[i] (for a bias only δ). */
  /** Per example: its number as messages say it (its row of the data set, else 1-based), aⁿ[j] and δⁿ[i]. */
  terms: { example: number; a: number | null; d: number }[];
  examples: number;
  /** The mean over all examples of aⁿ[j]·δⁿ[i] (or of δⁿ[i]): this use's share of ∂C/∂W[i,j]. */
  term: number;
  /** ∂C/∂W[i,j] in total (differs from `term` when the param is used more than once). */
  grad: number;
  /** How many times the forward graph uses the param. */
  uses: number;
}

export interface ParamNumbers {
  name: string;
  shape: Shape;
  size: number;
  value: Stats;
  grad: Stats;
  /** The gradient checker's comparison of backpropagation with central differences. */
  check: {
    maxRelError: number;
    status: string;
    worst: { where: string; analytic: number; numeric: number; relError: number } | null;
    comparisons: number;
  } | null;
  /** The element with the largest |∂C/∂W|: backprop against a central difference. */
  element: { flat: number; where: string; analytic: number; numeric: number; relError: number } | null;
  worked: WorkedElement | null;
}

export interface ValueNumbers {
  name: string;
  kind: 'input' | 'target' | 'value' | 'loss';
  shape: Shape;
  batched: boolean;
  value: Stats;
  /** ∂C/∂value for C = the mean loss of the batch. */
  grad: Stats | null;
  /** δⁿ = ∂Cⁿ/∂valueⁿ, one example's loss by its own value, over every example. */
  perExample: Stats | null;
}

/** A backward line's check, without its range (the server maps lines by position). */
export type LineNumbers = Omit<BackwardLineDetail, 'targetKind' | 'range'> & {
  /** Position of the line in the model's backward block. */
  index: number;
};

/** A function grad line's check, without its range. */
export type FunctionLineNumbers = Omit<FunctionLineDetail, 'argIndex' | 'range' | 'pattern'>;

export interface ModelNumbers {
  model: string;
  /** The mean loss on the check batch. */
  loss: number;
  examples: number;
  source: string;
  /** Which weights: "the initial weights (seed 42)" or a trained run's. */
  weights: string;
  mode: 'fast' | 'full';
  eps: number;
  tolerance: number;
  params: Record<string, ParamNumbers>;
  values: Record<string, ValueNumbers>;
  lines: LineNumbers[];
  functionLines: FunctionLineNumbers[];
  /** NaN/Infinity in the evaluation, explained. */
  nonFinite: string | null;
}

// -----------------------------------------------------------------------------------------------
// Messages between the server and the worker

export type ToWorker =
  | {
      type: 'check';
      id: number;
      /** Int32Array[1] over it: set to 1 to cancel the job. */
      cancel: SharedArrayBuffer;
      request: CheckJobRequest;
    }
  /** For tests of the server's crash handling: the worker exits at once. */
  | { type: 'crash' };

export type FromWorker =
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'result'; id: number; result: CheckJobResult }
  | { type: 'error'; id: number; message: string };
