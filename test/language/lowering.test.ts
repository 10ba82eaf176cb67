/**
 * Lowering to the engine's IR, checked against hand-derived expectations for the examples.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CHECK_OPTIONS, DEFAULT_TRAIN_OPTIONS, type IRModel, type IRNode, type IRProgram } from '../../engine/ir';
import { analyzeFile, analyzeText } from '../../language/index';

const EXAMPLES = resolve(__dirname, '../../examples');

async function lowerExample(name: string): Promise<IRProgram> {
  const a = await analyzeFile(join(EXAMPLES, name));
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(a.skippedModels).toEqual([]);
  return a.program;
}

async function lowerText(text: string): Promise<IRProgram> {
  const a = await analyzeText(text);
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return a.program;
}

/** Structural invariants every lowered model must satisfy. */
function checkInvariants(m: IRModel): void {
  m.nodes.forEach((n, i) => {
    expect(n.id).toBe(i);
    for (const a of n.args) expect(a).toBeLessThan(n.id);
    // batched iff the node depends on an input or target (gradRef: a per-example gradient)
    const dependsOnData =
      n.op === 'input' || n.op === 'target' || n.op === 'gradRef' || n.args.some((a) => m.nodes[a].batched);
    expect(n.batched, `node ${n.id} (${n.op})`).toBe(dependsOnData);
  });
  const leaves = (op: string) => m.nodes.filter((n) => n.op === op).map((n) => n.name);
  expect(leaves('input')).toEqual(m.inputs.map((i) => i.name));
  expect(leaves('target')).toEqual(m.targets.map((t) => t.name));
  expect(leaves('param')).toEqual(m.params.map((p) => p.name));
  for (const p of m.params) expect(p.size).toBe(p.shape.reduce((a, b) => a * b, 1));
  expect(m.nodes[m.loss.node].shape).toEqual([]);
  const forwardEnd = Math.max(m.loss.node, ...m.values.map((v) => v.node));
  for (const b of m.backward ?? []) expect(b.node).toBeGreaterThan(forwardEnd);
}

function opsOf(m: IRModel, from: number, to: number): string[] {
  return m.nodes.slice(from, to + 1).map((n) => (n.op === 'unary' ? `unary:${n.fn}` : n.op));
}

describe('lowering', () => {
  test('digits.nn: params, node ops, shapes, batched flags, options', async () => {
    const p = await lowerExample('digits.nn');
    expect(p.models).toHaveLength(1);
    const m = p.models[0];
    checkInvariants(m);
    expect(m.name).toBe('Digits');
    expect(m.inputs).toMatchObject([{ name: 'x', shape: [256] }]);
    expect(m.targets).toMatchObject([{ name: 't', shape: [10] }]);
    expect(m.params.map((x) => [x.name, x.shape, x.init, x.size])).toEqual([
      ['W1', [30, 256], { kind: 'normal', mean: 0, std: 0.1 }, 7680],
      ['b1', [30], { kind: 'zeros' }, 30],
      ['W2', [10, 30], { kind: 'normal', mean: 0, std: 0.1 }, 300],
      ['b2', [10], { kind: 'zeros' }, 10],
    ]);
    expect(m.values.map((v) => v.name)).toEqual(['z1', 'a1', 'z2', 'y']);
    const byName = (n: string) => m.nodes[m.values.find((v) => v.name === n)!.node];
    expect(byName('z1')).toMatchObject({ op: 'add', shape: [30], batched: true });
    expect(byName('a1')).toMatchObject({ op: 'unary', fn: 'sigmoid', shape: [30], batched: true });
    expect(byName('y')).toMatchObject({ op: 'softmax', shape: [10], batched: true });
    const z1 = byName('z1');
    const mm = m.nodes[z1.args[0]];
    expect(mm).toMatchObject({ op: 'matmul', shape: [30], batched: true });
    expect(mm.args.map((a) => m.nodes[a].name)).toEqual(['W1', 'x']);
    expect(m.nodes[z1.args[1]]).toMatchObject({ op: 'param', name: 'b1', batched: false });
    expect(m.nodes[m.loss.node]).toMatchObject({ op: 'cross_entropy', shape: [], batched: true });
    expect(m.loss.name).toBe('C');
    expect(m.backward).toBeNull();
    // Ranges: the value's name and its statement (0-based lines: `z1 = W1 @ x + b1` is line 15 of the file)
    const z1v = m.values[0];
    expect(z1v.range).toEqual({ start: { line: 14, character: 2 }, end: { line: 14, character: 4 } });
    expect(z1v.stmtRange).toEqual({ start: { line: 14, character: 2 }, end: { line: 14, character: 18 } });
    expect(mm.range).toEqual({ start: { line: 14, character: 7 }, end: { line: 14, character: 13 } });
    // Data and train
    expect(p.data).toMatchObject([{ name: 'digits', spec: { kind: 'digits16', limit: 10000, seed: 1 } }]);
    expect(p.trains).toEqual([
      {
        model: 'Digits',
        data: 'digits',
        options: {
          optimizer: { kind: 'sgd', lr: 0.5, momentum: 0 },
          batch: 32,
          epochs: 20,
          split: 0.9,
          seed: 42,
          gradients: 'auto',
        },
        range: { start: { line: 22, character: 0 }, end: { line: 22, character: 22 } },
      },
    ]);
  });

  test('byhand.nn: backward lines after the forward nodes, gradRef leaves and uses', async () => {
    const p = await lowerExample('byhand.nn');
    const m = p.models[0];
    checkInvariants(m);
    const b = m.backward!;
    expect(b.map((l) => [l.target, l.targetKind, l.uses])).toEqual([
      ['z2', 'value', []],
      ['W2', 'param', ['z2']],
      ['b2', 'param', ['z2']],
      ['a1', 'value', ['z2']],
      ['z1', 'value', ['a1']],
      ['W1', 'param', ['z1']],
      ['b1', 'param', ['z1']],
    ]);
    const shapes = b.map((l) => m.nodes[l.node].shape);
    expect(shapes).toEqual([[1], [1, 4], [1], [4], [4], [4, 2], [4]]);
    // grad z2 = 2 * (y - t) * y * (1 - y): mul(mul(mul(const 2, sub(y, t)), y), sub(const 1, y))
    const z2 = b[0];
    const y = m.values.find((v) => v.name === 'y')!.node;
    const t = m.nodes.find((n) => n.op === 'target')!.id;
    const root = m.nodes[z2.node];
    expect(root.op).toBe('mul');
    const [left, right] = root.args.map((a) => m.nodes[a]);
    expect(right).toMatchObject({ op: 'sub' });
    expect(m.nodes[right.args[0]]).toMatchObject({ op: 'const', value: 1, batched: false });
    expect(right.args[1]).toBe(y);
    expect(left.op).toBe('mul');
    expect(left.args[1]).toBe(y);
    const inner = m.nodes[left.args[0]];
    expect(m.nodes[inner.args[0]]).toMatchObject({ op: 'const', value: 2 });
    expect(m.nodes[inner.args[1]]).toMatchObject({ op: 'sub', args: [y, t] });
    // grad W2 = outer(grad z2, a1)
    const w2 = m.nodes[b[1].node];
    expect(w2.op).toBe('outer');
    expect(m.nodes[w2.args[0]]).toMatchObject({ op: 'gradRef', name: 'z2', shape: [1], batched: true });
    expect(w2.args[1]).toBe(m.values.find((v) => v.name === 'a1')!.node);
    // grad a1 = transpose(W2) @ grad z2
    const a1 = m.nodes[b[3].node];
    expect(opsOf(m, a1.args[0], a1.args[0])).toEqual(['transpose']);
    expect(m.nodes[a1.args[0]].batched).toBe(false);
    // each line's range is the whole `grad X = …` line
    expect(b[0].range.start).toEqual({ line: 21, character: 4 });
    expect(p.trains[0].options).toEqual({
      optimizer: { kind: 'sgd', lr: 2, momentum: 0.9 },
      batch: 4,
      epochs: 2000,
      split: 1,
      seed: 1,
      gradients: 'manual',
    });
  });

  test('functions.nn: ScalarExpr bodies, user grads, call nodes', async () => {
    const p = await lowerExample('functions.nn');
    const arg = { k: 'arg', index: 0 };
    const sig = { k: 'unary', fn: 'sigmoid', x: arg };
    expect(p.functions.map((f) => ({ name: f.name, params: f.params, body: f.body }))).toEqual([
      { name: 'swish', params: ['z'], body: { k: 'binary', op: '*', a: arg, b: sig } },
      {
        name: 'huber',
        params: ['e'],
        body: { k: 'binary', op: '/', a: { k: 'pow', x: arg, p: 2 }, b: { k: 'num', value: 2 } },
      },
    ]);
    const swish = p.functions[0];
    expect(swish.grads).toHaveLength(1);
    expect(swish.grads[0]!.expr).toEqual({
      k: 'binary',
      op: '*',
      a: sig,
      b: {
        k: 'binary',
        op: '+',
        a: { k: 'num', value: 1 },
        b: { k: 'binary', op: '*', a: arg, b: { k: 'binary', op: '-', a: { k: 'num', value: 1 }, b: sig } },
      },
    });
    expect(swish.grads[0]!.range.start.line).toBe(5);
    expect(p.functions[1].grads).toEqual([null]);
    const m = p.models[0];
    checkInvariants(m);
    const calls = m.nodes.filter((n) => n.op === 'call');
    expect(calls.map((c) => [c.fn, c.shape])).toEqual([
      ['swish', [8]],
      ['huber', [1]],
    ]);
    expect(m.nodes[m.loss.node]).toMatchObject({ op: 'mean', shape: [] });
    expect(m.params.map((x) => x.init.kind)).toEqual(['he', 'zeros', 'glorot', 'zeros']);
  });

  test('data.nn and training.nn: dense params, activations, every data spec, defaults', async () => {
    const d = await lowerExample('data.nn');
    const iris = d.models[0];
    checkInvariants(iris);
    expect(iris.params.map((x) => [x.name, x.shape, x.init.kind, x.dense])).toEqual([
      ['h.W', [16, 4], 'glorot', { value: 'h', role: 'W' }],
      ['h.b', [16], 'zeros', { value: 'h', role: 'b' }],
      ['y.W', [3, 16], 'glorot', { value: 'y', role: 'W' }],
      ['y.b', [3], 'zeros', { value: 'y', role: 'b' }],
    ]);
    const h = iris.nodes[iris.values[0].node];
    expect(h).toMatchObject({ op: 'unary', fn: 'tanh', shape: [16], batched: true });
    const add = iris.nodes[h.args[0]];
    expect(add.op).toBe('add');
    expect(iris.nodes[add.args[0]].op).toBe('matmul');
    expect(iris.nodes[add.args[1]]).toMatchObject({ op: 'param', name: 'h.b' });
    expect(iris.nodes[iris.values[1].node]).toMatchObject({ op: 'softmax', shape: [3] });
    expect(d.data.map((x) => x.spec)).toEqual([
      { kind: 'xor' },
      { kind: 'circle', n: 400, noise: 0.1, seed: 3 },
      { kind: 'spiral', n: 600, classes: 3, noise: 0.2, seed: 0 },
      { kind: 'gauss', n: 400, noise: 0.5, seed: 0 },
      { kind: 'digits16', limit: 2000, seed: 0 },
      { kind: 'csv', path: 'data/iris.csv', label: 'species', classes: 3, normalize: true },
      {
        kind: 'table',
        rows: [
          { x: [0, 0], y: [0] },
          { x: [0, 1], y: [1] },
        ],
      },
    ]);
    expect(d.trains[0].options).toEqual({ ...DEFAULT_TRAIN_OPTIONS, optimizer: { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, batch: 16, epochs: 100, split: 0.8, seed: 2 });

    const t = await lowerExample('training.nn');
    const m = t.models[0];
    checkInvariants(m);
    expect(m.params.map((x) => [x.name, x.shape])).toEqual([
      ['h1.W', [8, 2]],
      ['h1.b', [8]],
      ['h2.W', [8, 8]],
      ['h2.b', [8]],
      ['y.W', [1, 8]],
      ['y.b', [1]],
    ]);
    expect(t.checks).toEqual([
      {
        model: 'M',
        data: 'D',
        options: { examples: 4, eps: 1e-6, tolerance: 1e-6, mode: 'fast' },
        range: expect.anything(),
      },
    ]);
  });

  test('defaults: an empty train block, sgd and adam without arguments, a partial check block', async () => {
    const p = await lowerText(`
      data D = xor()
      model M { input x: [2]  target t: [1]  param W: [1, 2]  loss C = mse(W @ x, t) }
      model N { input x: [2]  target t: [1]  param W: [1, 2]  loss C = mse(W @ x, t) }
      model K { input x: [2]  target t: [1]  param W: [1, 2]  loss C = mse(W @ x, t) }
      train M on D
      train N on D { optimizer: adam }
      train K on D { optimizer: sgd(momentum: 0.5) }
      check M on D { mode: full }
    `);
    expect(p.trains.map((t) => t.options)).toEqual([
      DEFAULT_TRAIN_OPTIONS,
      { ...DEFAULT_TRAIN_OPTIONS, optimizer: { kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 } },
      { ...DEFAULT_TRAIN_OPTIONS, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.5 } },
    ]);
    expect(p.checks.map((c) => c.options)).toEqual([{ mode: 'full' }]);
    expect({ ...DEFAULT_CHECK_OPTIONS, ...p.checks[0].options }.examples).toBe(4);
  });

  test('consts and constant subexpressions fold into const nodes; pow, neg, leaky_relu attributes', async () => {
    const p = await lowerText(`
      const K = 3
      const HALF = 1 / 2
      model M {
        input x: [K]
        target t: [K]
        a = x * (K - 1) ^ 2 - HALF
        b = -x ^ 2
        c = leaky_relu(a, HALF / 5) + b
        loss L = mse(c, t)
      }
    `);
    const m = p.models[0];
    checkInvariants(m);
    const node = (id: number): IRNode => m.nodes[id];
    const a = node(m.values[0].node);
    expect(a.op).toBe('sub');
    expect(node(a.args[1])).toMatchObject({ op: 'const', value: 0.5 });
    const mul = node(a.args[0]);
    expect(mul.op).toBe('mul');
    expect(node(mul.args[1])).toMatchObject({ op: 'const', value: 4, shape: [] });
    const b = node(m.values[1].node);
    expect(b.op).toBe('neg');
    expect(node(b.args[0])).toMatchObject({ op: 'pow', p: 2 });
    const c = node(m.values[2].node);
    expect(node(c.args[0])).toMatchObject({ op: 'leaky_relu', alpha: 0.1, args: [a.id] });
  });

  test('every example lowers to IR that JSON round-trips unchanged', async () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.nn'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) {
      const p = await lowerExample(f);
      expect(JSON.parse(JSON.stringify(p))).toStrictEqual(p);
    }
  });

  test('models with errors are skipped, with their train and check blocks; others are lowered', async () => {
    const a = await analyzeText(`
      data D = xor()
      function bad(z) = sum(z)
      const ZERO = 1 / 0
      model Good { input x: [2]  target t: [1]  param W: [1, 2]  loss C = mse(W @ x, t) }
      model Shape { input x: [3]  target t: [1]  param W: [1, 2]  loss C = mse(W @ x, t) }
      model UsesBad { input x: [2]  target t: [2]  loss C = mse(bad(x), t) }
      model UsesBrokenConst { input x: [2]  target t: [1]  param W: [1, 2]  loss C = mse(W @ x * ZERO, t) }
      train Good on D
      train Shape on D
      check Shape on D
    `);
    expect(a.skippedModels.sort()).toEqual(['Shape', 'UsesBad', 'UsesBrokenConst']);
    expect(a.program.models.map((m) => m.name)).toEqual(['Good']);
    expect(a.program.trains.map((t) => t.model)).toEqual(['Good']);
    expect(a.program.checks).toEqual([]);
    expect(a.program.functions).toEqual([]);
  });

  test('a 10^9-unit layer is reported and never lowered', async () => {
    const a = await analyzeText(`
      data D = xor()
      model Huge {
        input x: [2]
        target t: [1]
        h = dense(x, 1000000000, relu)
        y = dense(h, 1, sigmoid)
        loss C = binary_cross_entropy(y, t)
      }
      train Huge on D
    `);
    const errors = a.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.code)).toEqual(['model-too-large']);
    expect(errors[0].message).toContain('[1000000000, 2]');
    expect(errors[0].range.start.line).toBe(5);
    expect(a.skippedModels).toEqual(['Huge']);
    expect(a.program.models).toEqual([]);
    expect(a.program.trains).toEqual([]);
  });
});
