/**
 * The grammar: precedence and associativity, numbers, comments, statements without separators,
 * error recovery — checked on the AST (langium/test's parseHelper) and on compile-time values.
 */
import { EmptyFileSystem } from 'langium';
import { parseHelper } from 'langium/test';
import { beforeAll, describe, expect, test } from 'vitest';
import { analyzeText, createNnServices, NnAst as ast } from '../../language/index';

let parse: ReturnType<typeof parseHelper<ast.Program>>;
let services: ReturnType<typeof createNnServices>;

beforeAll(() => {
  services = createNnServices(EmptyFileSystem);
  parse = parseHelper<ast.Program>(services.Nn);
});

/** A compact, fully parenthesized rendering of an expression. */
function show(e: ast.Expression | undefined): string {
  if (!e) return '?';
  if (ast.isNumberLit(e)) return String(e.value);
  if (ast.isStringLit(e)) return JSON.stringify(e.value);
  if (ast.isBoolLit(e)) return String(e.value);
  if (ast.isRef(e)) return e.target.$refText + (e.member ? `.${e.member}` : '');
  if (ast.isGradRef(e)) return `grad ${e.target.$refText}`;
  if (ast.isNegExpr(e)) return `(-${show(e.operand)})`;
  if (ast.isBinaryExpr(e)) return `(${show(e.left)} ${e.op} ${show(e.right)})`;
  if (ast.isPowExpr(e)) return `(${show(e.base)} ^ ${show(e.exponent)})`;
  return `${e.callee.target.$refText}(${e.args.map((a) => (a.name ? `${a.name}: ` : '') + show(a.value)).join(', ')})`;
}

async function expr(text: string): Promise<string> {
  const doc = await parse(`const X = ${text}`);
  expect(doc.parseResult.lexerErrors).toEqual([]);
  expect(doc.parseResult.parserErrors.map((e) => e.message)).toEqual([]);
  return show((doc.parseResult.value.declarations[0] as ast.ConstDecl).value);
}

describe('precedence and associativity', () => {
  test.each([
    ['a + b * c', '(a + (b * c))'],
    ['a - b - c', '((a - b) - c)'],
    ['a * b @ c', '((a * b) @ c)'],
    ['W @ x + b', '((W @ x) + b)'],
    ['a @ b * c', '((a @ b) * c)'],
    ['a / b / c', '((a / b) / c)'],
    ['-a ^ 2', '(-(a ^ 2))'],
    ['-a * b', '((-a) * b)'],
    ['a * -b', '(a * (-b))'],
    ['a ^ b ^ c', '(a ^ (b ^ c))'],
    ['a ^ -2', '(a ^ (-2))'],
    ['2 ^ -1 ^ 2', '(2 ^ (-(1 ^ 2)))'],
    ['(a + b) * c', '((a + b) * c)'],
    ['- - a', '(-(-a))'],
    ['f(a, g(b) + 1) ^ 2', '(f(a, (g(b) + 1)) ^ 2)'],
    ['h.W @ x + h.b', '((h.W @ x) + h.b)'],
    ['sgd(lr: 0.1, momentum: 0.9)', 'sgd(lr: 0.1, momentum: 0.9)'],
  ])('%s  ≡  %s', async (text, expected) => {
    expect(await expr(text)).toBe(expected);
  });

  test.each([
    ['3', 3],
    ['0.5', 0.5],
    ['1e-3', 0.001],
    ['2.5E+2', 250],
    ['.25', 0.25],
    ['7.', 7],
  ])('number %s', async (text, value) => {
    expect(await expr(text)).toBe(String(value));
  });
});

describe('compile-time values', () => {
  test('consts are evaluated in any order, with Python-like precedence', async () => {
    const a = await analyzeText(`
      const A = B * 2          // uses a const declared later
      const B = 1e-3 / 2
      const C = -2 ^ 2         // -(2^2)
      const D = 2 ^ -1 ^ 2     // 2^(-(1^2))
      const E = (1 + 2) * 3 - 4 / 8
    `);
    expect(a.diagnostics).toEqual([]);
    const values = a.document.parseResult.value.declarations
      .filter(ast.isConstDecl)
      .map((c) => [c.name, a.shapeOf(c)?.value]);
    expect(values).toEqual([
      ['A', 0.001],
      ['B', 0.0005],
      ['C', -4],
      ['D', 0.5],
      ['E', 8.5],
    ]);
  });
});

describe('layout', () => {
  test('statements need no separators, on one line or many; comments anywhere', async () => {
    const doc = await parse(
      [
        '/* header',
        '   block */ const H = 2 // line',
        'model M { input x: [H] target t: [1] param W: [1, H] z1 = W @ x a1 = sigmoid(z1) loss C = mse(a1, t) }',
        'model N {',
        '  input x: [2]   // per example',
        '  target t: [2]',
        '  z1 = x * 2',
        '  a1 = -z1',
        '  loss C = mse(a1, t) /* trailing */',
        '  backward { grad a1 = 2 * (a1 - t) grad z1 = -grad a1 }',
        '}',
        'train M on D { batch: 4 epochs: 2 } check M on D',
      ].join('\n'),
    );
    expect(doc.parseResult.lexerErrors).toEqual([]);
    expect(doc.parseResult.parserErrors).toEqual([]);
    const p = doc.parseResult.value;
    expect(p.declarations.map((d) => d.$type)).toEqual(['ConstDecl', 'ModelDecl', 'ModelDecl', 'TrainDecl', 'CheckDecl']);
    const m = p.declarations[1] as ast.ModelDecl;
    expect(m.members.map((x) => x.$type)).toEqual(['InputDecl', 'TargetDecl', 'ParamDecl', 'ValueDecl', 'ValueDecl', 'LossDecl']);
    const n = p.declarations[2] as ast.ModelDecl;
    const back = n.members.find(ast.isBackwardBlock)!;
    expect(back.lines.map((l) => `${l.target.$refText} = ${show(l.expr)}`)).toEqual([
      'a1 = (2 * (a1 - t))',
      'z1 = (-grad a1)',
    ]);
    expect((p.declarations[3] as ast.TrainDecl).options.map((o) => o.key)).toEqual(['batch', 'epochs']);
  });

  test('function grad lines attach to the function before them', async () => {
    const doc = await parse('function f(a, b) = a * b\n  grad a = b\n  grad b = a\nfunction g(z) = z\nconst K = 1');
    const [f, g] = doc.parseResult.value.declarations as ast.FunctionDecl[];
    expect(f.grads.map((x) => x.arg.$refText)).toEqual(['a', 'b']);
    expect(g.grads).toEqual([]);
    expect(f.params.map((x) => x.name)).toEqual(['a', 'b']);
  });
});

describe('error recovery', () => {
  test('a broken line in one model does not hide shape errors in another', async () => {
    const a = await analyzeText(
      [
        'model Broken {',
        '  input x: [2]',
        '  target t: [1]',
        '  param W: [1, 2]',
        '  y = W @ * x',
        '  loss C = mse(y, t)',
        '}',
        'model Other {',
        '  input x: [3]',
        '  target t: [1]',
        '  param W: [2, 4]',
        '  y = W @ x',
        '  loss C = mse(y, t)',
        '}',
      ].join('\n'),
    );
    const summary = a.diagnostics.map((d) => [d.range.start.line, d.code]);
    expect(summary).toContainEqual([4, 'syntax-error']);
    expect(summary).toContainEqual([11, 'shape-mismatch']);
    expect(a.diagnostics.find((d) => d.code === 'shape-mismatch')!.message).toContain('[2, 4] @ [3]');
    expect(a.skippedModels.sort()).toEqual(['Broken', 'Other']);
  });

  test('a syntax error at the top level does not hide a later model', async () => {
    const a = await analyzeText('const = 3\nmodel M { input x: [2] target t: [3] loss C = mse(x, t) }');
    expect(a.diagnostics.map((d) => d.code)).toEqual(['syntax-error', 'shape-mismatch']);
  });

  test('an empty file and a file of comments are fine', async () => {
    expect((await analyzeText('')).diagnostics).toEqual([]);
    expect((await analyzeText('// nothing\n/* here */')).diagnostics).toEqual([]);
  });
});
