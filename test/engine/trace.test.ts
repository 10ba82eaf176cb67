/**
 * The trace of one example (engine/session/trace.ts): which example N is, per-example gradients
 * against central differences of that example's loss, the lecture's identities (δz = σ′(z) δa,
 * ∂C/∂W[i,j] = a[j] δ[i]) by hand, the order of the steps, the backward block's verdicts, and
 * the exact §10 JSON. (Values and gradients against PyTorch: test/parity/trace.test.ts.)
 */
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHECK_OPTIONS, initParams, loadData, type IRProgram } from '../../engine/index';
import { traceJson, traceModel, type Trace } from '../../engine/session/trace';
import { analyzeFile, analyzeText } from '../../language/index';
import { checkBatchFor } from '../../engine/session/pipeline';

const ROOT = resolve(__dirname, '../..');

async function file(name: string): Promise<{ program: IRProgram; ctx: { baseDir: string } }> {
  const path = join(ROOT, 'examples', name);
  const a = await analyzeFile(path);
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { program: a.program, ctx: { baseDir: dirname(path) } };
}

function ok(r: ReturnType<typeof traceModel>): Trace {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const node = (t: Trace, name: string) => t.nodes.find((n) => n.name === name)!;

describe('which example', () => {
  it('example N is row N of the train block’s data set, in its own order', async () => {
    const { program, ctx } = await file('digits.nn');
    const t = ok(traceModel({ program, model: 'Digits', example: 9, ctx }));
    const ds = loadData({ kind: 'digits16', limit: 10000, seed: 1 }, ctx);
    expect(Array.from(node(t, 'x').value)).toEqual(Array.from(ds.x.subarray(8 * 256, 9 * 256)));
    expect(Array.from(node(t, 't').value)).toEqual(Array.from(ds.y.subarray(80, 90)));
    expect(t.examples).toEqual({ count: 10000, source: 'digits' });
  });

  it('without data, example N is the N-th of the random data the gradient check uses', async () => {
    const text = 'model R {\n input x: [3]\n target t: [2]\n param W: [2, 3]\n y = softmax(W @ x)\n loss C = cross_entropy(y, t)\n}\n';
    const { program } = await analyzeText(text);
    const ctx = { baseDir: ROOT };
    const check = checkBatchFor(program, program.models[0], ctx, DEFAULT_CHECK_OPTIONS.examples);
    expect(check.source).toBe('random');
    for (let n = 1; n <= 4; n++) {
      const t = ok(traceModel({ program, model: 'R', example: n, ctx }));
      expect(Array.from(node(t, 'x').value)).toEqual(Array.from(check.batch.data.x).slice(3 * (n - 1), 3 * n));
      expect(Array.from(node(t, 't').value)).toEqual(Array.from(check.batch.data.t).slice(2 * (n - 1), 2 * n));
    }
    expect(traceModel({ program, model: 'R', example: 5, ctx })).toEqual({
      ok: false,
      error: { kind: 'bad-example', message: 'example 5 is out of range: the random check data of R has 4 examples (1–4)' },
    });
  });

  it('refuses an example out of range, an unknown model and weights that do not fit', async () => {
    const { program, ctx } = await file('xor.nn');
    expect(traceModel({ program, model: 'Xor', example: 0, ctx })).toMatchObject({ ok: false, error: { kind: 'bad-example', message: 'example 0 is out of range: data xor has 4 examples (1–4)' } });
    expect(traceModel({ program, model: 'Nope', ctx })).toMatchObject({ ok: false, error: { kind: 'no-model', message: 'no model Nope (models: Xor)' } });
    const params = initParams(program.models[0], 0);
    expect(traceModel({ program, model: 'Xor', ctx, params: { ...params, W1: new Float64Array(3) } })).toMatchObject({
      ok: false,
      error: { kind: 'bad-weights', message: 'the weights of W1 have 3 numbers for shape [4, 2]' },
    });
  });
});

describe('the numbers of one example', () => {
  it('∂Cⁿ/∂param equals the central difference of that example’s loss, element by element', async () => {
    const { program, ctx } = await file('byhand.nn');
    const model = program.models[0];
    const params = initParams(model, 1);
    const t = ok(traceModel({ program, model: 'ByHand', example: 3, ctx, params }));
    const eps = 1e-6;
    for (const p of model.params) {
      const g = node(t, p.name).grad!;
      for (let k = 0; k < p.size; k++) {
        const plus = { ...params, [p.name]: Float64Array.from(params[p.name]) };
        const minus = { ...params, [p.name]: Float64Array.from(params[p.name]) };
        plus[p.name][k] += eps;
        minus[p.name][k] -= eps;
        const lp = ok(traceModel({ program, model: 'ByHand', example: 3, ctx, params: plus })).loss;
        const lm = ok(traceModel({ program, model: 'ByHand', example: 3, ctx, params: minus })).loss;
        expect(Math.abs(g[k] - (lp - lm) / (2 * eps)), `${p.name}[${k}]`).toBeLessThan(1e-8);
      }
    }
  });

  it('the amplifier: σ′(z) = a(1 − a) for a sigmoid, and δz = σ′(z) δa, by hand', async () => {
    const { program, ctx } = await file('byhand.nn');
    const t = ok(traceModel({ program, model: 'ByHand', example: 2, ctx }));
    const amp = t.amplifiers.find((a) => a.statement === 'a1')!;
    expect(amp).toMatchObject({ fn: 'sigmoid', zName: 'z1', zText: 'z1' });
    const a1 = node(t, 'a1');
    const z1 = node(t, 'z1');
    for (let i = 0; i < 4; i++) {
      expect(amp.slope[i]).toBeCloseTo(a1.value[i] * (1 - a1.value[i]), 15);
      expect(z1.grad![i]).toBeCloseTo(amp.slope[i] * a1.grad![i], 15);
      expect(amp.zGrad[i]).toBe(z1.grad![i]);
    }
  });

  it('∂C/∂W[i,j] = a[j] × δ[i]: the forward part times the backward part, for every weight', async () => {
    const { program, ctx } = await file('data.nn');
    const t = ok(traceModel({ program, model: 'Iris', example: 77, ctx }));
    for (const w of t.weightUses) {
      const W = node(t, w.param);
      const [m, n] = W.shape;
      expect(w.side).toBe('left');
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expect(W.grad![i * n + j]).toBeCloseTo(w.input.value[j] * w.delta.value[i], 14);
    }
    expect(t.weightUses.map((w) => [w.param, w.input.name, w.delta.text])).toEqual([
      ['h.W', 'x', 'h.W @ x + h.b'],
      ['y.W', 'h', 'y.W @ h + y.b'],
    ]);
  });
});

describe('the graph and the steps', () => {
  it('byhand.nn: statements forward in order, backward from C, each gradient revealed once complete', async () => {
    const { program, ctx } = await file('byhand.nn');
    const t = ok(traceModel({ program, model: 'ByHand', ctx }));
    const fwd = t.steps.filter((s) => s.phase === 'forward');
    const bwd = t.steps.filter((s) => s.phase === 'backward');
    expect(fwd.map((s) => s.label)).toEqual([
      'forward: z1 = W1 @ x + b1',
      'forward: a1 = sigmoid(z1)',
      'forward: z2 = W2 @ a1 + b2',
      'forward: y = sigmoid(z2)',
      'forward: C = mse(y, t)',
    ]);
    expect(bwd.map((s) => [s.statement, s.reveals])).toEqual([
      ['C', ['y', 'C']],
      ['y', ['z2']],
      ['z2', ['W2', 'b2', 'a1']],
      ['a1', ['z1']],
      ['z1', ['x', 'W1', 'b1']],
    ]);
    expect(bwd[2].label).toBe('backward: grad z2 → W2, a1, b2');
    expect(fwd.map((s) => s.line)).toEqual([15, 16, 17, 18, 19]);
    // z1's gradient is complete after a1's backward step (a1 is its only reader)
    expect(node(t, 'z1')).toMatchObject({ step: 0, gradStep: t.steps.indexOf(bwd[3]), expr: 'W1 @ x + b1', line: 15 });
    expect(node(t, 't')).toMatchObject({ grad: null, gradStep: -1, step: -1 });
    expect(node(t, 'C').grad).toEqual(Float64Array.of(1));
    expect(t.edges.map((e) => `${e.from} ${e.op} ${e.to}`)).toEqual([
      'W1 @ z1', 'x @ z1', 'b1 + z1', 'z1 sigmoid a1', 'W2 @ z2', 'a1 @ z2', 'b2 + z2', 'z2 sigmoid y', 'y mse C', 't mse C',
    ]);
  });

  it('dense params as h.W / h.b, an alias as "=", a user function by its name', async () => {
    const { program } = await analyzeText(`function swish(z) = z * sigmoid(z)
  grad z = sigmoid(z) * (1 + z * (1 - sigmoid(z)))
model D {
  input x: [2]
  target t: [1]
  h = dense(x, 3, swish)
  g = h
  y = dense(g, 1)
  loss C = mse(y, t)
}`);
    const t = ok(traceModel({ program, model: 'D', ctx: { baseDir: ROOT } }));
    expect(t.nodes.map((n) => `${n.kind} ${n.name}`)).toEqual(['input x', 'target t', 'param h.W', 'param h.b', 'param y.W', 'param y.b', 'value h', 'value g', 'value y', 'loss C']);
    expect(node(t, 'h').expr).toBe('swish(h.W @ x + h.b)');
    // an alias shares the node of what it names (the IR cannot tell them apart): its uses are drawn from h
    expect(t.edges.map((e) => `${e.from} ${e.op} ${e.to}`)).toEqual(['h.W @ h', 'x @ h', 'h.b + h', 'h = g', 'y.W @ y', 'h @ y', 'y.b + y', 'y mse C', 't mse C']);
    // swish′ from its grad line, by hand: s (1 + z (1 − s))
    const amp = t.amplifiers.find((a) => a.statement === 'h')!;
    expect(amp).toMatchObject({ fn: 'swish', zName: null, zText: 'h.W @ x + h.b' });
    amp.z.forEach((z, i) => {
      const s = 1 / (1 + Math.exp(-z));
      expect(amp.slope[i]).toBeCloseTo(s * (1 + z * (1 - s)), 14);
    });
    expect(node(t, 'g').grad).toEqual(node(t, 'h').grad);
  });
});

describe('the backward block and the §10 JSON', () => {
  const WRONG = `model W {
  input x: [2]
  target t: [1]
  param W1: [3, 2] = normal(0, 1)
  param b1: [3] = zeros
  param W2: [1, 3] = normal(0, 1)
  z1 = W1 @ x + b1
  a1 = sigmoid(z1)
  y = W2 @ a1
  loss C = mse(y, t)
  backward {
    grad y = 2 * (y - t)
    grad a1 = transpose(W2) @ grad y
    grad z1 = grad a1 * a1
    grad W1 = outer(grad z1, x)
    grad W2 = outer(grad y, a1)
  }
}`;

  it('each line with yours and the true value; a wrong line and the line that depends on it', async () => {
    const { program } = await analyzeText(WRONG);
    const t = ok(traceModel({ program, model: 'W', example: 2, ctx: { baseDir: ROOT } }));
    expect(t.backward.map((l) => [l.line, l.name, l.status])).toEqual([
      [12, 'y', 'ok'], [13, 'a1', 'ok'], [14, 'z1', 'wrong'], [15, 'W1', 'dependent'], [16, 'W2', 'ok'],
    ]);
    const a1 = node(t, 'a1');
    const z1 = t.backward[2];
    // yours: grad a1 × a1; true: grad a1 × a1 (1 − a1)
    for (let i = 0; i < 3; i++) {
      expect(z1.user![i]).toBeCloseTo(a1.grad![i] * a1.value[i], 14);
      expect(z1.truth[i]).toBeCloseTo(a1.grad![i] * a1.value[i] * (1 - a1.value[i]), 14);
    }
    expect(t.backward[3].dependsOn).toEqual(['z1']);
    expect(z1.message).toMatch(/^grad z1 is wrong/);
    expect(z1.message).not.toMatch(/example 0/);
  });

  it('traceJson is exactly §10’s object: nested arrays, null for a target’s gradient', async () => {
    const { program } = await analyzeText(WRONG);
    const t = ok(traceModel({ program, model: 'W', ctx: { baseDir: ROOT } }));
    const j = JSON.parse(JSON.stringify(traceJson(t)));
    expect(Object.keys(j)).toEqual(['model', 'example', 'loss', 'nodes', 'edges', 'backward']);
    expect(j.nodes.map((n: object) => Object.keys(n).join(','))).toEqual(Array(t.nodes.length).fill('name,kind,line,shape,value,grad'));
    expect(j.edges[0]).toEqual({ from: 'W1', to: 'z1', op: '@' });
    expect(j.backward.map((l: object) => Object.keys(l).join(','))).toEqual(Array(5).fill('line,name,user,true'));
    const W1 = j.nodes.find((n: { name: string }) => n.name === 'W1');
    expect(W1.shape).toEqual([3, 2]);
    expect(W1.value).toHaveLength(3);
    expect(W1.value[0]).toHaveLength(2);
    expect(j.nodes.find((n: { name: string }) => n.name === 't').grad).toBeNull();
    expect(j.nodes.find((n: { name: string }) => n.name === 'C')).toMatchObject({ kind: 'loss', shape: [], grad: 1 });
    expect(j.backward[3].true).toHaveLength(3);
  });
});
