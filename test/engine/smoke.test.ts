import { describe, it } from 'vitest';
import { ModelBuilder, program } from './irBuilder';
import { checkAllGradients, setup } from './helpers';

describe('smoke', () => {
  it('digits-like', () => {
    const b = new ModelBuilder();
    const x = b.input('x', [5]);
    const t = b.target('t', [3]);
    const W1 = b.param('W1', [4, 5]);
    const b1 = b.param('b1', [4]);
    const W2 = b.param('W2', [3, 4]);
    const b2 = b.param('b2', [3]);
    const z1 = b.value('z1', b.add(b.matmul(W1, x), b1));
    const a1 = b.value('a1', b.unary('sigmoid', z1));
    const z2 = b.value('z2', b.add(b.matmul(W2, a1), b2));
    const y = b.value('y', b.op('softmax', [z2]));
    b.loss('C', b.op('cross_entropy', [y, t]));
    const m = b.model();
    const p = setup(program([m]), m, 3);
    checkAllGradients(p);
  });
});
