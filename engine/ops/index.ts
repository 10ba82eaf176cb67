/**
 * The op catalog: one definition per op (./names.ts lists them), each next to its forward and
 * backward, holding everything NN Lens knows about it (see ./types.ts). Everything else reads
 * the catalog: the executor binds `kernel`s, the checker explains kinks and NaN with it, user
 * functions compile `scalar` forms, the language derives its built-ins, shape rules, hovers and
 * the TextMate grammar's list from it, and the exporters call its emitters.
 *
 * This file also defines how an op appears in the IR — the one place that knows that a
 * one-argument function is `{ op: 'unary', fn }` and `{ k: 'unary', fn }` in a function body.
 */
import type { IRNode, ScalarExpr, Shape } from '../ir';
import { err, type Result } from '../result';
import { H as BASE_HELPERS } from '../scalar';
import { ARITH } from './arith';
import { callEntry } from './call';
import { COMPARE } from './compare';
import { dense } from './dense';
import { LINALG } from './linalg';
import { LOSS } from './loss';
import { BINARY_OPS, UNARY_FNS, type BinarySymbol, type OpName, type UnaryFn } from './names';
import { REDUCE } from './reduce';
import type { NodeEntry, OpAttrs, OpEntry, ScalarForm } from './types';
import { leaky_relu, UNARY } from './unary';

/** Ops with a kink inside (relu, abs, leaky_relu, step), as a user function's kink hint names them. */
const KINKY: string[] = [...Object.values(UNARY), leaky_relu].filter((e) => e.scalar?.kinkAt).map((e) => e.name);
/** The comparisons, which jump where their operands are equal, as the same hint names them. */
const KINKY_SYMBOLS: string[] = Object.values(COMPARE).map((e) => e.syntax.kind === 'infix' ? e.syntax.symbol : e.name);

/** Every op, in the order docs, completion and the grammar list the built-ins. */
export const CATALOG = {
  ...UNARY,
  leaky_relu,
  ...REDUCE,
  transpose: LINALG.transpose,
  outer: LINALG.outer,
  dot: LINALG.dot,
  dense,
  ...LOSS,
  ...ARITH,
  ...COMPARE,
  matmul: LINALG.matmul,
  call: callEntry([...KINKY, ...KINKY_SYMBOLS]),
} satisfies Record<OpName, OpEntry>;

export const ENTRIES: readonly OpEntry[] = Object.values(CATALOG);

/** The built-in functions of the language (written `name(…)`), in catalog order. */
export const BUILTINS: readonly OpEntry[] = ENTRIES.filter((e) => e.syntax.kind === 'call');

const BUILTIN_BY_NAME = new Map(BUILTINS.map((e) => [e.name as string, e]));

/** A built-in function by name. */
export function builtin(name: string): OpEntry | undefined {
  return BUILTIN_BY_NAME.get(name);
}

/** The names of an op's parameters, in order. */
export function paramNames(e: OpEntry): string[] {
  return e.params.map((p) => p.name);
}

/** How many leading parameters a call must give (the rest are optional). */
export function requiredParams(e: OpEntry): number {
  const i = e.params.findIndex((p) => p.optional);
  return i < 0 ? e.params.length : i;
}

/** `dense(a, n, act?)`: the signature hovers and completion show. */
export function signatureOf(e: OpEntry): string {
  if (e.syntax.kind === 'infix') return `${e.params[0].name} ${e.syntax.symbol} ${e.params[1].name}`;
  if (e.syntax.kind === 'prefix') return `${e.syntax.symbol}${e.params[0].name}`;
  return `${e.name}(${e.params.map((p) => (p.optional ? `${p.name}?` : p.name)).join(', ')})`;
}

export function isNodeEntry(e: OpEntry): e is NodeEntry {
  return !('sugar' in e);
}

/** An entry with a scalar form: usable inside a user function. */
export type ScalarEntry = NodeEntry & { readonly scalar: ScalarForm };

export function isScalarEntry(e: OpEntry): e is ScalarEntry {
  return isNodeEntry(e) && e.scalar !== undefined;
}

const BY_SYMBOL = new Map<string, ScalarEntry>(
  Object.entries(BINARY_OPS).map(([name, sym]) => [sym, CATALOG[name as keyof typeof BINARY_OPS] as ScalarEntry]),
);

/** The elementwise binary operator written `symbol` (`+` → add). */
export function binaryOperator(symbol: string): ScalarEntry | undefined {
  return BY_SYMBOL.get(symbol);
}

const INFIX = new Map<string, NodeEntry>();
const PREFIX = new Map<string, NodeEntry>();
for (const e of ENTRIES) {
  if (!isNodeEntry(e)) continue;
  if (e.syntax.kind === 'infix') INFIX.set(e.syntax.symbol, e);
  if (e.syntax.kind === 'prefix') PREFIX.set(e.syntax.symbol, e);
}

/** The op an infix operator stands for (`+` → add, `@` → matmul, `^` → pow). */
export function infix(symbol: string): NodeEntry | undefined {
  return INFIX.get(symbol);
}

/** The op a prefix operator stands for (`-` → neg). */
export function prefix(symbol: string): NodeEntry | undefined {
  return PREFIX.get(symbol);
}

export function isUnaryFn(name: string): name is UnaryFn {
  return (UNARY_FNS as readonly string[]).includes(name);
}

/** Numeric helpers generated code calls as `H.name`: ../scalar.ts's and every op's own. */
export const SCALAR_HELPERS: Readonly<Record<string, unknown>> = Object.assign(
  {},
  BASE_HELPERS,
  ...ENTRIES.map((e) => e.scalar?.helpers ?? {}),
);

const evaluators = new Map<string, (a: readonly number[], attr: number) => number>();

/** An elementwise op evaluated on numbers (compile-time folding): the same code the kernels run. */
export function evalScalar(entry: ScalarEntry, a: readonly number[], attr = 0): number {
  let f = evaluators.get(entry.name);
  if (!f) {
    const args = a.map((_, j) => `a[${j}]`);
    f = new Function('H', `"use strict";\nreturn (a, P) => ${entry.scalar.value(args, 'P')};`)(SCALAR_HELPERS) as (a: readonly number[], attr: number) => number;
    evaluators.set(entry.name, f);
  }
  return f(a, attr);
}

const derivatives = new Map<string, (a: readonly number[], y: number, attr: number) => number>();

/**
 * ∂y/∂a_j of an elementwise op at numbers (the trace's σ′(z)): the same code the kernels'
 * backward runs, with ∂L/∂y = 1.
 */
export function evalScalarDerivative(entry: ScalarEntry, j: number, a: readonly number[], y: number, attr = 0): number {
  const key = `${entry.name}|${j}|${a.length}`;
  let f = derivatives.get(key);
  if (!f) {
    const args = a.map((_, k) => `a[${k}]`);
    const term = entry.scalar.times[j]?.('1', args, 'y', 'P') ?? '0';
    f = new Function('H', `"use strict";\nreturn (a, y, P) => ${term};`)(SCALAR_HELPERS) as (a: readonly number[], y: number, attr: number) => number;
    derivatives.set(key, f);
  }
  return f(a, y, attr);
}

// ---- ops in the IR -------------------------------------------------------------------------------

/** The entry of a computing IR node, or undefined for a leaf or an op the catalog does not have. */
export function tryNodeEntry(node: Pick<IRNode, 'op' | 'fn'>): NodeEntry | undefined {
  const name = node.op === 'unary' ? node.fn : node.op;
  const e = name !== undefined && Object.hasOwn(CATALOG, name) ? CATALOG[name as OpName] : undefined;
  return e && isNodeEntry(e) && (node.op === 'unary') === isUnaryFn(e.name) ? e : undefined;
}

/** The entry of a computing IR node (not a leaf); throws for an op the catalog does not have. */
export function nodeEntry(node: Pick<IRNode, 'op' | 'fn'>): NodeEntry {
  const e = tryNodeEntry(node);
  if (!e) throw new Error(`unknown op '${node.op === 'unary' ? (node.fn ?? 'unary') : node.op}'`);
  return e;
}

/** The numeric attribute of a node (p of pow, alpha of leaky_relu), 0 when it has none. */
export function nodeAttr(node: IRNode, entry: NodeEntry = nodeEntry(node)): number {
  const attr = entry.params.find((p) => p.attr)?.attr;
  return attr ? (node[attr] ?? 0) : 0;
}

/** How messages name the op of a node: `+`, `sigmoid`, a user function's name, … */
export function nodeLabel(node: IRNode): string {
  if (node.op === 'call') return node.fn ?? 'call';
  const e = nodeEntry(node);
  return e.label ?? e.name;
}

/**
 * The per-example result shape of an IR node from its operands' shapes — the same rule the
 * language checks, so a hand-built or stale IR fails loudly instead of reading out of bounds.
 */
export function inferShape(node: Pick<IRNode, 'op' | 'fn'>, args: readonly Shape[]): Result<Shape, string> {
  const e = tryNodeEntry(node);
  if (!e) return err(`unknown op '${node.op === 'unary' ? (node.fn ?? 'unary') : node.op}'`);
  const arity = e.syntax.kind === 'internal' ? args.length : e.params.filter((p) => (p.kind ?? 'tensor') === 'tensor').length;
  if (args.length !== arity) return err(`${e.name} takes ${arity} operand${arity === 1 ? '' : 's'}, got ${args.length}`);
  return e.shape(args, { fn: node.fn } satisfies OpAttrs);
}

/** The IR node fields of an op applied to operands (`{ op: 'unary', fn }`, `{ op: 'pow', p }`, …). */
export function irOp(entry: NodeEntry, attr?: number): Pick<IRNode, 'op' | 'fn' | 'p' | 'alpha'> {
  if (isUnaryFn(entry.name)) return { op: 'unary', fn: entry.name };
  const key = entry.params.find((p) => p.attr)?.attr;
  return { op: entry.name as Exclude<OpName, UnaryFn | 'dense'>, ...(key ? { [key]: attr ?? 0 } : {}) };
}

// ---- ops inside user functions ---------------------------------------------------------------------

/** An op of a function body: its entry, operands and attribute; null for arguments, numbers and calls. */
export function scalarOp(e: ScalarExpr): { entry: ScalarEntry; operands: ScalarExpr[]; attr: number } | null {
  switch (e.k) {
    case 'arg':
    case 'num':
    case 'call':
      return null;
    case 'neg':
      return { entry: ARITH.neg as ScalarEntry, operands: [e.x], attr: 0 };
    case 'pow':
      return { entry: ARITH.pow as ScalarEntry, operands: [e.x], attr: e.p };
    case 'unary':
      return { entry: UNARY[e.fn] as ScalarEntry, operands: [e.x], attr: 0 };
    case 'leaky_relu':
      return { entry: leaky_relu as ScalarEntry, operands: [e.x], attr: e.alpha };
    case 'binary': {
      const entry = binaryOperator(e.op);
      if (!entry) throw new Error(`unknown operator '${e.op}'`);
      return { entry, operands: [e.a, e.b], attr: 0 };
    }
    default:
      return unreachable(e);
  }
}

/** The sub-expressions of a function-body expression. */
export function scalarChildren(e: ScalarExpr): ScalarExpr[] {
  if (e.k === 'call') return e.args;
  return scalarOp(e)?.operands ?? [];
}

/** A function-body expression applying an op with a scalar form to operands. */
export function scalarExprOf(entry: ScalarEntry, operands: ScalarExpr[], attr = 0): ScalarExpr {
  const [x, y] = operands;
  if (isUnaryFn(entry.name)) return { k: 'unary', fn: entry.name, x };
  const sym = (BINARY_OPS as Record<string, BinarySymbol>)[entry.name];
  if (sym) return { k: 'binary', op: sym, a: x, b: y };
  switch (entry.name) {
    case 'neg':
      return { k: 'neg', x };
    case 'pow':
      return { k: 'pow', x, p: attr };
    case 'leaky_relu':
      return { k: 'leaky_relu', x, alpha: attr };
  }
  throw new Error(`${entry.name} has no form in a function body`);
}

function unreachable(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}

export * from './names';
export type * from './types';
export { PY_PREC } from './types';
export { elementwiseOperand } from './elementwise';
