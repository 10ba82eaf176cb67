/**
 * Arithmetic: the elementwise operators `+ - * /` (NumPy broadcasting), unary minus and `a ^ p`.
 *
 * Each is its scalar form — one line of forward math and one line of backward math per operand
 * — from which ./elementwise.ts generates the loops, and ../functions.ts the code of user
 * functions. `+` also has the float32 training path's bias add.
 */
import { fmt } from '../format';
import { sameShape } from '../shape';
import type { Slot } from '../exec/types';
import { bindElementwise, elementwiseKernel, ewSpec } from './elementwise';
import type { ArithOp } from './names';
import { broadcastRule, sameAsFirst } from './rules';
import type { NodeEntry, NonFiniteCtx, ScalarForm } from './types';
import { lifted } from './onnx';

const BROADCASTING = 'elementwise with NumPy broadcasting; a scalar fits any shape';

/** `${a} ${symbol} ${b} overflows (…)`: what an overflowing add, subtract or multiply says. */
function overflows(symbol: string) {
  return (c: NonFiniteCtx) => `${fmt(c.at(0))} ${symbol} ${fmt(c.at(1))} overflows (${fmt(c.value)})`;
}

function binaryOp(
  name: ArithOp,
  symbol: '+' | '-' | '*' | '/',
  verb: string,
  doc: string,
  scalar: ScalarForm,
  extra: Partial<Pick<NodeEntry, 'nonFinite' | 'kernel'>> = {},
): NodeEntry {
  return {
    name,
    syntax: { kind: 'infix', symbol, verb },
    params: [{ name: 'a' }, { name: 'b' }],
    doc,
    rule: BROADCASTING,
    shape: ([a, b]) => broadcastRule(verb, symbol, a, b),
    scalar,
    kernel: extra.kernel ?? elementwiseKernel(ewSpec(name, 2, scalar)),
    label: symbol,
    nonFinite: extra.nonFinite,
    pytorch: (py, n) => py.binary(symbol, n.lifted(0), n.lifted(1)),
    onnx: (b, inputs, n) => b.node(ONNX_BINARY[name], [lifted(b, inputs, n, 0), lifted(b, inputs, n, 1)]),
  };
}

const ONNX_BINARY = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' } as const satisfies Record<ArithOp, string>;

const ADD: ScalarForm = { value: ([a, b]) => `${a} + ${b}`, times: [(s) => s, (s) => s] };
const ADD_SPEC = ewSpec('add', 2, ADD);

/**
 * `+`: the generated loop, except for the float32 training path's most common layout — a bias,
 * `W @ x + b`: one batched operand and one unbatched operand of the output's shape. Then the
 * backend's row kernels do it (SIMD in WebAssembly): forward Y = X + b in every row; backward
 * ∂X += ∂Y, ∂b += column sums of ∂Y (the same sums as the loop: rows added in order).
 */
const add = binaryOp('add', '+', 'add', 'Elementwise sum, with NumPy broadcasting.', ADD, {
  nonFinite: { forward: overflows('+') },
  kernel: {
    bind(ctx) {
      const k = bindElementwise(ctx, ADD_SPEC, 0, null);
      const { out, args, backend: be } = ctx;
      if (be.dtype !== 'f32' || !be.addBias || !be.sumRows || !be.axpby || !out.batched) return k;
      const [a0, a1] = args;
      const xi = a0.batched && !a1.batched ? 0 : a1.batched && !a0.batched ? 1 : -1;
      if (xi < 0 || !sameShapeAs(out, args[xi]) || !sameShapeAs(out, args[1 - xi])) return k;
      const x = args[xi];
      const b = args[1 - xi];
      const rows = ctx.B;
      const cols = out.size;
      const addBias = be.addBias.bind(be);
      const sumRows = be.sumRows.bind(be);
      const axpby = be.axpby.bind(be);
      k.forward = () => addBias(rows, cols, x.v, 0, b.v, 0, out.v, 0);
      if (k.backward) {
        const gx = x.g;
        const gb = b.g;
        const go = out.g!;
        k.backward = () => {
          if (gx) axpby(rows * cols, 1, go, 0, 1, gx, 0);
          if (gb) sumRows(rows, cols, go, 0, gb, 0);
        };
      }
      return k;
    },
  },
});

function sameShapeAs(a: Slot, b: Slot): boolean {
  return sameShape(a.shape, b.shape);
}

const sub = binaryOp(
  'sub',
  '-',
  'subtract',
  'Elementwise difference, with NumPy broadcasting.',
  { value: ([a, b]) => `${a} - ${b}`, times: [(s) => s, (s) => `-${s}`] },
  { nonFinite: { forward: overflows('-') } },
);

const mul = binaryOp(
  'mul',
  '*',
  'multiply',
  'Elementwise product, with NumPy broadcasting (not a matrix product: that is @).',
  { value: ([a, b]) => `${a} * ${b}`, times: [(s, [, b]) => `${s} * ${b}`, (s, [a]) => `${s} * ${a}`] },
  { nonFinite: { forward: overflows('*') } },
);

const div = binaryOp(
  'div',
  '/',
  'divide',
  'Elementwise quotient, with NumPy broadcasting.',
  {
    value: ([a, b]) => `${a} / ${b}`,
    times: [(s, [, b]) => `${s} / ${b}`, (s, [a, b]) => `-${s} * ${a} / (${b} * ${b})`],
    // the quotient rule in one expression
    dual: ([da, db], [a, b]) => `(${da} * ${b} - ${a} * ${db}) / (${b} * ${b})`,
  },
  {
    nonFinite: {
      forward(c) {
        const a = c.at(0);
        const b = c.at(1);
        if (b === 0) return a === 0 ? `0 / 0 = NaN` : `division by zero: ${fmt(a)} / 0 = ${fmt(c.value)}`;
        return `${fmt(a)} / ${fmt(b)} overflows (${fmt(c.value)})`;
      },
    },
  },
);

const NEG: ScalarForm = { value: ([a]) => `-${a}`, times: [(s) => `-${s}`] };
const neg: NodeEntry = {
  name: 'neg',
  syntax: { kind: 'prefix', symbol: '-', verb: 'negation' },
  params: [{ name: 'a' }],
  doc: 'Negation, elementwise.',
  rule: 'same shape as a',
  shape: sameAsFirst,
  scalar: NEG,
  kernel: elementwiseKernel(ewSpec('neg', 1, NEG)),
  label: 'negation',
  pytorch: (py, n) => py.neg(n.arg(0)),
  onnx: (b, [x]) => b.node('Neg', [x]),
};

/** a ^ p; d/da = p a^(p-1), and 0 for p = 0 (as PyTorch). */
const POW: ScalarForm = {
  value: ([a], P) => `H.power(${a}, ${P})`,
  times: [(s, [a], _y, P, p) => (p === 0 ? null : `${s} * H.powerDeriv(${a}, ${P})`)],
};
const pow: NodeEntry = {
  name: 'pow',
  syntax: { kind: 'infix', symbol: '^', verb: 'power' },
  params: [{ name: 'a' }, { name: 'p', kind: 'number', attr: 'p' }],
  doc: 'Elementwise power a^p; the exponent p is a compile-time number.',
  rule: 'elementwise; the exponent is a number',
  shape: sameAsFirst,
  scalar: POW,
  kernel: elementwiseKernel(ewSpec('pow', 1, POW), 'p'),
  label: '^',
  nonFinite: {
    forward(c) {
      const x = c.at(0);
      const p = c.attr;
      if (x === 0 && p < 0) return `0 ^ ${p} = ${fmt(c.value)}`;
      if (x < 0 && !Number.isInteger(p)) return `a negative number to a fractional power: ${fmt(x)} ^ ${p} = NaN`;
      return `${fmt(x)} ^ ${p} overflows (${fmt(c.value)})`;
    },
    backward: (x, p) => (x === 0 && p < 1 ? `the derivative of x ^ ${p} at 0 is infinite` : undefined),
  },
  pytorch: (py, n) => py.power(n.arg(0), n.attr),
  onnx: (b, [x], n) => b.node('Pow', [x, b.constant(n.attr)]),
};

export const ARITH = { add, sub, mul, div, neg, pow } satisfies Record<ArithOp | 'neg' | 'pow', NodeEntry>;
