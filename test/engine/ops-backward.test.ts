/**
 * Every op's backward pass against central differences (float64), for random shapes, every
 * combination of batched (input) and unbatched (param) operands, and broadcasting.
 *
 * The loss is Σ over the op's output of out ⊙ R with R a random *input* of the output's shape:
 * the upstream gradient differs per element and per example, and an unbatched output is still
 * weighted per example (so its gradient must accumulate over the batch).
 */
import { describe, it } from 'vitest';
import type { Shape } from '../../engine/ir';
import { Rng } from '../../engine/rng';
import { checkAllGradients, setup } from './helpers';
import { fn, ModelBuilder, program, S, type N } from './irBuilder';

interface Case {
  name: string;
  shapes: Shape[];
  build: (b: ModelBuilder, xs: N[]) => N;
  /** Transforms raw standard-normal values of operand j into the op's domain. */
  domain?: (j: number, v: number) => number;
  functions?: ReturnType<typeof fn>[];
}

function combos(k: number): boolean[][] {
  const out: boolean[][] = [];
  for (let m = 0; m < 1 << k; m++) out.push(Array.from({ length: k }, (_, j) => !!(m & (1 << j))));
  return out;
}

function runCase(c: Case, batched: boolean[], B = 3, fuse = true): void {
  const b = new ModelBuilder();
  const xs = c.shapes.map((s, j) => (batched[j] ? b.input(`x${j}`, s) : b.param(`p${j}`, s)));
  const out = c.build(b, xs);
  const R = b.input('R', b.shape(out));
  b.loss('C', b.op('sum', [b.mul(out, R)]));
  const m = b.model();
  const p = setup(program([m], c.functions), m, B, 7, { fuse });
  if (c.domain) {
    c.shapes.forEach((_, j) => {
      const buf = batched[j] ? p.data[`x${j}`] : p.params[`p${j}`];
      for (let i = 0; i < buf.length; i++) buf[i] = c.domain!(j, buf[i]);
    });
  }
  checkAllGradients(p, 2e-6);
}

const rng = new Rng(42);
const dim = () => 2 + rng.int(4);

const positive = (_j: number, v: number) => Math.abs(v) + 0.5;
const awayFromZero = (_j: number, v: number) => (v >= 0 ? v + 0.2 : v - 0.2);

const cases: Case[] = [];
// elementwise binary with broadcasting
const bshapes: [Shape, Shape][] = [
  [[3, 4], [3, 4]],
  [[3, 4], [4]],
  [[3, 1], [1, 4]],
  [[], [2, 3]],
  [[4], [3, 1]],
];
for (const [sa, sb] of bshapes) {
  const t = `${JSON.stringify(sa)},${JSON.stringify(sb)}`;
  cases.push({ name: `add ${t}`, shapes: [sa, sb], build: (b, [x, y]) => b.add(x, y) });
  cases.push({ name: `sub ${t}`, shapes: [sa, sb], build: (b, [x, y]) => b.sub(x, y) });
  cases.push({ name: `mul ${t}`, shapes: [sa, sb], build: (b, [x, y]) => b.mul(x, y) });
  cases.push({ name: `div ${t}`, shapes: [sa, sb], build: (b, [x, y]) => b.div(x, y), domain: (j, v) => (j === 1 ? Math.abs(v) + 0.5 : v) });
}
// the same node on both sides
cases.push({ name: 'mul x*x (one operand twice)', shapes: [[4]], build: (b, [x]) => b.mul(x, x) });
// unary
cases.push({ name: 'neg', shapes: [[2, 3]], build: (b, [x]) => b.neg(x) });
cases.push({ name: 'pow 3', shapes: [[5]], build: (b, [x]) => b.pow(x, 3) });
cases.push({ name: 'pow 2', shapes: [[5]], build: (b, [x]) => b.pow(x, 2) });
cases.push({ name: 'pow -1.5', shapes: [[5]], build: (b, [x]) => b.pow(x, -1.5), domain: positive });
cases.push({ name: 'pow 0.5', shapes: [[5]], build: (b, [x]) => b.pow(x, 0.5), domain: positive });
for (const f of ['sigmoid', 'tanh', 'exp', 'square', 'softplus', 'gelu'] as const)
  cases.push({ name: f, shapes: [[2, 3]], build: (b, [x]) => b.unary(f, x) });
for (const f of ['log', 'sqrt'] as const) cases.push({ name: f, shapes: [[2, 3]], build: (b, [x]) => b.unary(f, x), domain: positive });
// elu′ is continuous at 0 (1 on both sides, as PyTorch), but elu″ jumps: keep the differences off 0
for (const f of ['relu', 'abs', 'elu'] as const) cases.push({ name: f, shapes: [[2, 3]], build: (b, [x]) => b.unary(f, x), domain: awayFromZero });
cases.push({ name: 'leaky_relu', shapes: [[6]], build: (b, [x]) => b.leaky(x, 0.1), domain: awayFromZero });
// comparisons and step: derivative 0, so x * (x OP y) backpropagates only through the factor x
// (operands kept apart: no difference crosses the jump)
for (const op of ['gt', 'lt', 'ge', 'le'] as const)
  cases.push({
    name: `x * (x ${op} y) [3,4],[4]`,
    shapes: [[3, 4], [4]],
    build: (b, [x, y]) => b.mul(x, b.op(op, [x, y])),
    domain: (j, v) => (j === 0 ? (v >= 0 ? v + 0.5 : v - 0.5) : 0.1 * Math.tanh(v)),
  });
cases.push({ name: 'x * step(x)', shapes: [[2, 3]], build: (b, [x]) => b.mul(x, b.unary('step', x)), domain: awayFromZero });
// linear algebra, all four matmul forms
{
  const m = dim();
  const n = dim();
  const k = dim();
  cases.push({ name: `matmul [${m},${n}]@[${n}]`, shapes: [[m, n], [n]], build: (b, [x, y]) => b.matmul(x, y) });
  cases.push({ name: `matmul [${m},${n}]@[${n},${k}]`, shapes: [[m, n], [n, k]], build: (b, [x, y]) => b.matmul(x, y) });
  cases.push({ name: `matmul [${n}]@[${n},${k}]`, shapes: [[n], [n, k]], build: (b, [x, y]) => b.matmul(x, y) });
  cases.push({ name: `matmul [${n}]@[${n}]`, shapes: [[n], [n]], build: (b, [x, y]) => b.matmul(x, y) });
  cases.push({ name: `matmul [${m},${n}]@[${n},1]`, shapes: [[m, n], [n, 1]], build: (b, [x, y]) => b.matmul(x, y) });
  cases.push({ name: `transpose [${m},${n}]`, shapes: [[m, n]], build: (b, [x]) => b.op('transpose', [x]) });
  cases.push({ name: `outer [${m}],[${n}]`, shapes: [[m], [n]], build: (b, [x, y]) => b.op('outer', [x, y]) });
  cases.push({ name: `dot [${n}],[${n}]`, shapes: [[n], [n]], build: (b, [x, y]) => b.op('dot', [x, y]) });
}
// reductions and normalisations
cases.push({ name: 'sum [3,4]', shapes: [[3, 4]], build: (b, [x]) => b.op('sum', [x]) });
cases.push({ name: 'mean [3,4]', shapes: [[3, 4]], build: (b, [x]) => b.op('mean', [x]) });
cases.push({ name: 'max [3,4]', shapes: [[3, 4]], build: (b, [x]) => b.op('max', [x]) });
cases.push({ name: 'softmax [5]', shapes: [[5]], build: (b, [x]) => b.op('softmax', [x]) });
cases.push({ name: 'softmax [3,4] (rows)', shapes: [[3, 4]], build: (b, [x]) => b.op('softmax', [x]) });
cases.push({ name: 'log_softmax [3,4]', shapes: [[3, 4]], build: (b, [x]) => b.op('log_softmax', [x]) });
// losses (both operands differentiable)
cases.push({ name: 'mse [4]', shapes: [[4], [4]], build: (b, [y, t]) => b.op('mse', [y, t]) });
cases.push({ name: 'cross_entropy [4]', shapes: [[4], [4]], build: (b, [y, t]) => b.op('cross_entropy', [y, t]), domain: (j, v) => (j === 0 ? Math.abs(v) + 0.1 : v) });
cases.push({
  name: 'binary_cross_entropy [4]',
  shapes: [[4], [4]],
  build: (b, [y, t]) => b.op('binary_cross_entropy', [y, t]),
  domain: (j, v) => (j === 0 ? 0.1 + 0.8 / (1 + Math.exp(-v)) : 1 / (1 + Math.exp(-v))),
});
// losses fused with their producers, in both modes
cases.push({ name: 'cross_entropy(softmax(z), t) [5]', shapes: [[5], [5]], build: (b, [z, t]) => b.op('cross_entropy', [b.op('softmax', [z]), t]) });
cases.push({
  name: 'binary_cross_entropy(sigmoid(z), t) [4]',
  shapes: [[4], [4]],
  build: (b, [z, t]) => b.op('binary_cross_entropy', [b.unary('sigmoid', z), t]),
  domain: (j, v) => (j === 1 ? 1 / (1 + Math.exp(-v)) : v),
});
// y used by the fused loss and elsewhere
cases.push({
  name: 'softmax output used by cross_entropy and by another term',
  shapes: [[4], [4]],
  build: (b, [z, t]) => {
    const y = b.op('softmax', [z]);
    return b.add(b.op('cross_entropy', [y, t]), b.op('sum', [b.mul(y, y)]));
  },
});
// user functions
{
  const swish = fn('swish', ['z'], S.mul(S.arg(0), S.un('sigmoid', S.arg(0))));
  const f2 = fn('f2', ['a', 'b'], S.add(S.mul(S.arg(0), S.un('tanh', S.arg(1))), S.div(S.pow(S.arg(1), 3), S.num(3))));
  const nested = fn('nested', ['u', 'v'], S.call('f2', S.call('swish', S.arg(0)), S.mul(S.arg(1), S.num(2))));
  const fns = [swish, f2, nested];
  cases.push({ name: 'call swish [2,3]', shapes: [[2, 3]], build: (b, [x]) => b.call('swish', [x]), functions: fns });
  cases.push({ name: 'call f2 [3,1],[4] (broadcast)', shapes: [[3, 1], [4]], build: (b, [x, y]) => b.call('f2', [x, y]), functions: fns });
  cases.push({ name: 'call nested [3],[3]', shapes: [[3], [3]], build: (b, [x, y]) => b.call('nested', [x, y]), functions: fns });
}

describe('backward of every op against central differences', () => {
  for (const c of cases) {
    describe(c.name, () => {
      for (const bat of combos(c.shapes.length)) {
        const label = bat.map((x) => (x ? 'batched' : 'unbatched')).join(' × ');
        it(label, () => runCase(c, bat));
      }
    });
  }
});

describe('a deeper network, unfused and fused, batch sizes 1 and 5', () => {
  for (const fuse of [false, true])
    for (const B of [1, 5])
      it(`fuse=${fuse} B=${B}`, () => {
        const b = new ModelBuilder();
        const x = b.input('x', [4]);
        const t = b.target('t', [3]);
        const W1 = b.param('W1', [5, 4]);
        const b1 = b.param('b1', [5]);
        const W2 = b.param('W2', [3, 5]);
        const h = b.value('h', b.unary('tanh', b.add(b.matmul(W1, x), b1)));
        const z = b.value('z', b.matmul(W2, h));
        const y = b.value('y', b.op('softmax', [z]));
        b.loss('C', b.add(b.op('cross_entropy', [y, t]), b.mul(b.op('sum', [b.mul(W1, W1)]), b.const(0.01))));
        const m = b.model();
        const p = setup(program([m]), m, B, 3, { fuse });
        // one-hot targets
        const T = p.data.t;
        T.fill(0);
        for (let e = 0; e < B; e++) T[e * 3 + (e % 3)] = 1;
        checkAllGradients(p, 2e-6);
      });
});
