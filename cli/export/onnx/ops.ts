/**
 * The ONNX emitter of every IR op (opset 13), one table keyed by the IR's ops: a new op without an
 * emitter is a compile error. Leaves (inputs, targets, params) are bound by the graph builder
 * (./index.ts); a `gradRef` belongs to a `backward {}` block, never to a forward pass.
 *
 * Layout: batch-first, as the engine runs (spec §2). A batched value of per-example shape S is
 * [batch, ...S]; params and constants are S. Broadcasting per example therefore needs the batch
 * axis kept apart: a batched operand of lower per-example rank gets axes inserted after its
 * batch axis (Unsqueeze) before an elementwise op, exactly as the PyTorch export does.
 * docs/export.md lists each op's ONNX form.
 */
import type { IRFunction, Op, ScalarExpr, UnaryFn } from '../../../engine/ir';
import type { OnnxArgInfo, OnnxEmit, OnnxEmitter } from './emit';

const runtimeRank = (a: OnnxArgInfo) => a.shape.length + (a.batched ? 1 : 0);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

function unsqueeze(b: OnnxEmit, x: string, axes: number[]): string {
  return b.node('Unsqueeze', [x], { axes });
}

function squeeze(b: OnnxEmit, x: string, axes: number[]): string {
  return b.node('Squeeze', [x], { axes });
}

/** A batched operand of per-example rank below R, in a batched result: axes after the batch axis. */
function lift(b: OnnxEmit, x: string, a: OnnxArgInfo, resultBatched: boolean, R: number): string {
  const missing = R - a.shape.length;
  if (!resultBatched || !a.batched || missing <= 0) return x;
  return unsqueeze(b, x, range(1, 1 + missing));
}

/** A loss's terms: the prediction's per-example shape, batched when the loss is. */
const perExample = (a: OnnxArgInfo, batched: boolean): OnnxArgInfo => ({ shape: a.shape, batched });

type Reduce = 'ReduceSum' | 'ReduceMean' | 'ReduceMax';

/** Reduces over every per-example axis (a batched value keeps its batch axis). */
function reduceExample(b: OnnxEmit, how: Reduce, x: string, a: OnnxArgInfo): string {
  if (a.shape.length === 0) return x; // a scalar per example is its own sum, mean and max
  // a batched value keeps its batch axis; without axes every axis is reduced
  return b.node(how, [x], a.batched ? { axes: range(1, 1 + a.shape.length), keepdims: 0 } : { keepdims: 0 });
}

const UNARY: Record<UnaryFn, (b: OnnxEmit, x: string) => string> = {
  sigmoid: (b, x) => b.node('Sigmoid', [x]),
  tanh: (b, x) => b.node('Tanh', [x]),
  relu: (b, x) => b.node('Relu', [x]),
  exp: (b, x) => b.node('Exp', [x]),
  log: (b, x) => b.node('Log', [x]),
  sqrt: (b, x) => b.node('Sqrt', [x]),
  abs: (b, x) => b.node('Abs', [x]),
  square: (b, x) => b.node('Mul', [x, x]),
  softplus: (b, x) => b.node('Softplus', [x]), // onnxruntime computes it stably for large |x|
};

const BINARY = { '+': 'Add', '-': 'Sub', '*': 'Mul', '/': 'Div' } as const;

/** A user function's body over tensors (elementwise; nested calls are expanded in place). */
function expandScalar(b: OnnxEmit, e: ScalarExpr, args: readonly string[], fns: ReadonlyMap<string, IRFunction>, used: Set<number>): string {
  switch (e.k) {
    case 'arg':
      used.add(e.index);
      return args[e.index];
    case 'num':
      return b.constant(e.value);
    case 'neg':
      return b.node('Neg', [expandScalar(b, e.x, args, fns, used)]);
    case 'unary':
      return UNARY[e.fn](b, expandScalar(b, e.x, args, fns, used));
    case 'leaky_relu':
      return b.node('LeakyRelu', [expandScalar(b, e.x, args, fns, used)], { alpha: e.alpha });
    case 'binary':
      return b.node(BINARY[e.op], [expandScalar(b, e.a, args, fns, used), expandScalar(b, e.b, args, fns, used)]);
    case 'pow':
      return b.node('Pow', [expandScalar(b, e.x, args, fns, used), b.constant(e.p)]);
    case 'call': {
      const f = fns.get(e.fn);
      if (!f) throw new Error(`onnx: unknown function ${e.fn}`);
      const inner = e.args.map((x) => expandScalar(b, x, args, fns, used));
      // the callee's result has the broadcast shape of its arguments, read or not
      const innerUsed = new Set<number>();
      return broadcastTo(b, expandScalar(b, f.body, inner, fns, innerUsed), inner, innerUsed);
    }
  }
}

/** `value` expanded (bidirectional broadcasting) by the shapes of the arguments it does not read. */
function broadcastTo(b: OnnxEmit, value: string, args: readonly string[], used: Set<number>): string {
  let out = value;
  args.forEach((a, i) => {
    if (!used.has(i)) out = b.node('Expand', [out, b.node('Shape', [a])]);
  });
  return out;
}

/** `Where(t == 0, 0, t · log y)`: a term with zero weight is 0, as in the engine (0 · log 0 = 0). */
function xlogy(b: OnnxEmit, t: string, y: string): string {
  const zero = b.constant(0);
  return b.node('Where', [b.node('Equal', [t, zero]), zero, b.node('Mul', [t, b.node('Log', [y])])]);
}

function elementwise(opType: 'Add' | 'Sub' | 'Mul' | 'Div'): OnnxEmitter {
  return (b, [x, y], { node, args, batchedOut }) =>
    b.node(opType, [lift(b, x, args[0], batchedOut, node.shape.length), lift(b, y, args[1], batchedOut, node.shape.length)]);
}

/**
 * [n] @ [n] (and dot): one number per example. MatMul never gets a 1-D operand here: onnxruntime's
 * Transpose+MatMul fusion gives wrong numbers for one (seen with onnxruntime-node 1.30, its default
 * optimisation level), so vectors are made [n, 1] or [1, n] explicitly and squeezed after.
 */
function dot(b: OnnxEmit, [u, v]: readonly string[], [a, c]: readonly OnnxArgInfo[]): string {
  if (a.batched === c.batched) return reduceExample(b, 'ReduceSum', b.node('Mul', [u, v]), { shape: a.shape, batched: a.batched });
  const [batchedVec, plain] = a.batched ? [u, v] : [v, u];
  return squeeze(b, b.node('MatMul', [batchedVec, unsqueeze(b, plain, [1])]), [1]); // [B,n] @ [n,1]
}

export const ONNX_EMITTERS = {
  // leaves: inputs, targets and params are bound by the graph builder; constants are constants
  input: null,
  target: null,
  param: null,
  gradRef: null,
  const: (b, _inputs, { node }) => b.constant(node.value!),

  add: elementwise('Add'),
  sub: elementwise('Sub'),
  mul: elementwise('Mul'),
  div: elementwise('Div'),
  neg: (b, [x]) => b.node('Neg', [x]),
  pow: (b, [x], { attr }) => b.node('Pow', [x, b.constant(attr)]),
  unary: (b, [x], { node }) => UNARY[node.fn as UnaryFn](b, x),
  leaky_relu: (b, [x], { attr }) => b.node('LeakyRelu', [x], { alpha: attr }),
  call: (b, inputs, { node, args, batchedOut, functions }) => {
    const f = functions.get(node.fn!);
    if (!f) throw new Error(`onnx: unknown function ${node.fn}`);
    const lifted = inputs.map((x, i) => lift(b, x, args[i], batchedOut, node.shape.length));
    const used = new Set<number>();
    return broadcastTo(b, expandScalar(b, f.body, lifted, functions, used), lifted, used);
  },

  matmul: (b, [x, y], { args: [a, c] }) => {
    const [rx, ry] = [a.shape.length, c.shape.length];
    if (rx === 2 && ry === 1) {
      // the lecture's W @ x with a batch of x: x @ Wᵀ, one Gemm
      if (!a.batched && c.batched) return b.node('Gemm', [y, x], { transB: 1 });
      // a matrix (batched or not) @ a column: [.., m, n] @ [.., n, 1], then drop the 1
      const column = unsqueeze(b, y, [c.batched ? 2 : 1]);
      return squeeze(b, b.node('MatMul', [x, column]), [a.batched || c.batched ? 2 : 1]);
    }
    // [m,n] @ [n,k]: MatMul broadcasts the batch axis of either side
    if (rx === 2) return b.node('MatMul', [x, y]);
    if (ry === 2) {
      // [n] @ [n,k]: a batch of rows is a matrix already; otherwise a row [.., 1, n], then drop the 1
      if (a.batched && !c.batched) return b.node('MatMul', [x, y]);
      const axis = a.batched ? 1 : 0;
      return squeeze(b, b.node('MatMul', [unsqueeze(b, x, [axis]), y]), [a.batched || c.batched ? 1 : 0]);
    }
    return dot(b, [x, y], [a, c]);
  },
  transpose: (b, [x], { args: [a] }) => b.node('Transpose', [x], { perm: a.batched ? [0, 2, 1] : [1, 0] }),
  outer: (b, [u, v], { args: [a, c] }) => b.node('Mul', [unsqueeze(b, u, [runtimeRank(a)]), c.batched ? unsqueeze(b, v, [1]) : v]),
  dot: (b, inputs, { args }) => dot(b, inputs, args),

  sum: (b, [x], { args: [a] }) => reduceExample(b, 'ReduceSum', x, a),
  mean: (b, [x], { args: [a] }) => reduceExample(b, 'ReduceMean', x, a),
  max: (b, [x], { args: [a] }) => reduceExample(b, 'ReduceMax', x, a),
  softmax: (b, [x]) => b.node('Softmax', [x], { axis: -1 }), // over the last axis (a vector or more: the language says so)
  log_softmax: (b, [x]) => b.node('LogSoftmax', [x], { axis: -1 }),

  // losses: one number per example
  cross_entropy: (b, [y, t], { batchedOut, args: [a], fused }) => {
    const terms = fused
      ? b.node('Mul', [t, b.node('LogSoftmax', [y], { axis: -1 })]) // from the logits
      : xlogy(b, t, y);
    return b.node('Neg', [reduceExample(b, 'ReduceSum', terms, perExample(a, batchedOut))]);
  },
  mse: (b, [y, t], { batchedOut, args: [a] }) => {
    const d = b.node('Sub', [y, t]);
    return reduceExample(b, 'ReduceMean', b.node('Mul', [d, d]), perExample(a, batchedOut));
  },
  binary_cross_entropy: (b, [y, t], { batchedOut, args: [a], fused }) => {
    const terms = fused
      ? b.node('Sub', [b.node('Softplus', [y]), b.node('Mul', [t, y])]) // softplus(z) - t z: the stable form on sigmoid(z)
      : b.node('Add', [xlogy(b, t, y), xlogy(b, b.node('Sub', [b.constant(1), t]), b.node('Sub', [b.constant(1), y]))]);
    const mean = reduceExample(b, 'ReduceMean', terms, perExample(a, batchedOut));
    return fused ? mean : b.node('Neg', [mean]);
  },
} satisfies Record<Op, OnnxEmitter | null>;

/** The opset the emitters are written for. */
export const ONNX_OPSET = 13;
