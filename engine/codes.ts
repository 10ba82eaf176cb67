/**
 * The one registry of diagnostic codes: every code NN Lens reports, from the language
 * (validation), the engine (gradient check, numbers, health) and the editor (checking itself,
 * training). A code is part of the contract (docs/diagnostics.md): never rename one; add new ones.
 *
 * `Codes.X` is the code's string; `CODE_INFO[code]` its default severity, where it comes from,
 * and a one-line summary (docs/diagnostics.md lists the same, a test keeps them in step).
 */
export type Severity = 'error' | 'warning' | 'info' | 'hint';

/** Which part of NN Lens finds it (the section of docs/diagnostics.md). */
export type CodeSource = 'language' | 'gradients' | 'health' | 'editor';

interface CodeEntry {
  readonly code: string;
  readonly severity: Severity;
  readonly source: CodeSource;
  readonly summary: string;
}

const REGISTRY = {
  SyntaxError: { code: 'syntax-error', severity: 'error', source: 'language', summary: 'The text does not parse (lexer or parser error).' },
  UnknownName: { code: 'unknown-name', severity: 'error', source: 'language', summary: 'A name that is not declared where it is used.' },
  UnknownMember: { code: 'unknown-member', severity: 'error', source: 'language', summary: '`h.X` where X is not W or b, or h has no dense layer.' },
  DuplicateName: { code: 'duplicate-name', severity: 'error', source: 'language', summary: 'A name declared twice (top level, per model, per function).' },
  UseBeforeDefinition: { code: 'use-before-definition', severity: 'error', source: 'language', summary: 'A named value (or `grad X` in backward) used before the line that defines it.' },
  Cycle: { code: 'cycle', severity: 'error', source: 'language', summary: 'Consts, values or functions that depend on themselves.' },
  Arity: { code: 'arity', severity: 'error', source: 'language', summary: 'A call with the wrong number of arguments.' },
  NotAValue: { code: 'not-a-value', severity: 'error', source: 'language', summary: 'A function name used where a tensor is expected.' },
  TypeError: { code: 'type-error', severity: 'error', source: 'language', summary: 'A string or boolean where a number or tensor is expected.' },
  NotConstant: { code: 'not-constant', severity: 'error', source: 'language', summary: 'A compile-time number is required (exponent, dimension, dense size, leaky_relu alpha).' },
  InvalidNumber: { code: 'invalid-number', severity: 'error', source: 'language', summary: 'A compile-time number that is not finite (e.g. 1/0).' },
  MissingInput: { code: 'missing-input', severity: 'error', source: 'language', summary: 'A model without an `input`.' },
  MissingLoss: { code: 'missing-loss', severity: 'error', source: 'language', summary: 'A model without a `loss`.' },
  MultipleLoss: { code: 'multiple-loss', severity: 'error', source: 'language', summary: 'A model with more than one `loss`.' },
  LossNotScalar: { code: 'loss-not-scalar', severity: 'error', source: 'language', summary: 'The loss is not a scalar per example.' },
  UnusedParam: { code: 'unused-param', severity: 'warning', source: 'language', summary: 'A param the loss does not depend on.' },
  UnusedInput: { code: 'unused-input', severity: 'warning', source: 'language', summary: 'An input the loss does not depend on.' },
  UnusedTarget: { code: 'unused-target', severity: 'warning', source: 'language', summary: 'A target the loss does not depend on.' },
  UnusedValue: { code: 'unused-value', severity: 'warning', source: 'language', summary: 'A named value the loss does not depend on.' },
  DensePlacement: { code: 'dense-placement', severity: 'error', source: 'language', summary: '`dense` outside a named value, twice in one value, or with a bad activation.' },
  InvalidDim: { code: 'invalid-dim', severity: 'error', source: 'language', summary: 'A dimension that is not a positive integer.' },
  ModelTooLarge: { code: 'model-too-large', severity: 'error', source: 'language', summary: 'A tensor or a model above 50,000,000 elements; such a model is never allocated.' },
  UnknownInit: { code: 'unknown-init', severity: 'error', source: 'language', summary: 'A param initializer that does not exist or has bad arguments.' },
  ShapeMismatch: { code: 'shape-mismatch', severity: 'error', source: 'language', summary: 'Operand shapes that break a shape rule of the language.' },
  FunctionNotElementwise: { code: 'function-not-elementwise', severity: 'error', source: 'language', summary: 'A function body using an operation that is not elementwise over scalars.' },
  UnknownGradArg: { code: 'unknown-grad-arg', severity: 'error', source: 'language', summary: '`grad ARG` in a function for an argument it does not have.' },
  DuplicateGrad: { code: 'duplicate-grad', severity: 'error', source: 'language', summary: 'Two `grad` lines for the same argument or tensor.' },
  MultipleBackward: { code: 'multiple-backward', severity: 'error', source: 'language', summary: 'A model with more than one `backward` block.' },
  InvalidGradTarget: { code: 'invalid-grad-target', severity: 'error', source: 'language', summary: '`grad X` where X is an input or target (only params and named values have grad lines).' },
  GradOutsideBackward: { code: 'grad-outside-backward', severity: 'error', source: 'language', summary: '`grad X` used as a value outside a backward block.' },
  UnknownOption: { code: 'unknown-option', severity: 'error', source: 'language', summary: 'An option `train`/`check` (or an optimizer) does not have.' },
  DuplicateOption: { code: 'duplicate-option', severity: 'error', source: 'language', summary: 'An option given twice.' },
  OptionType: { code: 'option-type', severity: 'error', source: 'language', summary: 'An option value of the wrong type.' },
  OptionRange: { code: 'option-range', severity: 'error', source: 'language', summary: 'An option value outside its allowed range.' },
  ManualGradientsIncomplete: { code: 'manual-gradients-incomplete', severity: 'error', source: 'language', summary: '`gradients: manual` without a backward line for every param.' },
  DuplicateTrain: { code: 'duplicate-train', severity: 'error', source: 'language', summary: 'Two `train` blocks for one model.' },
  DuplicateCheck: { code: 'duplicate-check', severity: 'error', source: 'language', summary: 'Two `check` blocks for one model.' },
  UnknownSource: { code: 'unknown-source', severity: 'error', source: 'language', summary: 'A data source that does not exist.' },
  UnknownArgument: { code: 'unknown-argument', severity: 'error', source: 'language', summary: 'A data source argument that does not exist.' },
  MissingArgument: { code: 'missing-argument', severity: 'error', source: 'language', summary: 'A required data source argument is missing (csv path).' },
  ArgumentType: { code: 'argument-type', severity: 'error', source: 'language', summary: 'A data source or initializer argument of the wrong type.' },
  ArgumentRange: { code: 'argument-range', severity: 'error', source: 'language', summary: 'A data source or initializer argument out of range.' },
  DataError: { code: 'data-error', severity: 'error', source: 'language', summary: 'The data cannot be used: missing file, bad row or column, path outside the workspace.' },
  DataBinding: { code: 'data-binding', severity: 'error', source: 'language', summary: '`train`/`check` on a model without exactly one input (and, for train, one target).' },
  ColumnVector: { code: 'column-vector', severity: 'warning', source: 'language', summary: 'softmax, log_softmax, cross_entropy or max over a last axis of size 1 (a column [n, 1] where a vector [n] is meant).' },
  ElementwiseMatmul: { code: 'elementwise-matmul', severity: 'warning', source: 'language', summary: '`*` of a matrix and a vector where `@` (the matrix product) fits.' },
  BroadcastColumn: { code: 'broadcast-column', severity: 'warning', source: 'language', summary: 'Broadcasting that makes a matrix [m, n] out of a vector [n] and a column [m, 1].' },
  DataShapeMismatch: { code: 'data-shape-mismatch', severity: 'error', source: 'language', summary: "The data's feature/label shapes differ from the model's." },
  GradMismatch: { code: 'grad-mismatch', severity: 'error', source: 'gradients', summary: 'A derivative you wrote (a function grad line or a backward line) is wrong on its own.' },
  GradDependent: { code: 'grad-dependent', severity: 'info', source: 'gradients', summary: 'A backward line right on its own but wrong as written, because it uses a wrong earlier line.' },
  GradKink: { code: 'grad-kink', severity: 'hint', source: 'gradients', summary: 'A numeric/automatic mismatch explained by a kink within the perturbation.' },
  GradUnexplained: { code: 'grad-unexplained', severity: 'warning', source: 'gradients', summary: 'Automatic and numeric gradients disagree and nothing the user wrote explains it.' },
  NonFinite: { code: 'non-finite', severity: 'error', source: 'gradients', summary: 'NaN or Infinity appeared (forward or backward), on the op that produced it.' },
  VanishingGradient: { code: 'vanishing-gradient', severity: 'warning', source: 'health', summary: 'Saturated sigmoid/tanh units, or a first layer whose relative gradient fades.' },
  ExplodingGradient: { code: 'exploding-gradient', severity: 'warning', source: 'health', summary: 'A gradient so large that one step would blow the weights up.' },
  DeadRelu: { code: 'dead-relu', severity: 'warning', source: 'health', summary: 'relu units that are 0 on every example of the batch.' },
  CheckSkipped: { code: 'check-skipped', severity: 'info', source: 'editor', summary: 'A model too large to check as you type.' },
  CheckFailed: { code: 'check-failed', severity: 'warning', source: 'editor', summary: 'The engine worker crashed or timed out on this document.' },
  TrainingDiverged: { code: 'training-diverged', severity: 'warning', source: 'editor', summary: 'A training run diverged; on the op that first produced NaN/Infinity.' },
} as const satisfies Record<string, CodeEntry>;

type Registry = typeof REGISTRY;

/** Every code by name: `Codes.ShapeMismatch` is `'shape-mismatch'`. */
export const Codes = Object.fromEntries(Object.entries(REGISTRY).map(([k, v]) => [k, v.code])) as {
  readonly [K in keyof Registry]: Registry[K]['code'];
};

export type Code = Registry[keyof Registry]['code'];

/** Codes of the language's own validation. */
export type LanguageCode = { [K in keyof Registry]: Registry[K]['source'] extends 'language' ? Registry[K]['code'] : never }[keyof Registry];

/** Every code with its default severity, source and summary (for docs and tests). */
export const CODE_INFO = Object.fromEntries(Object.values(REGISTRY).map((e) => [e.code, e])) as Record<Code, CodeEntry>;
