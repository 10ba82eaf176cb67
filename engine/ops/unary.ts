/**
 * Elementwise activation functions: the one-argument built-ins (`{ op: 'unary', fn }` in the
 * IR) and `leaky_relu(a, alpha)`.
 *
 * Each definition is its value and its derivative as JavaScript (the derivative may read the
 * input x and the output y), its kink if it has one, how it can make NaN or Infinity, its
 * PyTorch function and its docs. The loops come from ./elementwise.ts. On the float32 training
 * path, exp, sigmoid, tanh and relu use the backend's `unary` / `unaryBackward` (SIMD in
 * WebAssembly; Math.exp costs 10–30 ns per call); the float64 path (gradient checks, hovers)
 * keeps the generated loops.
 *
 * Conventions (as PyTorch): relu'(0) = 0 (threshold_backward), abs'(0) = 0 (sign(0) = 0),
 * leaky_relu'(0) = alpha (leaky_relu_backward: x > 0 ? grad : grad * alpha).
 */
import type { MappedFn } from '../kernels/backend';
import { fmt } from '../format';
import { erfc } from '../scalar';
import { nIter } from '../exec/types';
import { bindElementwise, elementwiseKernel, ewSpec } from './elementwise';
import type { UnaryFn } from './names';
import { sameAsFirst } from './rules';
import type { NodeEntry, OnnxEmit, PyEmitter, ScalarForm } from './types';

interface UnaryDef {
  /** Hover and docs text. */
  readonly doc: string;
  /** y as JavaScript, from the input x. */
  value(x: string): string;
  /** dy/dx as JavaScript, from the input x and the output y; null where it is 0 everywhere. */
  deriv(x: string, y: string): string | null;
  /** The PyTorch function of one tensor (the exported script defines `softplus`), or its emitter. */
  readonly pytorch: string | PyEmitter;
  /** Its ONNX form (opset 13). */
  onnx(b: OnnxEmit, x: string): string;
  /** The backend computes it natively on the float32 training path. */
  readonly fast?: MappedFn;
  /** A kink at 0, and the derivative there by convention (`relu'(0) = 0`). */
  readonly kink?: string;
  /** A jump of the value at 0 (step): why a numeric gradient across it is not a derivative. */
  readonly jump?: string;
  /** Not usable as dense's activation (default: usable). */
  readonly notActivation?: boolean;
  /** Why a finite x gave the non-finite y (undefined: `fn(x) = y`); why the derivative at x is not finite. */
  readonly nonFinite?: { forward?(x: number, y: number): string | undefined; backward?(x: number): string | undefined };
  readonly helpers?: ScalarForm['helpers'];
}

function kinkText(op: string, convention: string): string {
  return `${op}'s input is within the step of 0, where its derivative jumps (${convention} by convention)`;
}

function unary(name: UnaryFn, d: UnaryDef): NodeEntry {
  const scalar: ScalarForm = {
    value: ([x]) => d.value(x),
    times: [
      (s, [x], y) => {
        const dy = d.deriv(x, y);
        return dy === null ? null : `${s} * ${dy}`;
      },
    ],
    kinkAt: d.kink || d.jump ? ([x]) => x : undefined,
    helpers: d.helpers,
  };
  const spec = ewSpec(`unary:${name}`, 1, scalar);
  const fast = d.fast;
  return {
    name,
    syntax: { kind: 'call' },
    params: [{ name: 'a' }],
    doc: d.doc,
    rule: 'same shape as a',
    shape: sameAsFirst,
    scalar,
    activation: !d.notActivation,
    kernel: {
      bind(ctx) {
        const k = bindElementwise(ctx, spec, 0, null);
        const be = ctx.backend;
        if (fast && be.dtype === 'f32' && be.unary && be.unaryBackward) {
          // one operand of the output's shape and batching: the same flat layout
          const [a] = ctx.args;
          const { out } = ctx;
          const n = nIter(ctx) * out.size;
          const map = be.unary.bind(be);
          const back = be.unaryBackward.bind(be);
          k.forward = () => map(fast, n, a.v, 0, out.v, 0);
          if (k.backward) {
            const ga = a.g!;
            const go = out.g!;
            k.backward = () => back(fast, n, out.v, 0, go, 0, ga, 0);
          }
        }
        return k;
      },
    },
    kink: d.kink ? { explain: () => kinkText(name, d.kink!) } : d.jump ? { explain: () => d.jump! } : undefined,
    nonFinite: {
      forward: (c) => d.nonFinite?.forward?.(c.at(0), c.value) ?? `${name}(${fmt(c.at(0))}) = ${fmt(c.value)}`,
      backward: d.nonFinite?.backward ? (x) => d.nonFinite!.backward!(x) : undefined,
    },
    pytorch: typeof d.pytorch === 'string' ? (py, n) => py.call(d.pytorch as string, [n.arg(0)]) : d.pytorch,
    onnx: (b, [x]) => d.onnx(b, x),
  };
}

/** Φ(x), the standard normal CDF, from erfc (accurate in relative terms for very negative x too). */
function normalCdf(x: number): number {
  return 0.5 * erfc(-x * Math.SQRT1_2);
}
const INV_SQRT_2PI = 0.3989422804014327;

/** gelu(x) = x Φ(x), the exact (erf) form. */
function gelu(x: number): number {
  return x * normalCdf(x);
}

/** gelu′(x) = Φ(x) + x φ(x), φ the standard normal density. */
function geluDeriv(x: number): number {
  return normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

const overflow = (name: string) => (x: number, y: number) => `${name}(${fmt(x)}) overflows (${fmt(y)})`;
const infiniteAtZero = (name: string) => (x: number) => (x === 0 ? `the derivative of ${name} at 0 is infinite` : undefined);

export const UNARY = {
  sigmoid: unary('sigmoid', {
    doc: 'Logistic sigmoid σ(a) = 1 / (1 + e^-a), elementwise.',
    value: (x) => `H.sigmoid(${x})`,
    deriv: (_x, y) => `(${y} * (1 - ${y}))`,
    pytorch: 'torch.sigmoid',
    onnx: (b, x) => b.node('Sigmoid', [x]),
    fast: 'sigmoid',
  }),
  tanh: unary('tanh', {
    doc: 'Hyperbolic tangent, elementwise.',
    value: (x) => `Math.tanh(${x})`,
    deriv: (_x, y) => `(1 - ${y} * ${y})`,
    pytorch: 'torch.tanh',
    onnx: (b, x) => b.node('Tanh', [x]),
    fast: 'tanh',
  }),
  relu: unary('relu', {
    doc: 'Rectified linear unit max(a, 0), elementwise.',
    value: (x) => `H.relu(${x})`,
    deriv: (x) => `(${x} > 0 ? 1 : 0)`,
    pytorch: 'torch.relu',
    onnx: (b, x) => b.node('Relu', [x]),
    fast: 'relu',
    kink: "relu'(0) = 0",
  }),
  exp: unary('exp', {
    doc: 'Exponential e^a, elementwise.',
    value: (x) => `Math.exp(${x})`,
    deriv: (_x, y) => y,
    pytorch: 'torch.exp',
    onnx: (b, x) => b.node('Exp', [x]),
    fast: 'exp',
    nonFinite: { forward: overflow('exp') },
  }),
  log: unary('log', {
    doc: 'Natural logarithm, elementwise.',
    value: (x) => `Math.log(${x})`,
    deriv: (x) => `(1 / ${x})`,
    pytorch: 'torch.log',
    onnx: (b, x) => b.node('Log', [x]),
    nonFinite: {
      forward: (x) => (x === 0 ? `log(0) = -Infinity` : x < 0 ? `log of a negative number: log(${fmt(x)}) = NaN` : undefined),
      backward: infiniteAtZero('log'),
    },
  }),
  sqrt: unary('sqrt', {
    doc: 'Square root, elementwise.',
    value: (x) => `Math.sqrt(${x})`,
    deriv: (_x, y) => `(0.5 / ${y})`,
    pytorch: 'torch.sqrt',
    onnx: (b, x) => b.node('Sqrt', [x]),
    nonFinite: {
      forward: (x) => (x < 0 ? `sqrt of a negative number: sqrt(${fmt(x)}) = NaN` : undefined),
      backward: infiniteAtZero('sqrt'),
    },
  }),
  abs: unary('abs', {
    doc: 'Absolute value, elementwise.',
    value: (x) => `Math.abs(${x})`,
    deriv: (x) => `(${x} > 0 ? 1 : ${x} < 0 ? -1 : 0)`,
    pytorch: 'torch.abs',
    onnx: (b, x) => b.node('Abs', [x]),
    kink: "abs'(0) = 0",
  }),
  square: unary('square', {
    doc: 'a², elementwise.',
    value: (x) => `(${x} * ${x})`,
    deriv: (x) => `(2 * ${x})`,
    pytorch: 'torch.square',
    onnx: (b, x) => b.node('Mul', [x, x]),
    nonFinite: { forward: overflow('square') },
  }),
  softplus: unary('softplus', {
    doc: 'log(1 + e^a), a smooth relu, elementwise.',
    value: (x) => `H.softplus(${x})`,
    deriv: (x) => `H.sigmoid(${x})`,
    pytorch: 'softplus', // the script's stable helper
    onnx: (b, x) => b.node('Softplus', [x]), // onnxruntime computes it stably for large |x|
  }),
  gelu: unary('gelu', {
    doc: 'Gaussian error linear unit a·Φ(a), Φ the standard normal distribution function (the exact erf form, as torch.nn.functional.gelu), elementwise.',
    value: (x) => `H.gelu(${x})`,
    deriv: (x) => `H.geluDeriv(${x})`,
    pytorch: 'F.gelu',
    // opset 13 has no Gelu (opset 20 does): x · (1 + erf(x / √2)) / 2
    onnx: (b, x) => b.node('Mul', [b.node('Mul', [x, b.constant(0.5)]), b.node('Add', [b.constant(1), b.node('Erf', [b.node('Div', [x, b.constant(Math.SQRT2)])])])]),
    helpers: { gelu, geluDeriv },
  }),
  elu: unary('elu', {
    doc: 'Exponential linear unit: a for a > 0, e^a − 1 otherwise (alpha 1, as torch.nn.functional.elu), elementwise.',
    value: (x) => `(${x} > 0 ? ${x} : Math.expm1(${x}))`,
    // PyTorch (elu_backward): x > 0 ? 1 : e^x, so elu′(0) = e^0 = 1 — no jump in the derivative
    deriv: (x) => `(${x} > 0 ? 1 : Math.exp(${x}))`,
    pytorch: 'F.elu',
    onnx: (b, x) => b.node('Elu', [x], { alpha: 1 }),
  }),
  step: unary('step', {
    doc: 'The unit step: 1 where a > 0 and 0 elsewhere (the same as `a > 0`), elementwise; its derivative is 0, so relu′(z) = step(z).',
    value: (x) => `(${x} > 0 ? 1 : 0)`,
    deriv: () => null,
    // 1 where x > 0, else 0; autograd's derivative of sign is 0, as here
    pytorch: (py, n) => py.call('torch.sign', [py.call('torch.relu', [n.arg(0)])]),
    // Greater gives a boolean: cast to float (1 = FLOAT)
    onnx: (b, x) => b.node('Cast', [b.node('Greater', [x, b.constant(0)])], { to: 1 }),
    jump: "step's input is within the step of 0, where its value jumps from 0 to 1 (its derivative is 0 by convention)",
    notActivation: true,
  }),
} satisfies Record<UnaryFn, NodeEntry>;

/** leaky_relu(a, alpha); derivative 1 for a > 0, alpha for a ≤ 0 (PyTorch: alpha at 0). */
const LEAKY: ScalarForm = {
  value: ([a], P) => `H.leakyRelu(${a}, ${P})`,
  times: [(s, [a], _y, P) => `${s} * (${a} > 0 ? 1 : ${P})`],
  kinkAt: ([a]) => a,
};

export const leaky_relu: NodeEntry = {
  name: 'leaky_relu',
  syntax: { kind: 'call' },
  params: [{ name: 'a' }, { name: 'alpha', kind: 'number', attr: 'alpha' }],
  doc: 'Leaky relu: a for a > 0, alpha·a otherwise, elementwise; alpha is a number.',
  rule: 'same shape as a',
  shape: sameAsFirst,
  scalar: LEAKY,
  kernel: elementwiseKernel(ewSpec('leaky_relu', 1, LEAKY), 'alpha'),
  kink: { explain: () => kinkText('leaky_relu', "leaky_relu'(0) = alpha") },
  pytorch: (py, n) => py.call('F.leaky_relu', [n.arg(0)], [py.float(n.attr)]),
  onnx: (b, [x], n) => b.node('LeakyRelu', [x], { alpha: n.attr }),
};
