/**
 * Helpers of the catalog's ONNX emitters (opset 13), shared by the op families (./unary.ts,
 * ./arith.ts, ./linalg.ts, ./reduce.ts, ./loss.ts, ./call.ts). The exporter
 * (cli/export/onnx/) implements `OnnxEmit` and writes the file.
 *
 * Layout: batch-first, as the engine runs (spec §2). A batched value of per-example shape S is
 * [batch, ...S]; params and constants are S. Broadcasting per example therefore keeps the batch
 * axis apart: a batched operand of lower per-example rank gets axes inserted after its batch axis
 * (`lift`) before an elementwise op, as the PyTorch emitters do with `[:, None]`.
 */
import type { OnnxEmit, OnnxNode } from './types';

export type OnnxArg = OnnxNode['args'][number];

/** The run-time rank: the per-example rank, plus the batch axis. */
export const onnxRank = (a: OnnxArg) => a.shape.length + (a.batched ? 1 : 0);

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

export function unsqueeze(b: OnnxEmit, x: string, axes: number[]): string {
  return b.node('Unsqueeze', [x], { axes });
}

export function squeeze(b: OnnxEmit, x: string, axes: number[]): string {
  return b.node('Squeeze', [x], { axes });
}

/** Operand j of an elementwise node, ready to broadcast per example with the others. */
export function lifted(b: OnnxEmit, inputs: readonly string[], n: OnnxNode, j: number): string {
  const a = n.args[j];
  const missing = n.node.shape.length - a.shape.length;
  if (!n.batchedOut || !a.batched || missing <= 0) return inputs[j];
  return unsqueeze(b, inputs[j], range(1, 1 + missing));
}

/** Reduces over every per-example axis of a value shaped like `a` (a batched value keeps its batch axis). */
export function reduceExample(b: OnnxEmit, how: 'ReduceSum' | 'ReduceMean' | 'ReduceMax', x: string, a: OnnxArg): string {
  if (a.shape.length === 0) return x; // a scalar per example is its own sum, mean and max
  // without axes every axis is reduced
  return b.node(how, [x], a.batched ? { axes: range(1, 1 + a.shape.length), keepdims: 0 } : { keepdims: 0 });
}

/** `Where(t == 0, 0, t · log y)`: a term with zero weight is 0, as in the engine (0 · log 0 = 0). */
export function xlogy(b: OnnxEmit, t: string, y: string): string {
  const zero = b.constant(0);
  return b.node('Where', [b.node('Equal', [t, zero]), zero, b.node('Mul', [t, b.node('Log', [y])])]);
}

/**
 * [n] @ [n] (and dot): one number per example. MatMul never gets a 1-D operand from these
 * emitters: onnxruntime's Transpose+MatMul fusion gives wrong numbers for one (seen with
 * onnxruntime-node 1.30 at its default optimisation level), so vectors are made [n, 1] or [1, n]
 * explicitly and squeezed after.
 */
export function onnxDot(b: OnnxEmit, [u, v]: readonly string[], [a, c]: readonly OnnxArg[]): string {
  if (a.batched === c.batched) return reduceExample(b, 'ReduceSum', b.node('Mul', [u, v]), a);
  const [batchedVec, plain] = a.batched ? [u, v] : [v, u];
  return squeeze(b, b.node('MatMul', [batchedVec, unsqueeze(b, plain, [1])]), [1]); // [B,n] @ [n,1]
}
