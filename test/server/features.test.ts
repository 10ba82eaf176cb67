/**
 * The language service on the examples: completion, signature help, inlay hints, code lenses,
 * definition, references, rename, formatting, quick fixes, outline, semantic tokens, folding.
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  expectCompletion,
  expectFindReferences,
  expectFoldings,
  expectFormatting,
  expectGoToDefinition,
  expectSymbols,
  highlightHelper,
} from 'langium/test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CodeAction, CodeLens, CompletionList, InlayHint, SignatureHelp, TextEdit, WorkspaceEdit } from 'vscode-languageserver';
import { ClientCommands } from '../../server/protocol';
import { NnFormatter } from '../../server/formatter';
import { createServices, example, offsetOf, ROOT } from './helpers';

const { Nn, parse } = createServices();
afterAll(() => Nn.lens.Engine.dispose());
const validated = { validation: true };

const labels = (list: CompletionList) => list.items.map((i) => i.label);

describe('completion', () => {
  it('offers names in scope and built-ins with signatures inside a model', async () => {
    const text = example('digits.nn').replace('a1 = sigmoid(z1)', 'a1 = sig<|>moid(z1)');
    await expectCompletion(Nn)({
      text,
      index: 0,
      parseOptions: validated,
      assert: (list) => {
        const sig = list.items.find((i) => i.label === 'sigmoid');
        expect(sig?.detail).toBe('sigmoid(a)');
        expect(sig?.labelDetails?.description).toBe('same shape as a');
      },
    });
    const names = example('digits.nn').replace('z2 = W2 @ a1 + b2', 'z2 = W2 @ <|>a1 + b2');
    await expectCompletion(Nn)({
      text: names,
      index: 0,
      parseOptions: validated,
      assert: (list) => {
        const l = labels(list);
        for (const n of ['a1', 'z1', 'x', 'W1', 'H', 'softmax', 'dense', 'cross_entropy', 'gelu', 'elu']) expect(l).toContain(n);
        expect(list.items.find((i) => i.label === 'W1')?.detail).toBe('param [30, 256]');
        expect(list.items.find((i) => i.label === 'H')?.detail).toBe('const = 30');
      },
    });
  });

  it('offers initializers, data sources, optimizers, option keys and words where they go', async () => {
    const base = example('digits.nn');
    const cases: [string, string, string[]][] = [
      ['param b2: [10]     = zeros', 'param b2: [10]     = <|>', ['zeros', 'normal', 'glorot', 'he', 'uniform']],
      ['data digits = digits16(limit: 10000, seed: 1)', 'data digits = <|>', ['digits16', 'circle', 'csv', 'xor']],
      ['optimizer: sgd(lr: 0.5)', 'optimizer: <|>', ['sgd', 'adam']],
      ['  seed: 42\n', '  seed: 42\n  <|>\n', ['momentum'] /* not an option: checked below */],
    ];
    for (const [from, to, expected] of cases.slice(0, 3)) {
      await expectCompletion(Nn)({
        text: base.replace(from, to),
        index: 0,
        parseOptions: validated,
        assert: (list) => {
          for (const e of expected) expect(labels(list)).toContain(e);
        },
      });
    }
    await expectCompletion(Nn)({
      text: base.replace('  seed: 42\n', '  seed: 42\n  <|>\n'),
      index: 0,
      parseOptions: validated,
      assert: (list) => {
        // digits.nn's train block gives every option but gradients and threads
        expect(labels(list)).toEqual(['gradients', 'threads']);
      },
    });
    await expectCompletion(Nn)({
      text: example('training.nn').replace('gradients: auto', 'gradients: <|>'),
      index: 0,
      parseOptions: validated,
      assert: (list) => expect(labels(list)).toEqual(expect.arrayContaining(['auto', 'manual'])),
    });
  });

  it('offers only elementwise built-ins inside a function', async () => {
    const text = example('functions.nn').replace('function huber(e) = e^2 / 2', 'function huber(e) = <|>e^2 / 2');
    await expectCompletion(Nn)({
      text,
      index: 0,
      parseOptions: validated,
      assert: (list) => {
        const l = labels(list);
        expect(l).toContain('tanh');
        expect(l).toContain('e');
        expect(l).not.toContain('softmax');
        expect(l).not.toContain('dense');
      },
    });
  });
});

describe('signature help', () => {
  it('shows the signature and the active argument of built-ins, initializers and functions', async () => {
    const text = example('digits.nn');
    const doc = await parse(text);
    const at = (needle: string, delta: number) =>
      Nn.lsp.SignatureHelp!.provideSignatureHelp(doc, {
        textDocument: { uri: doc.uri.toString() },
        position: doc.textDocument.positionAt(offsetOf(text, needle, delta)),
      }) as SignatureHelp | undefined;
    const ce = at('cross_entropy(y, t)', 'cross_entropy(y, '.length);
    expect(ce?.signatures[0].label).toBe('cross_entropy(y, t)');
    expect(ce?.activeParameter).toBe(1);
    const normal = at('normal(0, 0.1)', 'normal('.length);
    expect(normal?.signatures[0].label).toBe('normal(mean, std)');
    expect(normal?.activeParameter).toBe(0);
    const [s, e] = normal!.signatures[0].parameters![1].label as [number, number];
    expect('normal(mean, std)'.slice(s, e)).toBe('std');
    const fn = example('functions.nn');
    const fdoc = await parse(fn);
    const sw = (await Nn.lsp.SignatureHelp!.provideSignatureHelp(fdoc, {
      textDocument: { uri: fdoc.uri.toString() },
      position: fdoc.textDocument.positionAt(offsetOf(fn, 'swish(W1', 6)),
    })) as SignatureHelp;
    expect(sw.signatures[0].label).toBe('swish(z)');
  });
});

describe('inlay hints', () => {
  const range = { start: { line: 0, character: 0 }, end: { line: 1000, character: 0 } };
  const hintsOf = async (text: string) => {
    const doc = await parse(text);
    const hints = (await Nn.lsp.InlayHintProvider!.getInlayHints(doc, { textDocument: { uri: doc.uri.toString() }, range })) as InlayHint[];
    const lines = text.split('\n');
    return hints.map((h) => ({ line: lines[h.position.line].trim(), label: h.label as string, at: h.position }));
  };

  it('shows the shape after each named value and parameter counts on params, dense layers and the model', async () => {
    const hints = await hintsOf(example('digits.nn'));
    const byLine = (l: string) => hints.filter((h) => h.line.startsWith(l)).map((h) => h.label);
    expect(byLine('z1 = W1 @ x + b1')).toEqual([': [30]']);
    expect(byLine('a1 = sigmoid(z1)')).toEqual([': [30]']);
    expect(byLine('y  = softmax(z2)')).toEqual([': [10]']);
    expect(byLine('loss C')).toEqual([': []']);
    expect(byLine('param W1')).toEqual(['7,680 params']);
    expect(byLine('param b2')).toEqual(['10 params']);
    expect(byLine('model Digits')).toEqual(['8,020 params']); // 30·256 + 30 + 10·30 + 10
    // after the expression, not in the middle of the line
    const z1 = hints.find((h) => h.line.startsWith('z1 ='))!;
    expect(z1.at.character).toBe(example('digits.nn').split('\n')[z1.at.line].indexOf('b1') + 2);

    const dense = await hintsOf(example('data.nn'));
    const h = dense.filter((x) => x.line.startsWith('h = dense')).map((x) => x.label);
    expect(h).toEqual([': [16]', '80 params']);
    const y = dense.filter((x) => x.line.startsWith('y = softmax(dense')).map((x) => x.label);
    expect(y).toEqual([': [3]', '51 params', ': [3]']);
  });

  it('can turn each kind off', async () => {
    const settings = Nn.lens.Settings;
    settings.update({ inlayHints: { shapes: false, paramCounts: true } });
    try {
      const hints = await hintsOf(example('digits.nn'));
      expect(hints.some((h) => h.label.startsWith(':'))).toBe(false);
      expect(hints.some((h) => h.label.endsWith('params'))).toBe(true);
      settings.update({ inlayHints: { shapes: true, paramCounts: false } });
      const only = await hintsOf(example('digits.nn'));
      expect(only.every((h) => h.label.startsWith(': ['))).toBe(true);
    } finally {
      settings.update({ inlayHints: { shapes: true, paramCounts: true } });
    }
  });
});

describe('code lenses', () => {
  it('puts Train, Check gradients and the parameter count above each model, invoking the client commands', async () => {
    const text = example('byhand.nn') + '\nmodel Other {\n  input x: [2]\n  param w: [2]\n  loss C = dot(w, x)\n}\n';
    const doc = await parse(text);
    const lenses = (await Nn.lsp.CodeLensProvider!.provideCodeLens(doc, { textDocument: { uri: doc.uri.toString() } })) as CodeLens[];
    const uri = doc.uri.toString();
    const byhandLine = text.split('\n').findIndex((l) => l.startsWith('model ByHand'));
    const otherLine = text.split('\n').findIndex((l) => l.startsWith('model Other'));
    const at = (line: number) => lenses.filter((l) => l.range.start.line === line).map((l) => l.command);
    expect(at(byhandLine)).toEqual([
      { title: '▶ Train', command: ClientCommands.train, arguments: [uri, 'ByHand'] },
      { title: '∇ Check gradients', command: ClientCommands.checkGradients, arguments: [uri, 'ByHand'] },
      { title: '17 params', command: '' },
    ]);
    // no train block: no Train lens
    expect(at(otherLine).map((c) => c?.title)).toEqual(['∇ Check gradients', '2 params']);
  });

  it('adds Step through (the debugger) for the VS Code extension, which runs it', async () => {
    const doc = await parse(example('byhand.nn'));
    const client = Nn.lens.Settings.client;
    client.isNnLensExtension = true;
    try {
      const lenses = (await Nn.lsp.CodeLensProvider!.provideCodeLens(doc, { textDocument: { uri: doc.uri.toString() } })) as CodeLens[];
      expect(lenses.map((l) => l.command?.title)).toEqual(['▶ Train', '∇ Check gradients', '◇ Backprop', '$(debug-alt-small) Step through', '17 params']);
      expect(lenses[3].command).toEqual({ title: '$(debug-alt-small) Step through', command: 'nnlens.stepThrough', arguments: [doc.uri.toString(), 'ByHand'] });
    } finally {
      client.isNnLensExtension = false;
    }
  });
});

describe('navigation', () => {
  it('goes to the definition of params, values, consts, functions and data', async () => {
    const text = example('digits.nn')
      .replace('param W1: [H, 256]', 'param <|W1|>: [<|>H, 256]')
      .replace('const H = 30', 'const <|H|> = 30')
      .replace('z1 = W1 @ x', 'z1 = <|>W1 @ x');
    // ranges in text order: const H, then param W1
    await expectGoToDefinition(Nn)({ text, index: 0, rangeIndex: 0, parseOptions: validated });
    await expectGoToDefinition(Nn)({ text, index: 1, rangeIndex: 1, parseOptions: validated });
  });

  it('finds the references of a param, grad lines included', async () => {
    const text = example('byhand.nn')
      .replace('param W2: [1, 4]', 'param <|W2|>: [1, 4]')
      .replace('z2 = W2 @ a1', 'z2 = <|W2|> @ a1')
      .replace('grad W2 =', 'grad <|W2|> =')
      .replace('transpose(W2)', 'transpose(<|W2|>)');
    await expectFindReferences(Nn)({ text, includeDeclaration: true, parseOptions: validated });
  });

  it('renames a param everywhere and refuses names that are taken or reserved', async () => {
    const text = example('byhand.nn');
    const doc = await parse(text);
    const position = doc.textDocument.positionAt(offsetOf(text, 'W2 @ a1'));
    const edit = (await Nn.lsp.RenameProvider!.rename(doc, { textDocument: { uri: doc.uri.toString() }, position, newName: 'Wout' })) as WorkspaceEdit;
    const edits = edit.changes![doc.uri.toString()];
    const renamed = TextDocument.applyEdits(doc.textDocument as TextDocument, edits);
    expect(renamed).not.toMatch(/\bW2\b/);
    expect(renamed).toContain('param Wout: [1, 4]');
    expect(renamed).toContain('grad Wout = outer(grad z2, a1)');
    expect(renamed).toContain('transpose(Wout) @ grad z2');
    const after = await parse(renamed);
    expect((after.diagnostics ?? []).filter((d) => d.severity === 1)).toEqual([]);
    for (const bad of ['W1', 'model', 'sigmoid', '2x']) {
      await expect(Nn.lsp.RenameProvider!.rename(doc, { textDocument: { uri: doc.uri.toString() }, position, newName: bad })).rejects.toThrow();
    }
  });
});

describe('formatting', () => {
  const options = { tabSize: 2, insertSpaces: true };

  it('indents blocks, spaces operators, commas and colons, keeps comments and aligned comments', async () => {
    await expectFormatting(Nn)({
      options,
      before: [
        'const H=30',
        'function swish(z)=z*sigmoid(z)',
        'grad z = sigmoid(z)*(1+z*(1-sigmoid(z)))',
        'model M{',
        'input x:[2]      // features',
        '   target t :[1] // label',
        'param W:[H,2]=normal(0,0.1)',
        '      param b : [H]',
        'h=tanh(W@x+b)  // hidden',
        'loss C=mse(sum(h)^2 , t)+ -1*h.W',
        'backward{',
        'grad h=  - 2*x',
        '}',
        '}',
        'train M on D{optimizer:sgd(lr:0.1)',
        'batch:32}',
      ].join('\n'),
      after: [
        'const H = 30',
        'function swish(z) = z * sigmoid(z)',
        '  grad z = sigmoid(z) * (1 + z * (1 - sigmoid(z)))',
        'model M {',
        '  input x: [2]  // features',
        '  target t: [1] // label',
        '  param W: [H, 2] = normal(0, 0.1)',
        '  param b: [H]',
        '  h = tanh(W @ x + b)  // hidden',
        '  loss C = mse(sum(h)^2, t) + -1 * h.W',
        '  backward {',
        '    grad h = -2 * x',
        '  }',
        '}',
        'train M on D { optimizer: sgd(lr: 0.1)',
        '  batch: 32 }',
      ].join('\n'),
    });
  });

  it('is idempotent and keeps every token of every example', async () => {
    const formatter = Nn.lsp.Formatter as NnFormatter;
    const lexer = Nn.parser.Lexer;
    const files = readdirSync(resolve(ROOT, 'examples')).filter((f) => f.endsWith('.nn'));
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const text = example(f);
      const once = formatter.format(text, options)!.join('\n');
      const twice = formatter.format(once, options)!.join('\n');
      expect(twice, f).toBe(once);
      const images = (t: string) => {
        const r = lexer.tokenize(t);
        return [...r.tokens, ...r.hidden].sort((a, b) => a.startOffset - b.startOffset).map((x) => x.image);
      };
      expect(images(once), f).toEqual(images(text));
      const doc = await parse(once);
      expect((doc.diagnostics ?? []).filter((d) => d.severity === 1), f).toEqual([]);
    }
  });

  it('formats a range only, and leaves text the lexer cannot read alone', async () => {
    const text = 'model M {\ninput x:[2]\nloss C=sum(x)\n}\n';
    const doc = await parse(text);
    const edits = (await Nn.lsp.Formatter!.formatDocumentRange(doc, {
      textDocument: { uri: doc.uri.toString() },
      options,
      range: { start: { line: 1, character: 0 }, end: { line: 1, character: 5 } },
    })) as TextEdit[];
    expect(TextDocument.applyEdits(doc.textDocument as TextDocument, edits)).toBe('model M {\n  input x: [2]\nloss C=sum(x)\n}\n');
    const junk = await parse('model M { input x: [2] ¤ loss C = sum(x) }');
    expect(await Nn.lsp.Formatter!.formatDocument(junk, { textDocument: { uri: junk.uri.toString() }, options })).toEqual([]);
  });
});

describe('quick fixes', () => {
  const fixesFor = async (text: string) => {
    const doc = await parse(text);
    const diags = (doc.diagnostics ?? []).filter((d) => d.code === 'shape-mismatch' || d.code === 'data-shape-mismatch');
    expect(diags.length).toBeGreaterThan(0);
    const actions = (await Nn.lsp.CodeActionProvider!.getCodeActions(doc, {
      textDocument: { uri: doc.uri.toString() },
      range: diags[0].range,
      context: { diagnostics: diags },
    })) as CodeAction[];
    const apply = (a: CodeAction) => TextDocument.applyEdits(doc.textDocument as TextDocument, a.edit!.changes![doc.uri.toString()]);
    return { actions, apply };
  };
  const errorsOf = async (text: string) => ((await parse(text)).diagnostics ?? []).filter((d) => d.severity === 1);

  it('uses transpose(…) where it makes a matmul fit, and the fixed file has no error', async () => {
    const text = example('byhand.nn').replace('z2 = W2 @ a1 + b2', 'z2 = W2 @ a1 + b2\n  back = W1 @ a1');
    const { actions, apply } = await fixesFor(text.replace('loss C = mse(y, t)', 'loss C = mse(y, t) + sum(back)'));
    const t = actions.find((a) => a.title.startsWith('Use transpose(W1)'));
    expect(t).toBeDefined();
    const fixed = apply(t!);
    expect(fixed).toContain('back = transpose(W1) @ a1');
    expect(await errorsOf(fixed)).toEqual([]);
  });

  it('sets a declared size to the one the other operand needs', async () => {
    const text = example('digits.nn').replace('param W1: [H, 256]', 'param W1: [H, 100]');
    const { actions, apply } = await fixesFor(text);
    const set = actions.find((a) => a.title.startsWith("Set param W1's shape to [30, 256]"));
    expect(set).toBeDefined();
    const fixed = apply(set!);
    expect(fixed).toContain('param W1: [H, 256]');
    expect(await errorsOf(fixed)).toEqual([]);
    const bias = example('digits.nn').replace('param b1: [H]', 'param b1: [20]');
    const b = await fixesFor(bias);
    const fixedBias = b.apply(b.actions.find((a) => a.title.startsWith("Set param b1's shape to [30]"))!);
    expect(await errorsOf(fixedBias)).toEqual([]);
  });

  it('transposes a grad line of the transposed shape, and fits an input to its data', async () => {
    const text = example('byhand.nn').replace('grad W2 = outer(grad z2, a1)', 'grad W2 = outer(a1, grad z2)');
    const { actions, apply } = await fixesFor(text);
    const t = actions.find((a) => a.title.startsWith('Transpose the line'));
    const fixed = apply(t!);
    expect(fixed).toContain('grad W2 = transpose(outer(a1, grad z2))');
    expect(await errorsOf(fixed)).toEqual([]);
    const data = example('xor.nn').replace('input  x: [2]', 'input  x: [3]').replace('param W1: [4, 2]', 'param W1: [4, 3]');
    const d = await fixesFor(data);
    const fit = d.actions.find((a) => a.title.startsWith("Set input x's shape to [2]"));
    expect(fit).toBeDefined();
  });

  it('offers the full gradient check as a source action inside a model', async () => {
    const text = example('digits.nn');
    const doc = await parse(text);
    const pos = doc.textDocument.positionAt(offsetOf(text, 'z1 = W1'));
    const actions = (await Nn.lsp.CodeActionProvider!.getCodeActions(doc, {
      textDocument: { uri: doc.uri.toString() },
      range: { start: pos, end: pos },
      context: { diagnostics: [] },
    })) as CodeAction[];
    expect(actions.map((a) => a.command)).toContainEqual({
      title: 'Check gradients',
      command: ClientCommands.checkGradients,
      arguments: [doc.uri.toString(), 'Digits'],
    });
  });
});

describe('outline, semantic tokens and folding', () => {
  it('lists data, models with their params, values and grad lines', async () => {
    await expectSymbols(Nn)({
      text: example('byhand.nn'),
      parseOptions: validated,
      assert: (symbols) => {
        expect(symbols.map((s) => s.name)).toEqual(['xor', 'ByHand', 'train ByHand on xor']);
        const model = symbols[1];
        expect(model.detail).toBe('17 params');
        const names = model.children!.map((c) => `${c.name} ${c.detail ?? ''}`.trim());
        expect(names).toEqual([
          'x input [2]',
          't target [1]',
          'W1 param [4, 2]',
          'b1 param [4]',
          'W2 param [1, 4]',
          'b2 param [1]',
          'z1 [4]',
          'a1 [4]',
          'z2 [1]',
          'y [1]',
          'C loss []',
          'backward',
        ]);
        expect(model.children!.at(-1)!.children!.map((c) => c.name)).toContain('grad W1');
      },
    });
  });

  it('colours params, inputs, values, consts and built-ins by what they are', async () => {
    const t = await highlightHelper(Nn)(
      example('digits.nn')
        .replace('a1 = sigmoid(z1)', 'a1 = <|sigmoid|>(<|z1|>)')
        .replace('z2 = W2 @ a1', 'z2 = <|W2|> @ a1')
        .replace('[H, 256]', '[<|H|>, 256]')
        .replace('W1 @ x', 'W1 @ <|x|>'),
      { validation: true },
    );
    const typeAt = (r: [number, number]) => t.tokens.find((x) => x.offset === r[0] && x.offset + x.text.length === r[1])?.tokenType;
    expect(t.ranges.map(typeAt)).toEqual(['variable', 'parameter', 'function', 'variable', 'property']);
  });

  it('folds models and blocks', async () => {
    await expectFoldings(Nn)({
      text: example('byhand.nn').replace('model ByHand {', '<|model ByHand {').replace('    grad b1 = grad z1\n  }\n}', '    grad b1 = grad z1\n  }\n|>}'),
      parseOptions: validated,
      assert: (foldings) => {
        expect(foldings.some((f) => f.startLine === 6)).toBe(true);
        expect(foldings.some((f) => f.startLine === 20)).toBe(true);
      },
    });
  });
});
