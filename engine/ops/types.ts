/**
 * The shape of one op's definition in the catalog (./index.ts).
 *
 * An entry holds everything NN Lens knows about an op, next to its forward and backward: how the
 * language writes it (name, parameters, compile-time arguments), its shape rule and the message
 * when the rule breaks, its scalar form when it is elementwise (then it is usable inside a user
 * `function`), its kernel, its kinks, how it can make NaN or Infinity, its reduction length for
 * the numeric check's noise model, its PyTorch (and ONNX) emitter, and its hover and docs text.
 */
import type { IRNode, Shape } from '../ir';
import type { Result } from '../result';
import type { OpDef, SlotInfo } from '../exec/types';
import type { OpName } from './names';

// ---- how the language writes it -------------------------------------------------------------

/** The numeric attributes of an IR node an op may carry (`a ^ p`, `leaky_relu(a, alpha)`). */
export type NumAttr = 'p' | 'alpha';

export interface OpParam {
  readonly name: string;
  /**
   * 'tensor' (the default): an operand. 'number': a compile-time number; for an IR op it is
   * stored in the node's attribute `attr`. 'activation': the name of a function (dense's act).
   */
  readonly kind?: 'tensor' | 'number' | 'activation';
  readonly attr?: NumAttr;
  readonly optional?: boolean;
}

export type OpSyntax =
  /** `name(args)`: a built-in function of the language. */
  | { readonly kind: 'call' }
  /** `a SYMBOL b`; `verb` names it in messages and hovers ("add [3] + [4]: …"). */
  | { readonly kind: 'infix'; readonly symbol: string; readonly verb: string }
  /** `SYMBOL a`. */
  | { readonly kind: 'prefix'; readonly symbol: string; readonly verb: string }
  /** Not written by name: a call of a user function. */
  | { readonly kind: 'internal' };

/** Compile-time facts a shape rule may need. */
export interface OpAttrs {
  /** The called function's name (`call`). */
  readonly fn?: string;
  /** dense's number of units. */
  readonly n?: number;
}

// ---- elementwise over scalars ---------------------------------------------------------------

/**
 * The scalar form of an elementwise op, as JavaScript source. It generates the executor's
 * elementwise loops (./elementwise.ts) and the compiled user functions (../functions.ts), so an
 * op with a scalar form is usable inside a `function`.
 *
 * Names: `a` the operands (plain variable names, or literals), `y` the output's variable, `P`
 * the op's attribute (a variable or a literal), `p` its value when it is known (a literal),
 * `s` a seed. Helpers the code calls are `H.name` (../scalar.ts, or `helpers` here).
 */
export interface ScalarForm {
  /** y as an expression of the operands. */
  value(a: readonly string[], P: string): string;
  /**
   * For each operand j: s · ∂y/∂a_j (the backward contribution with s = ∂L/∂y, and the
   * forward-mode derivative with s = ∂a_j), or null where ∂y/∂a_j is identically 0.
   */
  readonly times: readonly ((s: string, a: readonly string[], y: string, P: string, p?: number) => string | null)[];
  /**
   * Forward-mode derivative when every operand carries a derivative d_j, when the op wants a
   * form other than Σ_j times(d_j, j) (the quotient rule for `/`).
   */
  dual?(d: readonly string[], a: readonly string[], y: string, P: string): string;
  /** A kink: the derivative jumps where this expression crosses 0 (its sign is the branch). */
  kinkAt?(a: readonly string[], P: string): string;
  /** Numeric helpers the code calls as `H.name`, beyond ../scalar.ts's. */
  readonly helpers?: Readonly<Record<string, (...x: number[]) => number>>;
}

// ---- findings --------------------------------------------------------------------------------

export interface KinkSpec {
  /** Why a numeric gradient across this op's kink is not a derivative, for a `grad-kink` hint. */
  explain(node: IRNode): string;
}

/** An operand of a node that produced a non-finite value, for explaining why. */
export interface NonFiniteOperand {
  /** The operand's values for the example (from `offset`). */
  readonly values: ArrayLike<number>;
  readonly offset: number;
  readonly shape: Shape;
  /** Its name as a named value (or the loss), or null. */
  readonly valueName: string | null;
  /** Its name as an input, target or param, if it is one. */
  readonly leafName: string | undefined;
}

export interface NonFiniteCtx {
  /** The non-finite output. */
  readonly value: number;
  /** The node's attribute (p, alpha), 0 when it has none. */
  readonly attr: number;
  readonly node: IRNode;
  /** Operand j at the output element (broadcast). */
  at(j: number): number;
  operand(j: number): NonFiniteOperand;
}

export interface NonFiniteSpec {
  /** Why the op produced a non-finite value from finite operands (e.g. `log(0) = -Infinity`). */
  forward?(c: NonFiniteCtx): string;
  /** Why its backward made a non-finite gradient where its operand is x; undefined: the generic text. */
  backward?(x: number, attr: number): string | undefined;
}

// ---- emitters ----------------------------------------------------------------------------------

/** A Python expression under construction; `prec` as Python's (higher binds tighter). */
export interface PyExpr {
  readonly code: string;
  readonly prec: number;
  /** A Python number rather than a tensor (a const, or arithmetic on consts). */
  readonly scalar: boolean;
}

/** Python precedences. */
export const PY_PREC = { atom: 100, pow: 90, unary: 80, mul: 70, add: 60 } as const;

/** What a PyTorch emitter builds with (implemented by cli/export/model.ts). */
export interface PyEmit {
  atom(code: string): PyExpr;
  num(v: number): PyExpr;
  /** A Python float literal. */
  float(v: number): string;
  /** A Python string literal. */
  str(s: string): string;
  /** `e.code`, parenthesised unless it binds at least as tightly as `prec`. */
  wrap(e: PyExpr, prec: number): string;
  /** A tensor, even when `e` is a Python number (for torch functions that need one). */
  tensor(e: PyExpr): string;
  /** `fn(t1, …, extra…)` with tensor arguments. */
  call(fn: string, args: readonly PyExpr[], extra?: readonly string[]): PyExpr;
  binary(symbol: '+' | '-' | '*' | '/' | '@', a: PyExpr, b: PyExpr): PyExpr;
  neg(a: PyExpr): PyExpr;
  power(a: PyExpr, p: number): PyExpr;
  /** `e.T`, or the matrix itself when `e` already ends in `.T`. */
  transposed(e: PyExpr): PyExpr;
  einsum(spec: string, ...args: PyExpr[]): PyExpr;
  /** Reduce over the per-example axes of a value of per-example rank `rank`; batched values keep the batch axis. */
  reduce(e: PyExpr, batched: boolean, rank: number, how: 'sum' | 'mean' | 'max'): PyExpr;
}

/** One node as the PyTorch emitter sees it (an IR node, or an op inside a function body). */
export interface PyNode {
  /** Number of operands. */
  readonly arity: number;
  arg(j: number): PyExpr;
  /** Operand j ready to broadcast with the others (a batched operand of lower rank gets `[:, None, …]`). */
  lifted(j: number): PyExpr;
  batched(j: number): boolean;
  rank(j: number): number;
  readonly batchedOut: boolean;
  readonly rankOut: number;
  /** The node's attribute (p, alpha), 0 when it has none. */
  readonly attr: number;
  /** The Python name of the called function (`call`). */
  readonly fn: string;
  /** For a loss fused with the softmax/sigmoid that produces its first operand: the logits. */
  readonly logits: PyExpr | undefined;
}

export type PyEmitter = (py: PyEmit, n: PyNode) => PyExpr;

/** What an ONNX emitter builds with (the ONNX exporter, cli/export/onnx/, implements it; opset 13). */
export interface OnnxEmit {
  /**
   * Adds a node; returns the name of its output. A number attribute is an int, or a float where
   * ONNX's schema says so (`LeakyRelu.alpha`, …); `axes` is written as an attribute for every op
   * and made the int64 input that opset 13 wants where it wants one (Unsqueeze, Squeeze, ReduceSum).
   */
  node(opType: string, inputs: readonly string[], attrs?: Readonly<Record<string, number | string | readonly number[]>>): string;
  /** A float32 constant tensor (a scalar, or `value` with `shape`); returns its name. */
  constant(value: number | readonly number[], shape?: readonly number[]): string;
  /** A user function applied elementwise to operands already broadcast together (the exporter expands its body). */
  call(fn: string, inputs: readonly string[]): string;
}

/** One IR node as the ONNX emitter sees it (helpers: ./onnx.ts). */
export interface OnnxNode {
  readonly node: IRNode;
  /** The node's attribute (p, alpha), 0 when it has none. */
  readonly attr: number;
  /** Per operand: per-example shape and whether it has a batch axis. */
  readonly args: readonly { readonly shape: Shape; readonly batched: boolean }[];
  readonly batchedOut: boolean;
  /** For a loss fused with the softmax/sigmoid that produces its first operand: the logits' value. */
  readonly logits: string | undefined;
}

export type OnnxEmitter = (b: OnnxEmit, inputs: readonly string[], n: OnnxNode) => string;

// ---- the entry -----------------------------------------------------------------------------------

interface EntryBase {
  readonly name: OpName;
  readonly syntax: OpSyntax;
  readonly params: readonly OpParam[];
  /** One or two sentences for hovers, completion and the docs. */
  readonly doc: string;
  /** The shape rule as the spec's table writes it. */
  readonly rule: string;
  /** The per-example result shape, or the user-facing message naming the op, the shapes and the rule. */
  shape(args: readonly Shape[], attrs: OpAttrs): Result<Shape, string>;
  /** Elementwise over scalars: usable inside a user function. */
  readonly scalar?: ScalarForm;
}

/** An op that is a node of the IR. */
export interface NodeEntry extends EntryBase {
  readonly kernel: OpDef;
  /** How messages name it (`+`, `negation`); default its name. */
  readonly label?: string;
  readonly kink?: KinkSpec;
  readonly nonFinite?: NonFiniteSpec;
  /** How many terms one output sums (matmul's inner dimension, …) for the noise model (../check/noise.ts); default 1. */
  reduction?(args: readonly SlotInfo[]): number;
  /** Usable as dense's activation (a function of one tensor that keeps its shape). */
  readonly activation?: boolean;
  /** For a loss: what its target holds, and the op producing its first operand it is fused with. */
  readonly loss?: { readonly target: 'one-hot' | 'binary' | 'any'; readonly fusedWith?: 'softmax' | 'sigmoid' };
  readonly pytorch: PyEmitter;
  /** Its ONNX form (every op has one: a model exports to ONNX whatever it uses). */
  readonly onnx: OnnxEmitter;
}

/** A built-in of the language that lowers to other ops (dense). */
export interface SugarEntry extends EntryBase {
  readonly sugar: true;
}

export type OpEntry = NodeEntry | SugarEntry;
