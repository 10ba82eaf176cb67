/** The executor as a program: buffers, batch rule, conventions, fusion, float32 backends. */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../engine/exec/program';
import { referenceBackend, type Backend } from '../../engine/kernels/backend';
import { jsBackend, wasmBackend, wasmSimdSupported } from '../../engine/kernels/index';
import { Rng } from '../../engine/rng';
import { expectClose, numericGrad, randn, setup } from './helpers';
import { ModelBuilder, program } from './irBuilder';

function digitsLike() {
  const b = new ModelBuilder();
  const x = b.input('x', [6]);
  const t = b.target('t', [3]);
  const W1 = b.param('W1', [4, 6]);
  const b1 = b.param('b1', [4]);
  const W2 = b.param('W2', [3, 4]);
  const b2 = b.param('b2', [3]);
  const z1 = b.value('z1', b.add(b.matmul(W1, x), b1));
  const a1 = b.value('a1', b.unary('sigmoid', z1));
  const z2 = b.value('z2', b.add(b.matmul(W2, a1), b2));
  const y = b.value('y', b.op('softmax', [z2]));
  b.loss('C', b.op('cross_entropy', [y, t]));
  const m = b.model();
  return { m, prog: program([m]), ids: { x, t, W1, z1, a1, z2, y } };
}

function oneHot(p: { data: Record<string, Float64Array | Float32Array> }, B: number, k: number, rng: Rng) {
  const t = p.data.t;
  t.fill(0);
  for (let e = 0; e < B; e++) t[e * k + rng.int(k)] = 1;
}

/** A backend that counts allocate and gemm calls. */
function spy(inner: Backend) {
  const calls = { allocate: 0, gemm: [] as { transA: boolean; transB: boolean; M: number; N: number; K: number }[] };
  const be: Backend = {
    dtype: inner.dtype,
    name: `spy-${inner.name}`,
    allocate(sizes) {
      calls.allocate++;
      return inner.allocate(sizes);
    },
    gemm(transA, transB, M, N, K, A, aOff, B, bOff, C, cOff, acc) {
      calls.gemm.push({ transA, transB, M, N, K });
      inner.gemm(transA, transB, M, N, K, A, aOff, B, bOff, C, cOff, acc);
    },
  };
  return { be, calls };
}

describe('buffers', () => {
  it('setBatchSize allocates everything in one call; forward and backward allocate nothing', () => {
    const { m, prog } = digitsLike();
    const { be, calls } = spy(referenceBackend('f64'));
    const p = compileModel(prog, m, be, { extraBuffers: [24, 24] });
    p.setBatchSize(8);
    expect(calls.allocate).toBe(1);
    const W1 = p.params.W1;
    const g = p.grads.W1;
    for (let s = 0; s < 5; s++) {
      p.forward();
      p.backward();
    }
    expect(calls.allocate).toBe(1);
    expect(p.params.W1).toBe(W1);
    expect(p.grads.W1).toBe(g);
    expect(p.extra.map((e) => e.length)).toEqual([24, 24]);
  });

  it('params and extra buffers keep their values across a batch size change', () => {
    const { m, prog } = digitsLike();
    const p = compileModel(prog, m, referenceBackend('f64'), { extraBuffers: [5] });
    p.setBatchSize(2);
    const rng = new Rng(3);
    const w = randn(rng, 24);
    p.params.W1.set(w);
    p.extra[0].set([1, 2, 3, 4, 5]);
    p.setBatchSize(7);
    expect(Array.from(p.params.W1)).toEqual(Array.from(w));
    expect(Array.from(p.extra[0])).toEqual([1, 2, 3, 4, 5]);
    expect(p.data.x.length).toBe(7 * 6);
  });

  it('a smaller batch reuses the buffers and computes exactly what a program of that size does', () => {
    const { m, prog } = digitsLike();
    const { be, calls } = spy(referenceBackend('f64'));
    const p = compileModel(prog, m, be);
    p.setBatchSize(8);
    const rng = new Rng(12);
    for (const k of Object.keys(p.params)) p.params[k].set(randn(rng, p.params[k].length));
    const x = randn(rng, 3 * 6);
    const t = new Float64Array(9).fill(0);
    t[0] = t[4] = t[8] = 1;
    p.setBatch({ n: 3, data: { x, t } });
    expect(calls.allocate).toBe(1);
    expect(p.batchCapacity).toBe(8);
    expect(p.data.x.length).toBe(18);
    expect(p.losses().length).toBe(3);
    const loss = p.forward();
    p.backward();
    const q = compileModel(prog, m, referenceBackend('f64'));
    q.setBatchSize(3);
    q.setParams(p.params);
    q.setBatch({ n: 3, data: { x, t } });
    expect(loss).toBe(q.forward());
    q.backward();
    for (const k of Object.keys(p.grads)) expect(Array.from(p.grads[k])).toEqual(Array.from(q.grads[k]));
    p.setBatchSize(8);
    expect(calls.allocate).toBe(1);
    p.setBatchSize(9);
    expect(calls.allocate).toBe(2);
    expect(Array.from(p.params.W2)).toEqual(Array.from(q.params.W2));
  });

  it('W @ x with W unbatched and x batched is one gemm x[B,n]·Wᵀ (forward), two in backward', () => {
    const { m, prog } = digitsLike();
    const { be, calls } = spy(referenceBackend('f64'));
    const p = compileModel(prog, m, be);
    p.setBatchSize(5);
    p.forward();
    const fwd = calls.gemm.splice(0);
    expect(fwd).toEqual([
      { transA: false, transB: true, M: 5, N: 4, K: 6 },
      { transA: false, transB: true, M: 5, N: 3, K: 4 },
    ]);
    p.backward();
    // W2: ∂a1 and ∂W2; W1: only ∂W1 (x needs no gradient in 'params' mode)
    expect(calls.gemm.length).toBe(3);
  });

  it('loading checks sizes and names', () => {
    const { m, prog } = digitsLike();
    const p = compileModel(prog, m, referenceBackend('f64'));
    p.setBatchSize(2);
    expect(() => p.setParams({ W1: new Float64Array(3) })).toThrow(/W1/);
    expect(() => p.setBatch({ n: 2, data: { x: new Float64Array(12) } })).toThrow(/t/);
    expect(() => p.setBatchSize(0)).toThrow();
  });
});

describe('the per-example rule', () => {
  it('the loss is the mean of per-example losses and param gradients are of that mean', () => {
    const { m, prog } = digitsLike();
    const B = 3;
    const p = setup(prog, m, B, 11);
    oneHot(p, B, 3, new Rng(2));
    const loss = p.forward();
    p.backward();
    const losses = Array.from(p.losses());
    expect(loss).toBeCloseTo(losses.reduce((s, v) => s + v, 0) / B, 14);
    const batchGrad = Float64Array.from(p.grads.W1);
    // one example at a time
    const q = compileModel(prog, m, referenceBackend('f64'), { grads: 'all' });
    q.setBatchSize(1);
    for (const k of Object.keys(p.params)) q.params[k].set(p.params[k]);
    const mean = new Float64Array(batchGrad.length);
    const perEx = new Float64Array(B * 4);
    p.perExampleGrad(p.model.values.find((v) => v.name === 'z1')!.node, perEx);
    for (let e = 0; e < B; e++) {
      q.data.x.set(p.data.x.subarray(e * 6, e * 6 + 6));
      q.data.t.set(p.data.t.subarray(e * 3, e * 3 + 3));
      expect(q.forward()).toBeCloseTo(losses[e], 13);
      q.backward();
      q.grads.W1.forEach((v, i) => (mean[i] += v / B));
      // per-example gradient of a batched value = the gradient of that example alone
      const z1 = q.grad(q.model.values.find((v) => v.name === 'z1')!.node)!;
      for (let i = 0; i < 4; i++) expect(perEx[e * 4 + i]).toBeCloseTo(z1[i], 13);
    }
    batchGrad.forEach((v, i) => expect(v).toBeCloseTo(mean[i], 14));
  });
});

describe('derivative conventions at kinks (as PyTorch)', () => {
  function gradAt(build: (b: ModelBuilder, x: number) => number, xs: number[]) {
    const b = new ModelBuilder();
    const x = b.param('x', [xs.length]);
    const d = b.input('d', []);
    b.loss('C', b.add(b.op('sum', [build(b, x)]), b.mul(d, b.const(0))));
    const m = b.model();
    const p = compileModel(program([m]), m, referenceBackend('f64'));
    p.setBatchSize(1);
    p.params.x.set(xs);
    p.forward();
    p.backward();
    return Array.from(p.grads.x);
  }
  it("relu'(0) = 0", () => expect(gradAt((b, x) => b.unary('relu', x), [-1, 0, 2])).toEqual([0, 0, 1]));
  it("abs'(0) = 0", () => expect(gradAt((b, x) => b.unary('abs', x), [-1, 0, 2])).toEqual([-1, 0, 1]));
  it("leaky_relu'(0) = alpha", () => expect(gradAt((b, x) => b.leaky(x, 0.1), [-1, 0, 2])).toEqual([0.1, 0.1, 1]));
  it('max sends its gradient to the first maximal element', () =>
    expect(gradAt((b, x) => b.op('max', [x]), [1, 3, 3, 2])).toEqual([0, 1, 0, 0]));
  it('d/dx x^0 = 0, even at 0', () => expect(gradAt((b, x) => b.pow(x, 0), [0, 2])).toEqual([0, 0]));
});

describe('fusion of softmax/sigmoid with their losses', () => {
  it('fused and unfused agree on the loss, on every param gradient and on y’s own gradient', () => {
    const { m, prog, ids } = digitsLike();
    const B = 4;
    const res = [true, false].map((fuse) => {
      const p = setup(prog, m, B, 5, { fuse });
      oneHot(p, B, 3, new Rng(9));
      const loss = p.forward();
      p.backward();
      return { loss, W1: Float64Array.from(p.grads.W1), y: Float64Array.from(p.grad(ids.y)!), z2: Float64Array.from(p.grad(ids.z2)!) };
    });
    expect(res[0].loss).toBeCloseTo(res[1].loss, 13);
    res[0].W1.forEach((v, i) => expect(v).toBeCloseTo(res[1].W1[i], 13));
    res[0].z2.forEach((v, i) => expect(v).toBeCloseTo(res[1].z2[i], 13));
    res[0].y.forEach((v, i) => expect(v).toBeCloseTo(res[1].y[i], 12));
  });

  it('with huge logits the fused loss and z-gradient stay finite and exact; unfused ones do not', () => {
    const b = new ModelBuilder();
    const z = b.input('z', [3]);
    const t = b.target('t', [3]);
    const s = b.param('s', []);
    const y = b.op('softmax', [b.mul(z, s)]);
    b.loss('C', b.op('cross_entropy', [y, t]));
    const m = b.model();
    const run = (fuse: boolean) => {
      const p = compileModel(program([m]), m, referenceBackend('f64'), { fuse });
      p.setBatchSize(1);
      p.params.s[0] = 1;
      p.data.z.set([0, 1000, -1000]);
      p.data.t.set([1, 0, 0]);
      const loss = p.forward();
      p.backward();
      return { loss, ds: p.grads.s[0] };
    };
    const f = run(true);
    // C = lse(z) - z_0 = 1000 (+ e^-1000 terms); dC/ds = Σ softmax_i z_i - z_0 = 1000
    expect(f.loss).toBe(1000);
    expect(f.ds).toBe(1000);
    const u = run(false);
    expect(Number.isFinite(u.loss)).toBe(false);
  });

  it('sigmoid + binary_cross_entropy: fused is exact where unfused saturates', () => {
    const b = new ModelBuilder();
    const z = b.input('z', [2]);
    const t = b.target('t', [2]);
    const w = b.param('w', []);
    b.loss('C', b.op('binary_cross_entropy', [b.unary('sigmoid', b.mul(z, w)), t]));
    const m = b.model();
    const p = compileModel(program([m]), m, referenceBackend('f64'), { fuse: true });
    p.setBatchSize(1);
    p.params.w[0] = 1;
    p.data.z.set([50, -50]);
    p.data.t.set([0, 1]);
    // both predictions are confidently wrong: C = mean(softplus(50), softplus(50)) ≈ 50
    expect(p.forward()).toBeCloseTo(50, 12);
    p.backward();
    // dC/dw = mean((σ(z) - t) z) = (50 + 50) / 2 (up to e^-50)
    expect(p.grads.w[0]).toBeCloseTo(50, 12);
  });

  it('in training mode a softmax read only by its loss gets no gradient buffer', () => {
    const { m, prog, ids } = digitsLike();
    const p = compileModel(prog, m, referenceBackend('f64'));
    p.setBatchSize(2);
    expect(p.grad(ids.y)).toBeNull();
    expect(p.grad(ids.z2)).not.toBeNull();
  });
});

describe('float32 backends', () => {
  const backends: [string, () => Backend][] = [
    ['js f32', () => jsBackend('f32')],
    ['reference f32', () => referenceBackend('f32')],
  ];
  if (wasmSimdSupported()) backends.push(['wasm f32', () => wasmBackend()]);
  for (const [name, make] of backends) {
    it(`${name} computes the same loss and gradients as float64 (to float32 precision)`, () => {
      const { m, prog } = digitsLike();
      const B = 16;
      const ref = setup(prog, m, B, 21);
      oneHot(ref, B, 3, new Rng(4));
      const l64 = ref.forward();
      ref.backward();
      const p = compileModel(prog, m, make());
      p.setBatchSize(B);
      for (const k of Object.keys(p.params)) p.params[k].set(ref.params[k]);
      for (const k of Object.keys(p.data)) p.data[k].set(ref.data[k]);
      expect(p.params.W1).toBeInstanceOf(Float32Array);
      const l32 = p.forward();
      p.backward();
      expect(Math.abs(l32 - l64) / l64).toBeLessThan(1e-5);
      for (const k of Object.keys(p.grads)) {
        const scale = Math.max(...Array.from(ref.grads[k]).map(Math.abs));
        p.grads[k].forEach((v, i) => expect(Math.abs(v - ref.grads[k][i])).toBeLessThan(1e-4 * scale));
      }
    });
  }
});

describe('weight gradients stored, not zeroed and added to', () => {
  // a dense layer's weight gradient is one product over the whole matrix: its first write of the
  // pass stores it, and backward() skips zeroing that buffer; a weight used twice shares one
  // gradient, which the first product stores and the second adds to
  function model(shared: boolean) {
    const b = new ModelBuilder();
    const x = b.input('x', [5]);
    const t = b.target('t', [3]);
    const W = b.param('W', [4, 5]);
    const V = b.param('V', [3, 4]);
    const h = b.value('h', b.unary('tanh', b.matmul(W, x)));
    let z = b.matmul(V, h);
    if (shared) z = b.add(z, b.matmul(V, b.unary('sigmoid', h)));
    b.loss('C', b.op('mse', [b.value('z', z), t]));
    const m = b.model();
    return { m, prog: program([m]) };
  }
  for (const shared of [false, true]) {
    it(`${shared ? 'V used twice' : 'each weight used once'}: the gemm stores, and every backward() matches central differences, batch after batch`, () => {
      const { m, prog } = model(shared);
      const { be, calls } = spy(referenceBackend('f64'));
      const p = compileModel(prog, m, be);
      p.setBatchSize(4);
      const rng = new Rng(9);
      for (const k of Object.keys(p.params)) p.params[k].set(randn(rng, p.params[k].length));
      for (let batch = 0; batch < 3; batch++) {
        for (const k of Object.keys(p.data)) p.data[k].set(randn(rng, p.data[k].length));
        p.forward();
        calls.gemm.length = 0;
        p.backward();
        for (const k of ['W', 'V']) expectClose(p.grads[k], numericGrad(p, p.params[k]), 1e-6, `batch ${batch} ∂C/∂${k}`);
      }
      // W's gradient (4×5 from ∂h[B×4] and x[B×5]) is stored; V's first write too, when V is used twice the second adds
      const weightProducts = calls.gemm.filter((c) => c.transA && !c.transB);
      expect(weightProducts.map((c) => `${c.M}x${c.N}`).sort()).toEqual(shared ? ['3x4', '3x4', '4x5'] : ['3x4', '4x5']);
    });
  }
  it('stores only where it writes the whole gradient: an unbatched operand of one product', () => {
    const { m, prog } = model(true);
    const accs: boolean[] = [];
    const inner = referenceBackend('f64');
    const be: Backend = { ...inner, name: 'acc-spy', allocate: (s) => inner.allocate(s), gemm: (tA, tB, M, N, K, A, ao, B, bo, C, co, acc) => (accs.push(acc), inner.gemm(tA, tB, M, N, K, A, ao, B, bo, C, co, acc)) };
    const p = compileModel(prog, m, be);
    p.setBatchSize(2);
    p.forward();
    accs.length = 0;
    p.backward();
    // the products of the backward pass: two weight gradients of V (one stores, one adds), one of
    // W (stores), and the input gradients of the batched operands (all add)
    expect(accs.filter((a) => !a)).toHaveLength(2);
  });
});

describe('graph edge cases', () => {
  it('an unused param has a zero gradient; an unused named value is still computed', () => {
    const b = new ModelBuilder();
    const x = b.input('x', [2]);
    const W = b.param('W', [2, 2]);
    b.param('U', [3]);
    const side = b.value('side', b.unary('exp', x));
    b.loss('C', b.op('sum', [b.matmul(W, x)]));
    const m = b.model();
    const p = setup(program([m]), m, 2);
    p.forward();
    p.backward();
    expect(Array.from(p.grads.U)).toEqual([0, 0, 0]);
    expect(p.value(side)[0]).toBeCloseTo(Math.exp(p.data.x[0]), 14);
  });

  it('refuses a node whose shape disagrees with its operands', () => {
    const b = new ModelBuilder();
    const x = b.input('x', [2]);
    const W = b.param('W', [3, 2]);
    const z = b.matmul(W, x);
    b.loss('C', b.op('sum', [z]));
    const m = b.model();
    m.nodes[z].shape = [2];
    expect(() => compileModel(program([m]), m, referenceBackend('f64'))).toThrow(/shape \[2\]/);
  });
});

describe('partial recomputation for one perturbed element', () => {
  it('forwardAffected(param, index) gives exactly the loss of a full forward pass, in every matmul form', () => {
    const b = new ModelBuilder();
    const x = b.input('x', [3]);
    const X = b.input('X', [3, 2]);
    const A = b.param('A', [4, 3]); // A @ x (foldB) and A @ X (loop)
    const V = b.param('V', [3, 2]); // x @ V (foldA, V as B)
    const u = b.param('u', [4]); // u @ A (single: both unbatched; A as B)
    const z1 = b.op('sum', [b.unary('tanh', b.matmul(A, x))]);
    const z2 = b.op('sum', [b.unary('tanh', b.matmul(A, X))]);
    const z3 = b.op('sum', [b.unary('tanh', b.matmul(x, V))]);
    const z4 = b.op('sum', [b.unary('tanh', b.matmul(u, A))]);
    b.loss('C', b.add(b.add(z1, z2), b.add(z3, b.mul(z4, b.op('sum', [x])))));
    const m = b.model();
    for (const backend of [jsBackend('f64'), referenceBackend('f64')]) {
      // p recomputes partially (as the checker does: perturb, evaluate, restore, settle);
      // q recomputes everything
      const [p, q] = [0, 1].map(() => {
        const r = compileModel(program([m]), m, backend);
        r.setBatchSize(3);
        const rng = new Rng(8);
        for (const k of Object.keys(r.params)) r.params[k].set(randn(rng, r.params[k].length));
        for (const k of Object.keys(r.data)) r.data[k].set(randn(rng, r.data[k].length));
        r.forward();
        return r;
      });
      for (const name of ['A', 'V', 'u']) {
        for (let i = 0; i < p.params[name].length; i++) {
          const v = p.params[name][i];
          for (const h of [0.37, -0.37]) {
            p.params[name][i] = v + h;
            q.params[name][i] = v + h;
            expect(p.forwardAffected(name, i)).toBe(q.forward());
          }
          p.params[name][i] = v;
          q.params[name][i] = v;
          p.settleElement(name, i);
        }
        p.forwardAffected(name);
      }
    }
  });
});
