/**
 * The engine's intermediate representation (IR).
 *
 * This is the only thing the engine knows about a `.nn` program: plain, serialisable data
 * (JSON round-trips it unchanged). It carries source ranges so that the engine's findings
 * (gradient mismatches, kinks, non-finite values) land on the right span of text without the
 * engine knowing anything about text, Langium or editors.
 *
 * Produced by `language/lower.ts` from a validated AST; consumed by everything in `engine/`.
 *
 * Conventions
 * - Shapes are per example (§2 of the spec): `[]` is a scalar, `[256]` a vector, `[10, 30]` a
 *   matrix. Values that depend on an `input` or `target` carry an implicit leading batch axis
 *   at run time (`batched: true`); `param`s and constants do not.
 * - Ranges are 0-based (LSP style). The CLI converts them to 1-based lines and columns.
 */

import type { BinaryOp, BinarySymbol, NodeOp, UnaryFn } from './ops/names';

export interface Pos {
  line: number;
  character: number;
}

export interface Range {
  start: Pos;
  end: Pos;
}

/** Per-example shape. `[]` is a scalar. */
export type Shape = number[];

export type InitSpec =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: 'normal'; mean: number; std: number }
  | { kind: 'uniform'; lo: number; hi: number }
  | { kind: 'glorot' }
  | { kind: 'he' };

export interface IRTensorDecl {
  name: string;
  shape: Shape;
  /** The declaration's name span (for `dense` params: the `dense(...)` call). */
  range: Range;
}

export interface IRParam extends IRTensorDecl {
  init: InitSpec;
  /** Number of elements (product of shape). */
  size: number;
  /** Set for params created by `dense`: the named value they belong to (`h` for `h.W`). */
  dense?: { value: string; role: 'W' | 'b' };
}

/**
 * Ops are defined in the op catalog (./ops/index.ts); their names (./ops/names.ts) type the IR.
 * A one-argument elementwise built-in is `{ op: 'unary', fn }` in a model and `{ k: 'unary', fn }`
 * in a function body; an elementwise operator is `{ op: 'add' }` and `{ k: 'binary', op: '+' }`.
 */
export type { UnaryFn, BinaryOp, BinarySymbol } from './ops/names';
export { UNARY_FNS } from './ops/names';
/**
 * The body of a user `function` (and of its `grad` lines): an expression over the function's
 * scalar arguments. Functions are elementwise (§4).
 */
export type ScalarExpr =
  | { k: 'arg'; index: number }
  | { k: 'num'; value: number }
  | { k: 'neg'; x: ScalarExpr }
  | { k: 'unary'; fn: UnaryFn; x: ScalarExpr }
  | { k: 'leaky_relu'; x: ScalarExpr; alpha: number }
  | { k: 'binary'; op: BinarySymbol; a: ScalarExpr; b: ScalarExpr }
  | { k: 'pow'; x: ScalarExpr; p: number }
  /** A call of another user function, by name (looked up in `IRProgram.functions`). */
  | { k: 'call'; fn: string; args: ScalarExpr[] };

export interface IRGradLine {
  expr: ScalarExpr;
  /** The whole `grad ARG = EXPR` line. */
  range: Range;
}

export interface IRFunction {
  name: string;
  params: string[];
  body: ScalarExpr;
  /** One entry per parameter: the user's partial derivative, or null (automatic). */
  grads: (IRGradLine | null)[];
  /** The function's name span. */
  range: Range;
}

/** Leaves of a model graph: they compute nothing. */
export type LeafOp =
  | 'input' // attrs.name
  | 'target' // attrs.name
  | 'param' // attrs.name
  | 'const' // attrs.value (a scalar)
  | 'gradRef'; // attrs.name: inside `backward {}`, the user's own line for `grad NAME`

/**
 * Every operation a model graph node can perform: a leaf, `unary` (attrs.fn: a UnaryFn), an
 * elementwise operator (add sub mul div) or another op of the catalog (neg, pow with attrs.p,
 * leaky_relu with attrs.alpha, call with attrs.fn: a user function's name, matmul, …).
 */
export type Op = LeafOp | 'unary' | BinaryOp | NodeOp;

export interface IRNode {
  id: number;
  op: Op;
  /** Argument node ids; always smaller than `id` (nodes are topologically ordered). */
  args: number[];
  /** Per-example result shape. */
  shape: Shape;
  /** True when the value depends on an input or target (has a run-time batch axis). */
  batched: boolean;
  /** The source span of the expression that produced this node. */
  range: Range;
  /** Op attributes. */
  name?: string;
  value?: number;
  p?: number;
  alpha?: number;
  fn?: string;
}

export interface IRNamedValue {
  name: string;
  node: number;
  /** The name span at the definition (`z1` in `z1 = W1 @ x + b1`). */
  range: Range;
  /** The whole defining statement. */
  stmtRange: Range;
}

export interface IRBackwardLine {
  /** X in `grad X = EXPR`. */
  target: string;
  targetKind: 'param' | 'value';
  /** The node computing EXPR (per example). It may use `gradRef` nodes. */
  node: number;
  /** The whole `grad X = EXPR` line. */
  range: Range;
  /** Names Y of every `grad Y` the expression uses (in order of first use). */
  uses: string[];
}

export interface IRModel {
  name: string;
  /** The model's name span. */
  range: Range;
  inputs: IRTensorDecl[];
  targets: IRTensorDecl[];
  params: IRParam[];
  /**
   * All graph nodes in topological order: forward nodes first (inputs, params, named values,
   * the loss), then the nodes of the `backward {}` block, if any.
   */
  nodes: IRNode[];
  /** Named values (`z1 = ...`), in definition order. Includes `dense` values. */
  values: IRNamedValue[];
  loss: IRNamedValue;
  backward: IRBackwardLine[] | null;
}

export type DataSpec =
  | { kind: 'xor' }
  | { kind: 'circle'; n: number; noise: number; seed: number }
  | { kind: 'gauss'; n: number; noise: number; seed: number }
  | { kind: 'spiral'; n: number; classes: number; noise: number; seed: number }
  | { kind: 'digits16'; limit: number; seed: number }
  | {
      kind: 'csv';
      /** As written, relative to the .nn file. */
      path: string;
      /** Column name, or 0-based column index. Default: the last column. */
      label: string | number | null;
      /** When set, the label is a class index (or class name) turned into a one-hot vector. */
      classes: number | null;
      normalize: boolean;
    }
  | { kind: 'table'; rows: { x: number[]; y: number[] }[] };

export interface IRData {
  name: string;
  spec: DataSpec;
  /** The name span. */
  range: Range;
  /** The whole `data` declaration. */
  stmtRange: Range;
}

export type OptimizerSpec =
  | { kind: 'sgd'; lr: number; momentum: number }
  | { kind: 'adam'; lr: number; beta1: number; beta2: number; eps: number };

export interface TrainOptions {
  optimizer: OptimizerSpec;
  batch: number;
  epochs: number;
  /** Fraction of the data used for training; the rest is validation. 1 = no validation. */
  split: number;
  seed: number;
  gradients: 'auto' | 'manual';
  /**
   * Threads for the large matrix products: 'auto' (the default: every core, up to 4, when the
   * model has a product of at least a million multiply-adds per step and the machine is not busy;
   * one otherwise) or a count.
   */
  threads?: number | 'auto';
}

export interface CheckOptions {
  examples: number;
  eps: number;
  tolerance: number;
  mode: 'fast' | 'full';
}

export interface IRTrain {
  model: string;
  data: string;
  options: TrainOptions;
  range: Range;
}

export interface IRCheck {
  model: string;
  data: string;
  /** Options the user wrote; the rest take their defaults. */
  options: Partial<CheckOptions>;
  range: Range;
}

export interface IRProgram {
  functions: IRFunction[];
  models: IRModel[];
  data: IRData[];
  trains: IRTrain[];
  checks: IRCheck[];
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 },
  batch: 32,
  epochs: 10,
  split: 1,
  seed: 0,
  gradients: 'auto',
};

export const DEFAULT_CHECK_OPTIONS: CheckOptions = {
  examples: 4,
  eps: 1e-6,
  tolerance: 1e-6,
  mode: 'fast',
};

/** Parameters budget (elements) above which a model is never allocated (`model-too-large`). */
export const MAX_PARAM_ELEMENTS = 50_000_000;

/**
 * A finding of the engine, to be turned into a diagnostic by an upper layer.
 * Codes are stable (see docs/diagnostics.md).
 */
export interface Finding {
  code: string;
  severity: 'error' | 'warning' | 'info' | 'hint';
  message: string;
  range: Range;
  /** Optional related location (e.g. the wrong line a dependant line points to). */
  related?: { range: Range; message: string }[];
}
