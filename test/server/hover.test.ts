/**
 * Hovers on the examples, through the server's real services and engine worker. Engine numbers
 * are checked against a forward and backward pass written out by hand in this file (and central
 * differences of it), not against the engine.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { expectHover } from 'langium/test';
import type { Hover, MarkupContent } from 'vscode-languageserver';
import { analyzeText } from '../../language';
import { initParams } from '../../engine';
import { checkBatchFor } from '../../engine/session/pipeline';
import { close4, createServices, example, offsetOf, parseNum, ROOT } from './helpers';
import { resolve } from 'node:path';

const { Nn, parse } = createServices();
afterAll(() => Nn.lens.Engine.dispose());

async function hoverAt(text: string, offset: number): Promise<string> {
  const doc = await parse(text);
  const h = (await Nn.lsp.HoverProvider!.getHoverContent(doc, {
    textDocument: { uri: doc.uri.toString() },
    position: doc.textDocument.positionAt(offset),
  })) as Hover | undefined;
  return (h?.contents as MarkupContent | undefined)?.value ?? '';
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** byhand.nn's forward pass for one example, by hand: returns a1, y and C. */
function forward(W1: ArrayLike<number>, b1: ArrayLike<number>, W2: ArrayLike<number>, b2: ArrayLike<number>, x: number[], t: number) {
  const a1 = [0, 1, 2, 3].map((i) => sigmoid(W1[2 * i] * x[0] + W1[2 * i + 1] * x[1] + b1[i]));
  const z2 = a1.reduce((s, a, j) => s + W2[j] * a, b2[0]);
  const y = sigmoid(z2);
  return { a1, y, C: (y - t) ** 2 };
}

describe('hover', () => {
  it('on a weight: ∂C/∂W with numbers, backprop vs numeric, and one element worked out as a·δ', async () => {
    const text = example('byhand.nn');
    const md = await hoverAt(text, offsetOf(text, 'param W2', 7));
    expect(md).toContain('**param W2**: `[1, 4]` — 4 parameters, init `normal(0, 1)`');
    expect(md).toMatch(/\*\*∂C\/∂W2\*\* at the initial weights \(seed 1\), on 4 examples of xor/);

    // The same weights and examples, by hand.
    const { program } = await analyzeText(text, { uri: resolve(ROOT, 'examples', 'byhand.nn') });
    const model = program.models[0];
    const P = initParams(model, 1);
    const { batch } = checkBatchFor(program, model, { baseDir: resolve(ROOT, 'examples') }, 4);
    const X = batch.data.x;
    const T = batch.data.t;
    const B = batch.n;
    const per = Array.from({ length: B }, (_, n) => {
      const f = forward(P.W1, P.b1, P.W2, P.b2, [X[2 * n], X[2 * n + 1]], T[n]);
      return { ...f, delta: 2 * (f.y - T[n]) * f.y * (1 - f.y) };
    });
    const grad = (j: number) => per.reduce((s, e) => s + e.a1[j] * e.delta, 0) / B;
    const loss = (W2: ArrayLike<number>) =>
      per.reduce((s, _e, n) => s + forward(P.W1, P.b1, W2, P.b2, [X[2 * n], X[2 * n + 1]], T[n]).C, 0) / B;

    // The loss C
    const C = parseNum(/C = (\S+) \(the mean loss\)/.exec(md)![1]);
    expect(close4(C, loss(P.W2))).toBe(true);

    // The worked element: each example's a1[j] and δ, their product, and the mean.
    const head = /∂C\/∂W2\\?\[0,(\d)\\?\] = a1\\?\[(\d)\\?\] × δ\\?\[0\\?\]/.exec(md);
    expect(head).not.toBeNull();
    const j = Number(head![1]);
    expect(Number(head![2])).toBe(j);
    const rows = [...md.matchAll(/example (\d): a1\[(\d)\] × δ\[0\] = (\S+) × (\S+) = (\S+)/g)];
    expect(rows.length).toBe(4);
    // examples are numbered by their rows of the data set (1-based), as the check batch drew them
    expect(rows.map((r) => Number(r[1]))).toEqual(batch.rows);
    for (const r of rows) {
      const n = batch.rows!.indexOf(Number(r[1]));
      expect(close4(parseNum(r[3]), per[n].a1[j])).toBe(true);
      expect(close4(parseNum(r[4]), per[n].delta)).toBe(true);
      expect(close4(parseNum(r[5]), per[n].a1[j] * per[n].delta)).toBe(true);
    }
    const mean = parseNum(new RegExp(`∂C/∂W2\\[0,${j}\\] = the mean over the 4 examples = (\\S+)`).exec(md)![1]);
    expect(close4(mean, grad(j))).toBe(true);
    // It is the largest element, and backprop matches a central difference of the hand-written loss.
    for (let k = 0; k < 4; k++) expect(Math.abs(grad(k))).toBeLessThanOrEqual(Math.abs(grad(j)) + 1e-15);
    const el = /largest element W2\\?\[0,(\d)\\?\]: backprop (\S+), numeric (\S+) \(relative error (\S+)\)/.exec(md)!;
    const h = 1e-6;
    const Wp = Float64Array.from(P.W2);
    const Wm = Float64Array.from(P.W2);
    Wp[j] += h;
    Wm[j] -= h;
    const numeric = (loss(Wp) - loss(Wm)) / (2 * h);
    expect(close4(parseNum(el[2]), grad(j))).toBe(true);
    expect(close4(parseNum(el[3]), numeric)).toBe(true);
    expect(parseNum(el[4])).toBeLessThan(1e-6);
    expect(md).toContain('each example\'s term a·δ');
    expect(md).toMatch(/max relative error \S+ — ✓ they agree/);
  });

  it('on a use of a weight, and on a dense param h.W', async () => {
    const text = example('byhand.nn');
    expect(await hoverAt(text, offsetOf(text, 'W1 @ x', 1))).toContain('**∂C/∂W1**');
    const data = example('training.nn');
    const md = await hoverAt(data, offsetOf(data, 'dense(x, 8, tanh)') - 5);
    expect(md).toContain('**value h1**: `[8]` per example');
    expect(md).toContain('`h1.W: [8, 2]`');
    const ref = data.replace('loss C = binary_cross_entropy(y, t)', 'loss C = binary_cross_entropy(y, t) + 0.001 * sum(h1.W)');
    const w = await hoverAt(ref, offsetOf(ref, 'h1.W)', 3));
    expect(w).toContain('**param h1.W**: `[8, 2]` — 16 parameters');
    expect(w).toMatch(/‖∂C\/∂h1\.W‖ = \d/);
    expect(w).toContain('h1.W is used 2 times in the model');
  });

  it('on a named value: its shape and δ = ∂Cⁿ/∂value', async () => {
    const text = example('digits.nn');
    const md = await hoverAt(text, offsetOf(text, 'z1 = ', 0));
    expect(md).toContain('**value z1**: `[30]` per example');
    expect(md).toMatch(/δ = ∂Cⁿ\/∂z1ⁿ \(one example's loss\): ‖δ‖ = \d/);
  });

  it('on a grad line: the user\'s value against the true one', async () => {
    const wrong = example('byhand.nn').replace('grad b2 = grad z2', 'grad b2 = 3 * grad z2');
    const md = await hoverAt(wrong, offsetOf(wrong, 'grad b2', 1));
    expect(md).toContain('✗ grad b2 is wrong: off by a factor 3.00');
    const ok = await hoverAt(wrong, offsetOf(wrong, 'grad W2', 1));
    expect(ok).toMatch(/✓ matches the true gradient \(largest relative error/);
    const fn = example('functions.nn');
    const line = await hoverAt(fn, offsetOf(fn, 'grad z', 1));
    expect(line).toMatch(/✓ matches the numeric derivative of the body at \d+ points/);
  });

  it('on built-ins: documentation and the shape rule, with the shapes at hand', async () => {
    const text = example('digits.nn');
    const sm = await hoverAt(text, offsetOf(text, 'softmax', 2));
    expect(sm).toContain('softmax(a)');
    expect(sm).toContain('Shape rule: `same shape, rank >= 1`');
    expect(sm).toContain('Here: `[10] → [10]`');
    const init = await hoverAt(text, offsetOf(text, 'normal(0, 0.1)', 2));
    expect(init).toContain('*initializer*');
    const op = await hoverAt(text, offsetOf(text, 'W1 @ x', 3));
    expect(op).toContain('Here: `[30, 256] @ [256] → [30]`');
    const opt = await hoverAt(text, offsetOf(text, 'batch: 32', 1));
    expect(opt).toContain('Examples per step.');
    await expectHover(Nn)({ text: text.replace('sigmoid(z1)', 'sig<|>moid(z1)'), index: 0, hover: /Logistic sigmoid/, parseOptions: { validation: true } });
  });

  it('on gelu and elu: their docs from the op catalog, elementwise, with the shapes at hand', async () => {
    const text = [
      'function f(z) = gelu(z) * elu(z)',
      'model M {',
      '  input x: [3]',
      '  target t: [4]',
      '  param W: [4, 3]',
      '  h = gelu(W @ x)',
      '  e = elu(h)',
      '  loss C = mse(f(e), t)',
      '}',
    ].join('\n');
    const g = await hoverAt(text, offsetOf(text, 'gelu(W', 1));
    expect(g).toContain('gelu(a)');
    expect(g).toContain('Gaussian error linear unit a·Φ(a)');
    expect(g).toContain('Shape rule: `same shape as a`');
    expect(g).toContain('Elementwise: usable inside a function.');
    expect(g).toContain('Here: `[4] → [4]`');
    const e = await hoverAt(text, offsetOf(text, 'elu(h)', 1));
    expect(e).toContain('elu(a)');
    expect(e).toContain('Exponential linear unit');
    expect(e).toContain('Here: `[4] → [4]`');
  });

  it('in plain text when the client does not take markdown', async () => {
    const settings = Nn.lens.Settings;
    settings.client = { ...settings.client, hoverMarkdown: false };
    try {
      const text = example('byhand.nn');
      const plain = await hoverAt(text, offsetOf(text, 'param W2', 7));
      expect(plain).not.toContain('**');
      expect(plain).not.toContain('```');
      expect(plain).toMatch(/param W2: \[1, 4\] — 4 parameters/);
      expect(plain).toMatch(/example 1: a1\[\d\] × δ\[0\] = /);
    } finally {
      settings.client = { ...settings.client, hoverMarkdown: true };
    }
  });

  it('says why there are no numbers for a model with errors', async () => {
    const text = example('byhand.nn').replace('z2 = W2 @ a1 + b2', 'z2 = W2 @ x + b2');
    const md = await hoverAt(text, offsetOf(text, 'param W2', 7));
    expect(md).toContain('no gradients: model ByHand has errors');
  });
});
