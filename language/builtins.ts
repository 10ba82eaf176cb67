/**
 * Everything built into the language: model functions (derived from the engine's op catalog,
 * engine/ops), param initializers, data sources, optimizers and the options of `train` and
 * `check`.
 *
 * Validators, lowering, and the language server's completion, hover, signature help, semantic
 * tokens and rename all read these tables.
 */
import { DATA_DEFAULTS } from '../engine/data/index';
import { DEFAULT_CHECK_OPTIONS, DEFAULT_TRAIN_OPTIONS } from '../engine/ir';
import { BUILTINS, builtin, isScalarEntry, paramNames, requiredParams, signatureOf, type OpEntry } from '../engine/ops/index';

/** A built-in model function, as completion, hovers and signature help show it. */
export interface BuiltinFunction {
  readonly name: string;
  /** Parameter names, in order. */
  readonly params: readonly string[];
  /** How many leading parameters are required (the rest are optional). */
  readonly required: number;
  /** Usable inside a user `function` (elementwise over scalars). */
  readonly elementwise: boolean;
  readonly signature: string;
  readonly doc: string;
  /** The shape rule, as written in the spec's table. */
  readonly rule: string;
  /** Its definition in the op catalog. */
  readonly op: OpEntry;
}

function fromCatalog(op: OpEntry): BuiltinFunction {
  return {
    name: op.name,
    params: paramNames(op),
    required: requiredParams(op),
    elementwise: isScalarEntry(op),
    signature: signatureOf(op),
    doc: op.doc,
    rule: op.rule,
    op,
  };
}

/** Every built-in model function, in the catalog's order. */
export const BUILTIN_FUNCTIONS: readonly BuiltinFunction[] = BUILTINS.map(fromCatalog);

const BY_NAME = new Map(BUILTIN_FUNCTIONS.map((b) => [b.name, b]));

export function builtinFunction(name: string): BuiltinFunction | undefined {
  return builtin(name) ? BY_NAME.get(name) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Arguments of initializers, data sources, optimizers and train/check options

/** An allowed interval; bounds are inclusive unless marked open. */
export interface Interval {
  lo?: number;
  loOpen?: boolean;
  hi?: number;
  hiOpen?: boolean;
}

export type ArgKind =
  | 'number'
  | 'integer'
  | 'string'
  | 'boolean'
  /** csv `label`: a column name or a 0-based column index. */
  | 'column'
  /** One of `words`. */
  | 'word'
  /** `sgd(...)` / `adam(...)`. */
  | 'optimizer';

export interface ArgSpec {
  name: string;
  kind: ArgKind;
  doc: string;
  /** The value used when the argument is omitted (shown in docs and hovers). */
  default?: number | string | boolean | null;
  required?: boolean;
  range?: Interval;
  words?: readonly string[];
}

export function formatInterval(r: Interval): string {
  const { lo, hi } = r;
  if (lo !== undefined && hi !== undefined) {
    return `in ${r.loOpen ? '(' : '['}${lo}, ${hi}${r.hiOpen ? ')' : ']'}`;
  }
  if (lo !== undefined) return r.loOpen ? `> ${lo}` : `>= ${lo}`;
  if (hi !== undefined) return r.hiOpen ? `< ${hi}` : `<= ${hi}`;
  return 'any number';
}

export function inInterval(v: number, r: Interval): boolean {
  if (r.lo !== undefined && (r.loOpen ? !(v > r.lo) : !(v >= r.lo))) return false;
  if (r.hi !== undefined && (r.hiOpen ? !(v < r.hi) : !(v <= r.hi))) return false;
  return true;
}

/** A callable configuration item: an initializer, a data source or an optimizer. */
export interface ConfigCallable {
  name: string;
  args: ArgSpec[];
  doc: string;
  signature: string;
}

function callable(name: string, args: ArgSpec[], doc: string): ConfigCallable {
  const sig = args.map((a) => (a.required ? a.name : `${a.name}: ${JSON.stringify(a.default)}`));
  return { name, args, doc, signature: `${name}(${sig.join(', ')})` };
}

export const MAX_SEED = 4294967295;
const SEED: ArgSpec = {
  name: 'seed',
  kind: 'integer',
  doc: 'Random seed (an integer from 0 to 4294967295).',
  default: DATA_DEFAULTS.seed,
  range: { lo: 0, hi: MAX_SEED },
};

export const INITIALIZERS: readonly ConfigCallable[] = [
  callable('zeros', [], 'All zeros.'),
  callable('ones', [], 'All ones.'),
  callable('constant', [{ name: 'value', kind: 'number', doc: 'The value.', required: true }], 'Every element = value.'),
  callable(
    'normal',
    [
      { name: 'mean', kind: 'number', doc: 'Mean.', required: true },
      { name: 'std', kind: 'number', doc: 'Standard deviation (>= 0).', required: true, range: { lo: 0 } },
    ],
    'Normally distributed N(mean, std²).',
  ),
  callable(
    'uniform',
    [
      { name: 'lo', kind: 'number', doc: 'Lower bound.', required: true },
      { name: 'hi', kind: 'number', doc: 'Upper bound (> lo).', required: true },
    ],
    'Uniform on [lo, hi).',
  ),
  callable('glorot', [], 'Glorot (Xavier) uniform: U(-√(6/(fan_in+fan_out)), +…). The default.'),
  callable('he', [], 'He (Kaiming) normal: N(0, 2/fan_in), for relu layers.'),
];

export const DATA_SOURCE_LIMITS = {
  maxN: 10_000_000,
  maxDigits: 10_000,
  maxClasses: 1000,
} as const;

export const DATA_SOURCES: readonly ConfigCallable[] = [
  callable('xor', [], 'The 4 XOR points: [0,0]→0, [0,1]→1, [1,0]→1, [1,1]→0. Features [2], label [1].'),
  callable(
    'circle',
    [
      { name: 'n', kind: 'integer', doc: 'Number of points.', default: DATA_DEFAULTS.n, range: { lo: 1, hi: DATA_SOURCE_LIMITS.maxN } },
      { name: 'noise', kind: 'number', doc: 'Label noise (>= 0).', default: DATA_DEFAULTS.noise, range: { lo: 0 } },
      SEED,
    ],
    "TensorFlow Playground's circle: class 1 inside, class 0 on a ring. Features [2], label [1].",
  ),
  callable(
    'gauss',
    [
      { name: 'n', kind: 'integer', doc: 'Number of points.', default: DATA_DEFAULTS.n, range: { lo: 1, hi: DATA_SOURCE_LIMITS.maxN } },
      { name: 'noise', kind: 'number', doc: 'Spread (>= 0).', default: DATA_DEFAULTS.noise, range: { lo: 0 } },
      SEED,
    ],
    "TensorFlow Playground's two Gaussian blobs. Features [2], label [1].",
  ),
  callable(
    'spiral',
    [
      { name: 'n', kind: 'integer', doc: 'Number of points.', default: DATA_DEFAULTS.n, range: { lo: 1, hi: DATA_SOURCE_LIMITS.maxN } },
      {
        name: 'classes',
        kind: 'integer',
        doc: 'Number of arms (>= 2).',
        default: DATA_DEFAULTS.classes,
        range: { lo: 2, hi: DATA_SOURCE_LIMITS.maxClasses },
      },
      { name: 'noise', kind: 'number', doc: 'Noise (>= 0).', default: DATA_DEFAULTS.noise, range: { lo: 0 } },
      SEED,
    ],
    'Interleaved spiral arms, one per class. Features [2], label one-hot [classes].',
  ),
  callable(
    'digits16',
    [
      {
        name: 'limit',
        kind: 'integer',
        doc: 'How many digits (1 to 10000).',
        default: DATA_DEFAULTS.limit,
        range: { lo: 1, hi: DATA_SOURCE_LIMITS.maxDigits },
      },
      SEED,
    ],
    'Real handwritten digits, 16×16 grey levels. Features [256], label one-hot [10].',
  ),
  callable(
    'csv',
    [
      { name: 'path', kind: 'string', doc: 'File path, relative to the .nn file.', required: true },
      {
        name: 'label',
        kind: 'column',
        doc: 'The label column: a header name or a 0-based index. Default: the last column.',
        default: null,
      },
      {
        name: 'classes',
        kind: 'integer',
        doc: 'When set, the label is a class (index or name) turned into a one-hot vector of this size.',
        default: null,
        range: { lo: 2, hi: DATA_SOURCE_LIMITS.maxClasses },
      },
      { name: 'normalize', kind: 'boolean', doc: 'Scale each feature column to mean 0, std 1.', default: false },
    ],
    'Rows of a CSV file: every column but the label is a feature.',
  ),
];

export const OPTIMIZERS: readonly ConfigCallable[] = [
  callable(
    'sgd',
    [
      {
        name: 'lr',
        kind: 'number',
        doc: 'Learning rate (> 0).',
        default: DEFAULT_TRAIN_OPTIONS.optimizer.lr,
        range: { lo: 0, loOpen: true },
      },
      { name: 'momentum', kind: 'number', doc: 'Momentum in [0, 1).', default: 0, range: { lo: 0, hi: 1, hiOpen: true } },
    ],
    'Stochastic gradient descent, with optional momentum (PyTorch semantics).',
  ),
  callable(
    'adam',
    [
      { name: 'lr', kind: 'number', doc: 'Learning rate (> 0).', default: 0.001, range: { lo: 0, loOpen: true } },
      { name: 'beta1', kind: 'number', doc: 'First-moment decay in [0, 1).', default: 0.9, range: { lo: 0, hi: 1, hiOpen: true } },
      {
        name: 'beta2',
        kind: 'number',
        doc: 'Second-moment decay in [0, 1).',
        default: 0.999,
        range: { lo: 0, hi: 1, hiOpen: true },
      },
      { name: 'eps', kind: 'number', doc: 'Denominator term (> 0).', default: 1e-8, range: { lo: 0, loOpen: true } },
    ],
    'Adam (Kingma & Ba), PyTorch semantics.',
  ),
];

export const TRAIN_OPTIONS: readonly ArgSpec[] = [
  { name: 'optimizer', kind: 'optimizer', doc: 'sgd(lr, momentum) or adam(lr, beta1, beta2, eps).', default: 'sgd(lr: 0.1)' },
  {
    name: 'batch',
    kind: 'integer',
    doc: 'Examples per step.',
    default: DEFAULT_TRAIN_OPTIONS.batch,
    range: { lo: 1, hi: 1_000_000 },
  },
  {
    name: 'epochs',
    kind: 'integer',
    doc: 'Passes over the training data.',
    default: DEFAULT_TRAIN_OPTIONS.epochs,
    range: { lo: 1, hi: 1_000_000 },
  },
  {
    name: 'split',
    kind: 'number',
    doc: 'Fraction of the data used for training; the rest is validation. 1 = no validation.',
    default: DEFAULT_TRAIN_OPTIONS.split,
    range: { lo: 0, loOpen: true, hi: 1 },
  },
  { ...SEED, doc: 'Seed of the initial weights, shuffles and split.', default: DEFAULT_TRAIN_OPTIONS.seed },
  {
    name: 'gradients',
    kind: 'word',
    words: ['auto', 'manual'],
    doc: 'auto: reverse-mode gradients; manual: the backward block.',
    default: DEFAULT_TRAIN_OPTIONS.gradients,
  },
  {
    name: 'threads',
    kind: 'integer',
    words: ['auto'],
    doc: 'Threads for the large matrix products: auto (every core, up to 4, for a product of a million multiply-adds or more per step, unless the machine is busy) or a count.',
    default: 'auto',
    range: { lo: 1, hi: 256 },
  },
];

export const CHECK_OPTIONS: readonly ArgSpec[] = [
  {
    name: 'examples',
    kind: 'integer',
    doc: 'How many examples the check uses.',
    default: DEFAULT_CHECK_OPTIONS.examples,
    range: { lo: 1, hi: 10_000 },
  },
  {
    name: 'eps',
    kind: 'number',
    doc: 'Central-difference step, in float64.',
    default: DEFAULT_CHECK_OPTIONS.eps,
    range: { lo: 0, loOpen: true },
  },
  {
    name: 'tolerance',
    kind: 'number',
    doc: 'Relative error above which a gradient is wrong.',
    default: DEFAULT_CHECK_OPTIONS.tolerance,
    range: { lo: 0, loOpen: true },
  },
  {
    name: 'mode',
    kind: 'word',
    words: ['fast', 'full'],
    doc: 'fast: random directions per tensor; full: every element.',
    default: DEFAULT_CHECK_OPTIONS.mode,
  },
];

export function findCallable(list: readonly ConfigCallable[], name: string): ConfigCallable | undefined {
  return list.find((c) => c.name === name);
}

/** Names that are built into the language (never reported as unknown when called). */
export function isBuiltinName(name: string): boolean {
  return builtin(name) !== undefined;
}
