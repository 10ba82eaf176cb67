/**
 * The comparisons `a > b`, `a < b`, `a >= b`, `a <= b` (§9): 1 where true and 0 where not,
 * elementwise with NumPy broadcasting. Their derivative is 0 with respect to both operands, so
 * a hand-written relu′ is `grad z1 = grad a1 * (z1 > 0)`.
 *
 * Each is a scalar form (usable inside a user `function` too) whose value jumps where its
 * operands are equal: that is where a numeric gradient across it is not a derivative, so the
 * jump is declared as a kink (`kinkAt` = a − b) and the checker explains such a mismatch as a
 * `grad-kink` hint instead of blaming a line.
 *
 * PyTorch: `torch.sign(torch.relu(a - b))` is 1 where a > b and 0 elsewhere, keeps the dtype and
 * broadcasts like the language, and autograd gives it derivative 0 (sign′ = 0), as here. ONNX:
 * Greater (Less, GreaterOrEqual, LessOrEqual), cast to float.
 */
import { elementwiseKernel, ewSpec } from './elementwise';
import type { ComparisonOp } from './names';
import { lifted } from './onnx';
import { broadcastRule } from './rules';
import type { NodeEntry, PyEmit, PyExpr, ScalarForm } from './types';

/** The ONNX comparison (opset 13) of each: a boolean, cast to float (1 = FLOAT). */
const ONNX_COMPARE = { gt: 'Greater', lt: 'Less', ge: 'GreaterOrEqual', le: 'LessOrEqual' } as const satisfies Record<ComparisonOp, string>;

/** 1 where a − b > 0, else 0, in PyTorch. */
function pyPositive(py: PyEmit, a: PyExpr, b: PyExpr): PyExpr {
  return py.call('torch.sign', [py.call('torch.relu', [py.binary('-', a, b)])]);
}

function comparison(
  name: ComparisonOp,
  symbol: '>' | '<' | '>=' | '<=',
  verb: string,
  /** The test in JavaScript, e.g. `a > b`. */
  test: (a: string, b: string) => string,
  /** The PyTorch form of the 0/1 result. */
  pytorch: (py: PyEmit, a: PyExpr, b: PyExpr) => PyExpr,
): NodeEntry {
  const scalar: ScalarForm = {
    value: ([a, b]) => `(${test(a, b)} ? 1 : 0)`,
    // the value is piecewise constant: derivative 0 with respect to both operands
    times: [() => null, () => null],
    kinkAt: ([a, b]) => `${a} - ${b}`,
  };
  return {
    name,
    syntax: { kind: 'infix', symbol, verb },
    params: [{ name: 'a' }, { name: 'b' }],
    doc: `1 where a ${symbol} b and 0 where not, elementwise with NumPy broadcasting; its derivative is 0 (so \`grad a1 * (z1 > 0)\` is relu′ written by hand).`,
    rule: 'elementwise with NumPy broadcasting; a scalar fits any shape',
    shape: ([a, b]) => broadcastRule(verb, symbol, a, b),
    scalar,
    kernel: elementwiseKernel(ewSpec(name, 2, scalar)),
    label: symbol,
    kink: {
      explain: () =>
        `${symbol} compares two values within the step of each other, where its result jumps between 0 and 1 (its derivative is 0 by convention)`,
    },
    pytorch: (py, n) => pytorch(py, n.lifted(0), n.lifted(1)),
    onnx: (b, inputs, n) => b.node('Cast', [b.node(ONNX_COMPARE[name], [lifted(b, inputs, n, 0), lifted(b, inputs, n, 1)])], { to: 1 }),
  };
}

export const COMPARE = {
  gt: comparison('gt', '>', 'compare', (a, b) => `${a} > ${b}`, (py, a, b) => pyPositive(py, a, b)),
  lt: comparison('lt', '<', 'compare', (a, b) => `${a} < ${b}`, (py, a, b) => pyPositive(py, b, a)),
  ge: comparison('ge', '>=', 'compare', (a, b) => `${a} >= ${b}`, (py, a, b) => py.binary('-', py.num(1), pyPositive(py, b, a))),
  le: comparison('le', '<=', 'compare', (a, b) => `${a} <= ${b}`, (py, a, b) => py.binary('-', py.num(1), pyPositive(py, a, b))),
} satisfies Record<ComparisonOp, NodeEntry>;
