/** Every op's forward pass against values computed by hand. */
import { describe, expect, it } from 'vitest';
import type { Shape, UnaryFn } from '../../engine/ir';
import { compileModel } from '../../engine/exec/program';
import { referenceBackend } from '../../engine/kernels/backend';
import { fn, ModelBuilder, program, S, type N } from './irBuilder';

interface Leaf {
  shape: Shape;
  /** batched leaves are inputs with one row per example; unbatched ones are params */
  batched: boolean;
  values: number[];
}

/**
 * Builds `out = build(leaves)`, loss = sum(out) (a plain scalar so the graph is valid), runs the
 * forward pass and returns out's values.
 */
function forward(leaves: Leaf[], build: (b: ModelBuilder, xs: N[]) => N, opts: { B?: number; functions?: ReturnType<typeof fn>[] } = {}) {
  const b = new ModelBuilder();
  const B = opts.B ?? 1;
  const xs = leaves.map((l, i) => (l.batched ? b.input(`x${i}`, l.shape) : b.param(`p${i}`, l.shape)));
  const out = build(b, xs);
  const anyBatched = leaves.some((l) => l.batched);
  const dummy = anyBatched ? null : b.input('d', []);
  b.loss('C', dummy === null ? b.op('sum', [out]) : b.add(b.op('sum', [out]), b.mul(dummy, b.const(0))));
  const m = b.model();
  const p = compileModel(program([m], opts.functions), m, referenceBackend('f64'));
  p.setBatchSize(B);
  leaves.forEach((l, i) => (l.batched ? p.data[`x${i}`] : p.params[`p${i}`]).set(l.values));
  p.forward();
  return { values: Array.from(p.value(out)), batched: p.batched[out], shape: b.shape(out) };
}

const close = (a: number[], b: number[]) => {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 12));
};

describe('elementwise forward', () => {
  it('adds with per-example broadcasting: [2,3] + [3]', () => {
    const r = forward(
      [
        { shape: [2, 3], batched: false, values: [1, 2, 3, 4, 5, 6] },
        { shape: [3], batched: false, values: [10, 20, 30] },
      ],
      (b, [a, c]) => b.add(a, c),
    );
    expect(r.shape).toEqual([2, 3]);
    close(r.values, [11, 22, 33, 14, 25, 36]);
  });

  it('broadcasts [3,1] - [1,2] to [3,2]', () => {
    const r = forward(
      [
        { shape: [3, 1], batched: false, values: [1, 2, 3] },
        { shape: [1, 2], batched: false, values: [10, 100] },
      ],
      (b, [a, c]) => b.sub(a, c),
    );
    close(r.values, [-9, -99, -8, -98, -7, -97]);
  });

  it('keeps the batch axis separate: batched [2] * unbatched [2] over 3 examples', () => {
    const r = forward(
      [
        { shape: [2], batched: true, values: [1, 2, 3, 4, 5, 6] },
        { shape: [2], batched: false, values: [10, -1] },
      ],
      (b, [a, c]) => b.mul(a, c),
      { B: 3 },
    );
    expect(r.batched).toBe(true);
    close(r.values, [10, -2, 30, -4, 50, -6]);
  });

  it('a batched scalar broadcasts over an unbatched matrix per example', () => {
    const r = forward(
      [
        { shape: [], batched: true, values: [2, -1] },
        { shape: [2, 2], batched: false, values: [1, 2, 3, 4] },
      ],
      (b, [s, m]) => b.div(m, s),
      { B: 2 },
    );
    close(r.values, [0.5, 1, 1.5, 2, -1, -2, -3, -4]);
  });

  it('comparisons give 1 where true and 0 where not, with broadcasting: [2,3] OP [3]', () => {
    const leaves = [
      { shape: [2, 3], batched: false, values: [1, 2, 3, -1, 0, 5] },
      { shape: [3], batched: false, values: [2, 2, 2] },
    ];
    close(forward(leaves, (b, [x, y]) => b.op('gt', [x, y])).values, [0, 0, 1, 0, 0, 1]);
    close(forward(leaves, (b, [x, y]) => b.op('lt', [x, y])).values, [1, 0, 0, 1, 1, 0]);
    close(forward(leaves, (b, [x, y]) => b.op('ge', [x, y])).values, [0, 1, 1, 0, 0, 1]);
    close(forward(leaves, (b, [x, y]) => b.op('le', [x, y])).values, [1, 1, 0, 1, 1, 0]);
    // a batched operand against a scalar constant: z > 0 per example
    const z = [{ shape: [2], batched: true, values: [-0.5, 0.5, 0, 3] }];
    close(forward(z, (b, [x]) => b.op('gt', [x, b.const(0)]), { B: 2 }).values, [0, 1, 0, 1]);
  });

  it('neg, pow and leaky_relu', () => {
    const leaf = [{ shape: [3], batched: false, values: [-2, 0.5, 3] }];
    close(forward(leaf, (b, [a]) => b.neg(a)).values, [2, -0.5, -3]);
    close(forward(leaf, (b, [a]) => b.pow(a, 2)).values, [4, 0.25, 9]);
    close(forward(leaf, (b, [a]) => b.pow(a, 3)).values, [-8, 0.125, 27]);
    close(forward(leaf, (b, [a]) => b.leaky(a, 0.1)).values, [-0.2, 0.5, 3]);
  });

  const unaryCases: [UnaryFn, number[], number[]][] = [
    ['sigmoid', [0, 2, -2], [0.5, 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(2))]],
    ['tanh', [0, 1, -1], [0, Math.tanh(1), -Math.tanh(1)]],
    ['relu', [-1, 0, 2], [0, 0, 2]],
    ['exp', [0, 1, -1], [1, Math.E, 1 / Math.E]],
    ['log', [1, Math.E, 0.5], [0, 1, -Math.LN2]],
    ['sqrt', [4, 9, 0.25], [2, 3, 0.5]],
    ['abs', [-3, 0, 2], [3, 0, 2]],
    ['square', [3, -2, 0.5], [9, 4, 0.25]],
    ['softplus', [0, 1, -1], [Math.LN2, Math.log(1 + Math.E), Math.log(1 + 1 / Math.E)]],
    // a·Φ(a) with Φ(1) = 0.841344746068542948… (tables of the normal distribution)
    ['gelu', [0, 1, -1], [0, 0.8413447460685429, -(1 - 0.8413447460685429)]],
    ['elu', [2, 0, -1], [2, 0, Math.exp(-1) - 1]],
    ['step', [-1, 0, 2], [0, 0, 1]],
  ];
  for (const [f, xs, ys] of unaryCases) {
    it(`${f}(${xs.join(', ')})`, () => close(forward([{ shape: [3], batched: false, values: xs }], (b, [a]) => b.unary(f, a)).values, ys));
  }

  it('sigmoid and softplus stay finite and exact for large arguments', () => {
    const r = forward([{ shape: [2], batched: false, values: [-800, 800] }], (b, [a]) => b.unary('sigmoid', a));
    close(r.values, [0, 1]);
    const s = forward([{ shape: [2], batched: false, values: [-800, 800] }], (b, [a]) => b.unary('softplus', a));
    close(s.values, [0, 800]);
  });

  it('gelu keeps its precision far into the negative tail, where a·Φ(a) is tiny', () => {
    // Φ(-10) = 7.619853024160527e-24 (tables): 1 + erf(-10/√2) would round to 0 there
    const r = forward([{ shape: [1], batched: false, values: [-10] }], (b, [a]) => b.unary('gelu', a));
    expect(Math.abs(r.values[0] / (-10 * 7.619853024160527e-24) - 1)).toBeLessThan(1e-13);
  });

  it('calls a user function elementwise with broadcast arguments', () => {
    const f = fn('f', ['a', 'b'], S.add(S.mul(S.arg(0), S.arg(1)), S.num(1)));
    const r = forward(
      [
        { shape: [2, 1], batched: false, values: [1, 2] },
        { shape: [3], batched: true, values: [1, 2, 3] },
      ],
      (b, [a, c]) => b.call('f', [a, c]),
      { functions: [f] },
    );
    expect(r.shape).toEqual([2, 3]);
    close(r.values, [2, 3, 4, 3, 5, 7]);
  });
});

describe('linear algebra forward', () => {
  const A = { shape: [2, 2], batched: false, values: [1, 2, 3, 4] };
  it('[m,n] @ [n] → [m]', () => {
    close(forward([A, { shape: [2], batched: false, values: [5, 6] }], (b, [a, v]) => b.matmul(a, v)).values, [17, 39]);
  });
  it('[m,n] @ [n,k] → [m,k]', () => {
    close(forward([A, { shape: [2, 2], batched: false, values: [5, 6, 7, 8] }], (b, [a, c]) => b.matmul(a, c)).values, [19, 22, 43, 50]);
  });
  it('[n] @ [n,k] → [k]', () => {
    close(forward([{ shape: [2], batched: false, values: [5, 6] }, A], (b, [v, a]) => b.matmul(v, a)).values, [23, 34]);
  });
  it('[n] @ [n] → []', () => {
    close(forward([{ shape: [2], batched: false, values: [5, 6] }, { shape: [2], batched: false, values: [1, 2] }], (b, [u, v]) => b.matmul(u, v)).values, [17]);
  });
  it('W @ x with W unbatched and x batched multiplies every example', () => {
    const r = forward([A, { shape: [2], batched: true, values: [1, 0, 0, 1, 1, 1] }], (b, [a, x]) => b.matmul(a, x), { B: 3 });
    close(r.values, [1, 3, 2, 4, 3, 7]);
  });
  it('X @ W with X batched [n,k]-by-example and W unbatched', () => {
    const r = forward([{ shape: [1, 2], batched: true, values: [1, 0, 0, 1] }, A], (b, [x, a]) => b.matmul(x, a), { B: 2 });
    close(r.values, [1, 2, 3, 4]);
  });
  it('batched @ batched multiplies per example', () => {
    const r = forward(
      [
        { shape: [2, 2], batched: true, values: [1, 0, 0, 1, 0, 1, 1, 0] },
        { shape: [2], batched: true, values: [3, 4, 3, 4] },
      ],
      (b, [a, v]) => b.matmul(a, v),
      { B: 2 },
    );
    close(r.values, [3, 4, 4, 3]);
  });
  it('transpose, outer and dot', () => {
    close(forward([{ shape: [2, 3], batched: false, values: [1, 2, 3, 4, 5, 6] }], (b, [a]) => b.op('transpose', [a])).values, [1, 4, 2, 5, 3, 6]);
    close(
      forward([{ shape: [2], batched: false, values: [1, 2] }, { shape: [3], batched: false, values: [3, 4, 5] }], (b, [u, v]) => b.op('outer', [u, v])).values,
      [3, 4, 5, 6, 8, 10],
    );
    close(forward([{ shape: [3], batched: false, values: [1, 2, 3] }, { shape: [3], batched: false, values: [4, -5, 6] }], (b, [u, v]) => b.op('dot', [u, v])).values, [12]);
  });
});

describe('reductions and normalisations forward', () => {
  const M = { shape: [2, 3], batched: true, values: [1, 5, 3, -1, -7, -2, 0, 0, 0, 2, 2, 1] };
  it('sum, mean and max over all axes of each example', () => {
    close(forward([M], (b, [a]) => b.op('sum', [a]), { B: 2 }).values, [-1, 5]);
    close(forward([M], (b, [a]) => b.op('mean', [a]), { B: 2 }).values, [-1 / 6, 5 / 6]);
    close(forward([M], (b, [a]) => b.op('max', [a]), { B: 2 }).values, [5, 2]);
  });
  it('softmax and log_softmax over the last axis', () => {
    const z = [1, 2, 3];
    const s = z.reduce((t, v) => t + Math.exp(v), 0);
    close(forward([{ shape: [3], batched: false, values: z }], (b, [a]) => b.op('softmax', [a])).values, z.map((v) => Math.exp(v) / s));
    close(forward([{ shape: [3], batched: false, values: z }], (b, [a]) => b.op('log_softmax', [a])).values, z.map((v) => v - Math.log(s)));
    // rows of a matrix are independent
    const r = forward([{ shape: [2, 2], batched: false, values: [0, 0, 0, Math.log(3)] }], (b, [a]) => b.op('softmax', [a]));
    close(r.values, [0.5, 0.5, 0.25, 0.75]);
  });
  it('softmax of huge logits does not overflow', () => {
    const r = forward([{ shape: [2], batched: false, values: [1000, 1000] }], (b, [a]) => b.op('softmax', [a]));
    close(r.values, [0.5, 0.5]);
  });
});

describe('losses forward', () => {
  it('cross_entropy = -Σ t log y', () => {
    const r = forward(
      [
        { shape: [3], batched: true, values: [0.2, 0.3, 0.5] },
        { shape: [3], batched: true, values: [0, 1, 0] },
      ],
      (b, [y, t]) => b.op('cross_entropy', [y, t]),
    );
    close(r.values, [-Math.log(0.3)]);
  });
  it('cross_entropy skips zero-weight terms (0·log 0 = 0)', () => {
    const r = forward(
      [
        { shape: [2], batched: true, values: [0, 1] },
        { shape: [2], batched: true, values: [0, 1] },
      ],
      (b, [y, t]) => b.op('cross_entropy', [y, t]),
    );
    close(r.values, [0]);
  });
  it('cross_entropy of a softmax is computed from the logits', () => {
    const r = forward(
      [
        { shape: [3], batched: true, values: [1, 2, 3] },
        { shape: [3], batched: true, values: [0, 0, 1] },
      ],
      (b, [z, t]) => b.op('cross_entropy', [b.op('softmax', [z]), t]),
    );
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    close(r.values, [lse - 3]);
  });
  it('mse = mean((y - t)^2)', () => {
    const r = forward(
      [
        { shape: [2], batched: true, values: [1, 2] },
        { shape: [2], batched: true, values: [0, 4] },
      ],
      (b, [y, t]) => b.op('mse', [y, t]),
    );
    close(r.values, [(1 + 4) / 2]);
  });
  it('binary_cross_entropy = -mean(t log y + (1-t) log(1-y))', () => {
    const r = forward(
      [
        { shape: [2], batched: true, values: [0.8, 0.4] },
        { shape: [2], batched: true, values: [1, 0] },
      ],
      (b, [y, t]) => b.op('binary_cross_entropy', [y, t]),
    );
    close(r.values, [-(Math.log(0.8) + Math.log(0.6)) / 2]);
  });
  it('binary_cross_entropy of a sigmoid is computed from the logits', () => {
    const r = forward(
      [
        { shape: [2], batched: true, values: [40, -1] },
        { shape: [2], batched: true, values: [0, 1] },
      ],
      (b, [z, t]) => b.op('binary_cross_entropy', [b.unary('sigmoid', z), t]),
    );
    // -log(1 - σ(40)) = softplus(40) = 40 + log(1 + e^-40); -log σ(-1) = softplus(1)
    close(r.values, [(40 + Math.log1p(Math.exp(-40)) + Math.log1p(Math.E)) / 2]);
  });
});
