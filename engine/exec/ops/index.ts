/** Every computing op of the IR, by name. Leaves (input target param const gradRef) have none. */
import type { Op } from '../../ir';
import type { OpDef } from '../types';
import { add, call, div, leakyRelu, mul, neg, pow, sub, unary } from './elementwise';
import { dot, matmul, outer, transpose } from './linalg';
import { binaryCrossEntropy, crossEntropy, mse } from './loss';
import { logSoftmax, max, mean, softmax, sum } from './reduce';

export type LeafOp = 'input' | 'target' | 'param' | 'const' | 'gradRef';
export type ComputeOp = Exclude<Op, LeafOp>;

export const LEAF_OPS: ReadonlySet<Op> = new Set<Op>(['input', 'target', 'param', 'const', 'gradRef']);

export const OPS: Record<ComputeOp, OpDef> = {
  add,
  sub,
  mul,
  div,
  neg,
  pow,
  unary,
  leaky_relu: leakyRelu,
  call,
  matmul,
  transpose,
  outer,
  dot,
  sum,
  mean,
  max,
  softmax,
  log_softmax: logSoftmax,
  cross_entropy: crossEntropy,
  mse,
  binary_cross_entropy: binaryCrossEntropy,
};
