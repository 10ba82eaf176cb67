/**
 * Stable codes of the language's diagnostics (docs/diagnostics.md, section "Language").
 * A code is part of the contract: never rename one; add new ones instead.
 */
export const Codes = {
  // Syntax and names
  SyntaxError: 'syntax-error',
  UnknownName: 'unknown-name',
  UnknownMember: 'unknown-member',
  DuplicateName: 'duplicate-name',
  UseBeforeDefinition: 'use-before-definition',
  Cycle: 'cycle',
  Arity: 'arity',
  NotAValue: 'not-a-value',
  TypeError: 'type-error',
  NotConstant: 'not-constant',
  InvalidNumber: 'invalid-number',

  // Model structure
  MissingInput: 'missing-input',
  MissingLoss: 'missing-loss',
  MultipleLoss: 'multiple-loss',
  LossNotScalar: 'loss-not-scalar',
  UnusedParam: 'unused-param',
  UnusedInput: 'unused-input',
  UnusedTarget: 'unused-target',
  UnusedValue: 'unused-value',
  DensePlacement: 'dense-placement',
  InvalidDim: 'invalid-dim',
  ModelTooLarge: 'model-too-large',
  UnknownInit: 'unknown-init',

  // Shapes
  ShapeMismatch: 'shape-mismatch',

  // Functions
  FunctionNotElementwise: 'function-not-elementwise',
  UnknownGradArg: 'unknown-grad-arg',
  DuplicateGrad: 'duplicate-grad',

  // backward {}
  MultipleBackward: 'multiple-backward',
  InvalidGradTarget: 'invalid-grad-target',
  GradOutsideBackward: 'grad-outside-backward',

  // train / check
  UnknownOption: 'unknown-option',
  DuplicateOption: 'duplicate-option',
  OptionType: 'option-type',
  OptionRange: 'option-range',
  ManualGradientsIncomplete: 'manual-gradients-incomplete',
  DuplicateTrain: 'duplicate-train',
  DuplicateCheck: 'duplicate-check',

  // data
  UnknownSource: 'unknown-source',
  UnknownArgument: 'unknown-argument',
  MissingArgument: 'missing-argument',
  ArgumentType: 'argument-type',
  ArgumentRange: 'argument-range',
  DataError: 'data-error',
  DataBinding: 'data-binding',
  DataShapeMismatch: 'data-shape-mismatch',
} as const;

export type Code = (typeof Codes)[keyof typeof Codes];

/** Every code with its default severity and a one-line description (for docs and tests). */
export const CODE_INFO: Record<Code, { severity: 'error' | 'warning'; summary: string }> = {
  'syntax-error': { severity: 'error', summary: 'The text does not parse (lexer or parser error).' },
  'unknown-name': { severity: 'error', summary: 'A name that is not declared where it is used.' },
  'unknown-member': { severity: 'error', summary: '`h.X` where X is not W or b, or h has no dense layer.' },
  'duplicate-name': { severity: 'error', summary: 'A name declared twice (top level, per model, per function).' },
  'use-before-definition': {
    severity: 'error',
    summary: 'A named value (or `grad X` in backward) used before the line that defines it.',
  },
  cycle: { severity: 'error', summary: 'Consts, values or functions that depend on themselves.' },
  arity: { severity: 'error', summary: 'A call with the wrong number of arguments.' },
  'not-a-value': { severity: 'error', summary: 'A function name used where a tensor is expected.' },
  'type-error': { severity: 'error', summary: 'A string or boolean where a number or tensor is expected.' },
  'not-constant': {
    severity: 'error',
    summary: 'A compile-time number is required (exponent, dimension, dense size, leaky_relu alpha).',
  },
  'invalid-number': { severity: 'error', summary: 'A compile-time number that is not finite (e.g. 1/0).' },
  'missing-input': { severity: 'error', summary: 'A model without an `input`.' },
  'missing-loss': { severity: 'error', summary: 'A model without a `loss`.' },
  'multiple-loss': { severity: 'error', summary: 'A model with more than one `loss`.' },
  'loss-not-scalar': { severity: 'error', summary: 'The loss is not a scalar per example.' },
  'unused-param': { severity: 'warning', summary: 'A param the loss does not depend on.' },
  'unused-input': { severity: 'warning', summary: 'An input the loss does not depend on.' },
  'unused-target': { severity: 'warning', summary: 'A target the loss does not depend on.' },
  'unused-value': { severity: 'warning', summary: 'A named value the loss does not depend on.' },
  'dense-placement': {
    severity: 'error',
    summary: '`dense` outside a named value, twice in one value, or with a bad activation.',
  },
  'invalid-dim': { severity: 'error', summary: 'A dimension that is not a positive integer.' },
  'model-too-large': {
    severity: 'error',
    summary: 'A tensor or a model above 50,000,000 elements; such a model is never allocated.',
  },
  'unknown-init': { severity: 'error', summary: 'A param initializer that does not exist or has bad arguments.' },
  'shape-mismatch': { severity: 'error', summary: 'Operand shapes that break a shape rule of the language.' },
  'function-not-elementwise': {
    severity: 'error',
    summary: 'A function body using an operation that is not elementwise over scalars.',
  },
  'unknown-grad-arg': { severity: 'error', summary: '`grad ARG` in a function for an argument it does not have.' },
  'duplicate-grad': { severity: 'error', summary: 'Two `grad` lines for the same argument or tensor.' },
  'multiple-backward': { severity: 'error', summary: 'A model with more than one `backward` block.' },
  'invalid-grad-target': {
    severity: 'error',
    summary: '`grad X` where X is an input or target (only params and named values have grad lines).',
  },
  'grad-outside-backward': { severity: 'error', summary: '`grad X` used as a value outside a backward block.' },
  'unknown-option': { severity: 'error', summary: 'An option `train`/`check` (or an optimizer) does not have.' },
  'duplicate-option': { severity: 'error', summary: 'An option given twice.' },
  'option-type': { severity: 'error', summary: 'An option value of the wrong type.' },
  'option-range': { severity: 'error', summary: 'An option value outside its allowed range.' },
  'manual-gradients-incomplete': {
    severity: 'error',
    summary: '`gradients: manual` without a backward line for every param.',
  },
  'duplicate-train': { severity: 'error', summary: 'Two `train` blocks for one model.' },
  'duplicate-check': { severity: 'error', summary: 'Two `check` blocks for one model.' },
  'unknown-source': { severity: 'error', summary: 'A data source that does not exist.' },
  'unknown-argument': { severity: 'error', summary: 'A data source argument that does not exist.' },
  'missing-argument': { severity: 'error', summary: 'A required data source argument is missing (csv path).' },
  'argument-type': { severity: 'error', summary: 'A data source or initializer argument of the wrong type.' },
  'argument-range': { severity: 'error', summary: 'A data source or initializer argument out of range.' },
  'data-error': {
    severity: 'error',
    summary: 'The data cannot be used: missing file, bad row or column, path outside the workspace.',
  },
  'data-binding': {
    severity: 'error',
    summary: '`train`/`check` on a model without exactly one input (and, for train, one target).',
  },
  'data-shape-mismatch': { severity: 'error', summary: "The data's feature/label shapes differ from the model's." },
};
