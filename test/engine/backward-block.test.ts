/** The backward block: evaluation as written, with true gradients substituted, manual gradients. */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../engine/exec/program';
import { referenceBackend } from '../../engine/kernels/backend';
import { setup } from './helpers';
import { ModelBuilder, program } from './irBuilder';

/** byhand.nn built by hand; `wrongZ2` doubles the first line. */
function byHand(opts: { wrongZ2?: boolean; skipB1?: boolean } = {}) {
  const b = new ModelBuilder('ByHand');
  const x = b.input('x', [2]);
  const t = b.target('t', [1]);
  const W1 = b.param('W1', [4, 2]);
  const b1 = b.param('b1', [4]);
  const W2 = b.param('W2', [1, 4]);
  const b2 = b.param('b2', [1]);
  const z1 = b.value('z1', b.add(b.matmul(W1, x), b1));
  const a1 = b.value('a1', b.unary('sigmoid', z1));
  const z2 = b.value('z2', b.add(b.matmul(W2, a1), b2));
  const y = b.value('y', b.unary('sigmoid', z2));
  b.loss('C', b.op('mse', [y, t]));
  // grad z2 = 2 * (y - t) * y * (1 - y)
  let gz2 = b.mul(b.mul(b.mul(b.const(2), b.sub(y, t)), y), b.sub(b.const(1), y));
  if (opts.wrongZ2) gz2 = b.mul(b.const(2), gz2);
  const lines = {
    z2: b.line('z2', gz2),
    W2: b.line('W2', b.op('outer', [b.gradRef('z2'), a1])),
    b2: b.line('b2', b.gradRef('z2')),
    a1: b.line('a1', b.matmul(b.op('transpose', [W2]), b.gradRef('z2'))),
    z1: b.line('z1', b.mul(b.mul(b.gradRef('a1'), a1), b.sub(b.const(1), a1))),
    W1: b.line('W1', b.op('outer', [b.gradRef('z1'), x])),
    b1: opts.skipB1 ? null : b.line('b1', b.gradRef('z1')),
  };
  const m = b.model();
  return { m, prog: program([m]), lines, ids: { x, t, z1, a1, z2, y } };
}

describe('evaluation as written', () => {
  it('each line computes its formula with the user’s own earlier lines', () => {
    const { m, prog, lines, ids } = byHand();
    const B = 3;
    const p = setup(prog, m, B, 4);
    p.forward();
    p.evalBackwardBlock('written');
    const y = p.value(ids.y);
    const t = p.value(ids.t);
    const a1 = p.value(ids.a1);
    const W2 = p.params.W2;
    for (let e = 0; e < B; e++) {
      const gz2 = 2 * (y[e] - t[e]) * y[e] * (1 - y[e]);
      expect(p.value(lines.z2.node)[e]).toBeCloseTo(gz2, 14);
      expect(p.value(lines.b2.node)[e]).toBeCloseTo(gz2, 14);
      for (let i = 0; i < 4; i++) {
        expect(p.value(lines.W2.node)[e * 4 + i]).toBeCloseTo(gz2 * a1[e * 4 + i], 14);
        const ga1 = W2[i] * gz2;
        expect(p.value(lines.a1.node)[e * 4 + i]).toBeCloseTo(ga1, 14);
        expect(p.value(lines.z1.node)[e * 4 + i]).toBeCloseTo(ga1 * a1[e * 4 + i] * (1 - a1[e * 4 + i]), 14);
      }
    }
  });

  it('a correct block, averaged over the batch, gives the automatic gradients', () => {
    const { m, prog } = byHand();
    const p = setup(prog, m, 4, 8);
    p.forward();
    p.backward();
    const auto = Object.fromEntries(Object.entries(p.grads).map(([k, v]) => [k, Float64Array.from(v)]));
    expect(p.manualGradients()).toEqual([]);
    for (const k of Object.keys(auto)) p.grads[k].forEach((v, i) => expect(v).toBeCloseTo(auto[k][i], 14));
  });

  it('params without a line get the automatic gradient (and are named)', () => {
    const { m, prog } = byHand({ skipB1: true });
    const p = setup(prog, m, 2, 8);
    p.forward();
    p.backward();
    const auto = Float64Array.from(p.grads.b1);
    p.grads.b1.fill(123);
    expect(p.manualGradients()).toEqual(['b1']);
    p.grads.b1.forEach((v, i) => expect(v).toBeCloseTo(auto[i], 14));
  });

  it('a wrong line propagates to the lines that use it, as written', () => {
    const { m, prog, lines } = byHand({ wrongZ2: true });
    const p = setup(prog, m, 2, 8);
    p.forward();
    p.evalBackwardBlock('written');
    const z2 = Float64Array.from(p.value(lines.z2.node));
    const W2 = Float64Array.from(p.value(lines.W2.node));
    const right = byHand();
    const q = setup(right.prog, right.m, 2, 8);
    q.forward();
    q.evalBackwardBlock('written');
    z2.forEach((v, i) => expect(v).toBeCloseTo(2 * q.value(right.lines.z2.node)[i], 14));
    W2.forEach((v, i) => expect(v).toBeCloseTo(2 * q.value(right.lines.W2.node)[i], 14));
  });
});

describe('evaluation with the true gradients substituted', () => {
  it('a line right on its own gives the true gradient even when the line it uses is wrong', () => {
    const { m, prog, lines, ids } = byHand({ wrongZ2: true });
    const B = 3;
    const p = setup(prog, m, B, 6);
    p.forward();
    p.backward();
    const truth = new Map<string, Float64Array>();
    for (const [name, id] of [
      ['z2', ids.z2],
      ['a1', ids.a1],
      ['z1', ids.z1],
    ] as const) {
      const buf = new Float64Array(B * p.slot(id).size);
      expect(p.perExampleGrad(id, buf)).toBe(true);
      truth.set(name, buf);
    }
    p.evalBackwardBlock((name, out) => out.set(truth.get(name)!));
    // grad a1 = W2ᵀ · (true ∂C/∂z2) is the true ∂C/∂a1
    const a1 = p.value(lines.a1.node);
    truth.get('a1')!.forEach((v, i) => expect(a1[i]).toBeCloseTo(v, 13));
    // grad z2 itself is still wrong (factor 2)
    const z2 = p.value(lines.z2.node);
    truth.get('z2')!.forEach((v, i) => expect(z2[i]).toBeCloseTo(2 * v, 13));
  });
});

describe('malformed blocks', () => {
  it('a line that uses itself cannot be evaluated as written', () => {
    const b = new ModelBuilder();
    const x = b.input('x', [2]);
    const W = b.param('W', [2, 2]);
    const z = b.value('z', b.matmul(W, x));
    b.loss('C', b.op('sum', [z]));
    b.line('z', b.mul(b.gradRef('z'), b.const(2)));
    const m = b.model();
    const p = compileModel(program([m]), m, referenceBackend('f64'));
    p.setBatchSize(1);
    p.forward();
    expect(() => p.evalBackwardBlock('written')).toThrow(/grad z/);
    // with the truth substituted it is fine
    p.evalBackwardBlock((_n, out) => out.fill(1));
    expect(Array.from(p.value(m.backward![0].node))).toEqual([2, 2]);
  });
});
