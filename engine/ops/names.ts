/**
 * The names of every op of the catalog, in the order the docs, completion and the grammar list
 * them. This file is the catalog's index: adding a name here makes the compiler ask for its
 * definition in the table of its family (`satisfies Record<…>` in ./unary.ts, ./arith.ts, …).
 *
 * Plain data with no imports: the IR (../ir.ts) derives its op and function types from it.
 */

/**
 * Elementwise functions of one tensor and no compile-time argument. In the IR a node
 * `{ op: 'unary', fn }` and, inside a user function, `{ k: 'unary', fn }`. Defined in ./unary.ts.
 */
export const UNARY_FNS = ['sigmoid', 'tanh', 'relu', 'exp', 'log', 'sqrt', 'abs', 'square', 'softplus', 'gelu', 'elu', 'step'] as const;

/** The arithmetic operators, by IR name, with their symbols. Defined in ./arith.ts. */
export const ARITH_OPS = { add: '+', sub: '-', mul: '*', div: '/' } as const;

/** The comparisons (§9): 1 where true, 0 where not; derivative 0. Defined in ./compare.ts. */
export const COMPARISON_OPS = { gt: '>', lt: '<', ge: '>=', le: '<=' } as const;

/**
 * Elementwise binary operators, by IR name, with the symbol the language writes. In the IR a node
 * `{ op: NAME }` and, inside a user function, `{ k: 'binary', op: SYMBOL }`.
 * (Precedence is the grammar's business, language/nn.langium.)
 */
export const BINARY_OPS = { ...ARITH_OPS, ...COMPARISON_OPS } as const;

/**
 * Every other op that is a node of the IR (`{ op: NAME }`, with its attributes). Defined in
 * ./arith.ts (neg pow), ./unary.ts (leaky_relu), ./call.ts, ./linalg.ts, ./reduce.ts, ./loss.ts.
 */
export const NODE_OPS = [
  'neg',
  'pow',
  'leaky_relu',
  'call',
  'matmul',
  'transpose',
  'outer',
  'dot',
  'sum',
  'mean',
  'max',
  'softmax',
  'log_softmax',
  'cross_entropy',
  'mse',
  'binary_cross_entropy',
] as const;

/** Language sugar: built-ins that lower to other ops (./dense.ts). */
export const SUGAR_OPS = ['dense'] as const;

export type UnaryFn = (typeof UNARY_FNS)[number];
export type ArithOp = keyof typeof ARITH_OPS;
export type ComparisonOp = keyof typeof COMPARISON_OPS;
export type BinaryOp = keyof typeof BINARY_OPS;
export type BinarySymbol = (typeof BINARY_OPS)[BinaryOp];
export type NodeOp = (typeof NODE_OPS)[number];
export type SugarOp = (typeof SUGAR_OPS)[number];

/** Every op of the catalog. */
export type OpName = UnaryFn | BinaryOp | NodeOp | SugarOp;
