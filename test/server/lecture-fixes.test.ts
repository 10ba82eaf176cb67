/**
 * Quick fixes for the lecture's mistakes (§9, issue 9), through the server's real services: each
 * fix is applied and the fixed file re-analysed. A fix never changes an input's or a target's
 * shape to fit a value computed from it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CodeAction, Diagnostic } from 'vscode-languageserver';
import { createServices, example } from './helpers';

const { Nn, parse } = createServices();
afterAll(() => Nn.lens.Engine.dispose());

async function fixesFor(text: string, code: string) {
  const doc = await parse(text);
  const diags = (doc.diagnostics ?? []).filter((d) => d.code === code);
  expect(diags.length, `${code} in ${JSON.stringify(doc.diagnostics?.map((d) => d.code))}`).toBeGreaterThan(0);
  const all: CodeAction[] = [];
  for (const d of diags) {
    all.push(
      ...((await Nn.lsp.CodeActionProvider!.getCodeActions(doc, {
        textDocument: { uri: doc.uri.toString() },
        range: d.range,
        context: { diagnostics: [d] },
      })) as CodeAction[]),
    );
  }
  const apply = (a: CodeAction) => TextDocument.applyEdits(doc.textDocument as TextDocument, a.edit!.changes![doc.uri.toString()]);
  return { actions: all, apply, diags };
}

const problems = async (text: string): Promise<Diagnostic[]> =>
  ((await parse(text)).diagnostics ?? []).filter((d) => d.severity === 1 || d.severity === 2);

const COLUMNS = `model Column {
  input x: [4, 1]
  target t: [3, 1]
  param W: [3, 4] = normal(0, 1)
  param b: [3, 1] = zeros
  y = softmax(W @ x + b)
  loss C = mse(y, t)
}
`;

describe('columns where vectors are meant', () => {
  it('softmax over a column: declare the inputs and params responsible as [n], or every column of the model', async () => {
    const { actions, apply } = await fixesFor(COLUMNS, 'column-vector');
    const mine = actions.find((a) => a.title === 'Use vectors [n], not columns [n, 1]: declare x: [4], b: [3]');
    expect(mine?.isPreferred).toBe(true);
    const partly = apply(mine!);
    expect(partly).toContain('input x: [4]\n');
    expect(partly).toContain('param b: [3] = zeros');
    expect(partly).toContain('target t: [3, 1]'); // not the softmax's: left alone by this fix
    const every = actions.find((a) => a.title === 'Declare every column of Column as a vector: x: [4], t: [3], b: [3]');
    expect(every).toBeDefined();
    const fixed = apply(every!);
    expect(await problems(fixed)).toEqual([]);
  });

  it('a bias declared [3, 1]: the fix on the + declares it [3], and no fix resizes the target', async () => {
    const text = example('digits.nn').replace('param b2: [10]     = zeros', 'param b2: [10, 1]  = zeros');
    const { actions, apply } = await fixesFor(text, 'broadcast-column');
    const fix = actions.find((a) => a.title === 'Use vectors [n], not columns [n, 1]: declare b2: [10]');
    expect(fix).toBeDefined();
    expect(await problems(apply(fix!))).toEqual([]);
    // the loss line's error offers nothing that would make t fit the [10, 10] matrix
    const loss = await fixesFor(text, 'shape-mismatch');
    expect(loss.diags[0].message).toContain('cross_entropy([10, 10], [10])');
    expect(loss.actions.filter((a) => /target|input/.test(a.title))).toEqual([]);
  });

  it('mse of a value and a target that do not fit: no fix resizes the target', async () => {
    const text = example('xor.nn').replace('loss C', 'wrong = W1 @ x\n  loss C2 = mse(wrong, t)\n  loss C');
    const doc = await parse(text);
    const d = (doc.diagnostics ?? []).find((x) => x.code === 'shape-mismatch' && x.message.startsWith('mse'));
    expect(d).toBeDefined();
    const actions = (await Nn.lsp.CodeActionProvider!.getCodeActions(doc, {
      textDocument: { uri: doc.uri.toString() },
      range: d!.range,
      context: { diagnostics: [d!], only: ['quickfix'] },
    })) as CodeAction[];
    // before: "Set target t's shape to [4]" — the file would pass and keep its bug
    expect(actions.map((a) => a.title)).toEqual([]);
  });
});

describe('W1 * x where @ was meant', () => {
  it('the fix on the * uses the matrix product, and the file is clean', async () => {
    const text = example('digits.nn').replace('z1 = W1 @ x + b1', 'z1 = W1 * x + b1');
    const { actions, apply, diags } = await fixesFor(text, 'elementwise-matmul');
    expect(diags[0].message).toContain('elementwise `*` of a matrix and a vector gives [30, 256]; did you mean `W1 @ x`?');
    const fix = actions.find((a) => a.title === 'Use the matrix product: W1 @ x');
    expect(fix?.isPreferred).toBe(true);
    const fixed = apply(fix!);
    expect(fixed).toContain('z1 = W1 @ x + b1');
    expect(await problems(fixed)).toEqual([]);
  });
});

describe('transpose(W) inside backward', () => {
  it('grad a1 = W2 @ grad z2 (W where transpose(W) is needed): the fix wraps W2, and the file is clean', async () => {
    const text = example('byhand.nn')
      .replace('grad a1 = transpose(W2) @ grad z2', 'grad a1 = W2 @ grad z2')
      .replace('param W2: [1, 4]', 'param W2: [1, 4]');
    const { actions, apply } = await fixesFor(text, 'shape-mismatch');
    const fix = actions.find((a) => a.title.startsWith('Use transpose(W2)'));
    expect(fix, JSON.stringify(actions.map((a) => a.title))).toBeDefined();
    const fixed = apply(fix!);
    expect(fixed).toContain('grad a1 = transpose(W2) @ grad z2');
    expect(await problems(fixed)).toEqual([]);
  });
});
