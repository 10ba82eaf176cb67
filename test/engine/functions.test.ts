/** User functions: compilation, automatic derivatives, grad lines in backprop, kinks. */
import { describe, expect, it } from 'vitest';
import { compileFunctions } from '../../engine/functions';
import { evalScalarExpr } from './scalarRef';
import type { ScalarExpr } from '../../engine/ir';
import { Rng } from '../../engine/rng';
import { checkAllGradients, numericGrad, setup } from './helpers';
import { fn, ModelBuilder, program, S } from './irBuilder';

const x0 = S.arg(0);
const x1 = S.arg(1);

/** Bodies covering every ScalarExpr form (positive-domain ones get positive points). */
const bodies: [string, ScalarExpr, boolean][] = [
  ['x*sigmoid(x)', S.mul(x0, S.un('sigmoid', x0)), false],
  ['tanh(x)^3 - x/2', S.sub(S.pow(S.un('tanh', x0), 3), S.div(x0, S.num(2))), false],
  ['exp(-x*x)', S.un('exp', S.neg(S.mul(x0, x0))), false],
  ['log(x) + sqrt(x)', S.add(S.un('log', x0), S.un('sqrt', x0)), true],
  ['softplus(2x) * square(x)', S.mul(S.un('softplus', S.mul(S.num(2), x0)), S.un('square', x0)), false],
  ['x^-0.5', S.pow(x0, -0.5), true],
  ['abs(x)*x + relu(x)', S.add(S.mul(S.un('abs', x0), x0), S.un('relu', x0)), false],
  ['leaky_relu(x, 0.2) * 3', S.mul(S.leaky(x0, 0.2), S.num(3)), false],
  ['gelu(x) * elu(x - 1)', S.mul(S.un('gelu', x0), S.un('elu', S.sub(x0, S.num(1)))), false],
  // comparisons and step inside a function: piecewise, derivative 0 (§9)
  [
    'x * (x > 0.5) + x^2 * (x <= -1) + step(x) + (x >= 2) - (x < 1)',
    S.sub(
      S.add(
        S.add(S.add(S.mul(x0, S.bin('>', x0, S.num(0.5))), S.mul(S.pow(x0, 2), S.bin('<=', x0, S.num(-1)))), S.un('step', x0)),
        S.bin('>=', x0, S.num(2)),
      ),
      S.bin('<', x0, S.num(1)),
    ),
    false,
  ],
];

describe('compiled function bodies and automatic derivatives', () => {
  const rng = new Rng(5);
  for (const [name, body, positive] of bodies) {
    it(name, () => {
      const lib = compileFunctions([fn('f', ['x'], body)]);
      const f = lib.get('f');
      for (let k = 0; k < 40; k++) {
        let x = rng.range(-3, 3);
        if (positive) x = Math.abs(x) + 0.1;
        if (Math.abs(x) < 1e-3) continue;
        expect(f.f(x)).toBeCloseTo(evalScalarExpr(body, [x]), 12);
        const h = 1e-6;
        const num = (evalScalarExpr(body, [x + h]) - evalScalarExpr(body, [x - h])) / (2 * h);
        expect(Math.abs(f.dTrue[0](x) - num)).toBeLessThan(1e-6 * Math.max(1, Math.abs(num)));
        expect(f.dUsed[0](x)).toBe(f.dTrue[0](x)); // no grad line: backprop uses the automatic one
      }
    });
  }

  it('partial derivatives of a two-argument function', () => {
    const body = S.add(S.mul(x0, S.un('tanh', x1)), S.div(S.pow(x1, 3), S.add(S.num(1), S.mul(x0, x0))));
    const f = compileFunctions([fn('f', ['a', 'b'], body)]).get('f');
    const rng = new Rng(1);
    for (let k = 0; k < 20; k++) {
      const a = rng.range(-2, 2);
      const b = rng.range(-2, 2);
      const h = 1e-6;
      const da = (evalScalarExpr(body, [a + h, b]) - evalScalarExpr(body, [a - h, b])) / (2 * h);
      const db = (evalScalarExpr(body, [a, b + h]) - evalScalarExpr(body, [a, b - h])) / (2 * h);
      expect(f.dTrue[0](a, b)).toBeCloseTo(da, 7);
      expect(f.dTrue[1](a, b)).toBeCloseTo(db, 7);
    }
  });
});

describe('grad lines', () => {
  // g's grad line is deliberately wrong (3 instead of 2u); f has none and calls g.
  const g = fn('g', ['u'], S.mul(S.arg(0), S.arg(0)), [S.num(3)]);
  const f = fn('f', ['x'], S.call('g', S.mul(S.num(2), S.arg(0))));
  const lib = compileFunctions([g, f]);

  it('the user line is what backpropagation uses; the true derivative ignores it', () => {
    expect(lib.get('g').dUser[0]!(5)).toBe(3);
    expect(lib.get('g').dUsed[0](5)).toBe(3);
    expect(lib.get('g').dTrue[0](5)).toBe(10);
  });

  it("a function without a line uses the lines of the functions it calls (custom autograd), the true one doesn't", () => {
    // f(x) = g(2x): used = g'_line(2x)·2 = 6; true = 2·(2x)·2 = 8x
    expect(lib.get('f').dUser[0]).toBeNull();
    expect(lib.get('f').dUsed[0](1.5)).toBe(6);
    expect(lib.get('f').dTrue[0](1.5)).toBeCloseTo(12, 12);
  });

  it('a call node backpropagates with the lines in user mode and the true derivative in true mode', () => {
    const b = new ModelBuilder();
    const x = b.input('x', [3]);
    const W = b.param('W', [3, 3]);
    b.loss('C', b.op('sum', [b.call('f', [b.matmul(W, x)])]));
    const m = b.model();
    const p = setup(program([m], [g, f]), m, 2, 3);
    p.forward();
    p.backward();
    const userGrad = Float64Array.from(p.grads.W);
    // dC/dW[i,j] = mean_n f'(z_n,i) x_n,j with f' = 6 (the lines)
    const X = p.data.x;
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) expect(userGrad[i * 3 + j]).toBeCloseTo((6 * X[j] + 6 * X[3 + j]) / 2, 12);
    p.setFunctionGrads('true');
    p.backward();
    const num = numericGrad(p, p.params.W);
    Array.from(p.grads.W).forEach((v, i) => expect(v).toBeCloseTo(num[i], 6));
  });

  it('nested calls backpropagate correctly when every line is right', () => {
    const swish = fn('swish', ['z'], S.mul(x0, S.un('sigmoid', x0)), [
      S.mul(S.un('sigmoid', x0), S.add(S.num(1), S.mul(x0, S.sub(S.num(1), S.un('sigmoid', x0))))),
    ]);
    const outer = fn('outer2', ['a', 'b'], S.add(S.call('swish', S.mul(x0, x1)), S.pow(x1, 2)));
    const b = new ModelBuilder();
    const x = b.input('x', [4]);
    const W = b.param('W', [4, 4]);
    const v = b.param('v', [4]);
    b.loss('C', b.op('mean', [b.call('outer2', [b.matmul(W, x), v])]));
    const m = b.model();
    checkAllGradients(setup(program([m], [swish, outer]), m, 3, 2));
  });
});

describe('kinks inside functions', () => {
  it('the kink code changes exactly when a kink input changes sign', () => {
    const lib = compileFunctions([fn('k', ['x'], S.add(S.un('relu', S.sub(x0, S.num(1))), S.un('abs', x0)))]);
    const k = lib.get('k');
    expect(k.kinky).toBe(true);
    expect(k.kinkSig!(0.5)).toBe(k.kinkSig!(0.7));
    expect(k.kinkSig!(0.5)).not.toBe(k.kinkSig!(1.5));
    expect(k.kinkSig!(0.5)).not.toBe(k.kinkSig!(-0.5));
    expect(k.kinkSig!(1)).not.toBe(k.kinkSig!(1.0000001));
  });
  it('a function calling a kinky function is kinky; a smooth one is not', () => {
    const lib = compileFunctions([
      fn('r', ['x'], S.un('relu', x0)),
      fn('s', ['x'], S.mul(S.call('r', x0), S.num(2))),
      fn('smooth', ['x'], S.un('tanh', x0)),
    ]);
    expect(lib.get('s').kinky).toBe(true);
    expect(lib.get('smooth').kinky).toBe(false);
    expect(lib.get('smooth').kinkSig).toBeNull();
  });
});

describe('invalid functions', () => {
  it("a grad line may use the function's own value: not a recursion (§9)", () => {
    const sig = S.div(S.num(1), S.add(S.num(1), S.un('exp', S.neg(x0))));
    const own = S.mul(S.call('mysig', x0), S.sub(S.num(1), S.call('mysig', x0)));
    const f = compileFunctions([fn('mysig', ['z'], sig, [own])]).get('mysig');
    for (const z of [-3, -0.5, 0, 1.25, 4]) {
      const s = 1 / (1 + Math.exp(-z));
      expect(f.f(z)).toBeCloseTo(s, 14);
      expect(f.dUsed[0](z)).toBeCloseTo(s * (1 - s), 14);
      const h = 1e-6;
      expect(f.dTrue[0](z)).toBeCloseTo((1 / (1 + Math.exp(-z - h)) - 1 / (1 + Math.exp(-z + h))) / (2 * h), 8);
    }
  });

  it('recursion is refused', () => {
    expect(() => compileFunctions([fn('a', ['x'], S.call('b', x0)), fn('b', ['x'], S.call('a', x0))])).toThrow(/recursive/);
  });
  it('an unknown callee or a wrong arity is refused', () => {
    expect(() => compileFunctions([fn('a', ['x'], S.call('nope', x0))])).toThrow(/unknown function/);
    expect(() => compileFunctions([fn('a', ['x'], x0), fn('b', ['x'], S.call('a', x0, x0))])).toThrow(/arguments/);
  });
});
