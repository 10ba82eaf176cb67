/**
 * The language layer's public API: analyzeText/analyzeFile, data paths and the workspace root,
 * shape queries for hovers, the services with langium/test helpers, the catalog, the codes.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AstUtils, EmptyFileSystem, URI, type LangiumDocument } from 'langium';
import { expectError, expectGoToDefinition, expectNoIssues, validationHelper } from 'langium/test';
import { beforeAll, describe, expect, test } from 'vitest';
import { UNARY_FNS, type Op } from '../../engine/ir';
import {
  analyzeFile,
  analyzeText,
  BUILTIN_FUNCTIONS,
  CHECK_OPTIONS,
  Codes,
  CODE_INFO,
  createNnServices,
  DATA_SOURCES,
  INITIALIZERS,
  NnAst as ast,
  NnDataContextProvider,
  OPTIMIZERS,
  TRAIN_OPTIONS,
} from '../../language/index';

const ROOT = resolve(__dirname, '../..');

describe('analyzeText / analyzeFile', () => {
  test('diagnostics are plain, 0-based, sorted, with a code', async () => {
    const a = await analyzeText('model M {\n  input x: [3]\n  target t: [2]\n  loss C = mse(x, t) + q\n}\n');
    expect(a.diagnostics).toEqual([
      {
        severity: 'error',
        range: { start: { line: 3, character: 23 }, end: { line: 3, character: 24 } },
        code: 'unknown-name',
        message: "unknown name 'q'",
      },
      {
        severity: 'error',
        range: { start: { line: 3, character: 11 }, end: { line: 3, character: 20 } },
        code: 'shape-mismatch',
        message: 'mse([3], [2]): shapes differ; rule: equal shapes -> []',
      },
    ].sort((x, y) => x.range.start.character - y.range.start.character));
  });

  test('analyses run one at a time and do not mix up documents', async () => {
    const texts = [1, 2, 3, 4, 5].map(
      (n) => `model M${n} { input x: [${n}] target t: [${n + 1}] loss C = mse(x, t) }`,
    );
    const results = await Promise.all(texts.map((t) => analyzeText(t)));
    results.forEach((a, i) => {
      expect(a.diagnostics).toHaveLength(1);
      expect(a.diagnostics[0].message).toContain(`mse([${i + 1}], [${i + 2}])`);
    });
  });

  test('csv paths are relative to the file; the workspace root defaults to its folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nn-ws-'));
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'pts.csv'), 'a,b,y\n1,2,0\n3,4,1\n');
    const file = join(root, 'sub', 'm.nn');
    writeFileSync(
      file,
      'data d = csv("../pts.csv")\nmodel M { input x: [2] target t: [1] param W: [1, 2] loss C = mse(W @ x, t) }\ntrain M on d\n',
    );
    const inside = await analyzeFile(file, { workspaceRoot: root });
    expect(inside.diagnostics).toEqual([]);
    expect(inside.program.data[0].spec).toEqual({ kind: 'csv', path: '../pts.csv', label: null, classes: null, normalize: false });
    const outside = await analyzeFile(file);
    expect(outside.diagnostics.map((d) => [d.code, d.range.start.line])).toEqual([['data-error', 0]]);
    expect(outside.diagnostics[0].message).toMatch(/outside/);
    expect(outside.program.trains).toEqual([]);
  });

  test('an unsaved document cannot resolve csv paths; generated data needs no file', async () => {
    const a = await analyzeText('data d = csv("p.csv")\ndata e = circle(n: 10)', { uri: 'untitled:Untitled-1' });
    expect(a.diagnostics.map((d) => [d.code, d.range.start.line])).toEqual([['data-error', 0]]);
    expect(a.diagnostics[0].message).toContain('save the file first');
    expect(a.program.data.map((d) => d.name)).toEqual(['e']);
  });

  test('a wrong label column is a data-error naming the column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nn-csv-'));
    writeFileSync(join(dir, 'p.csv'), 'a,b,y\n1,2,0\n');
    const a = await analyzeText('data d = csv("p.csv", label: "nope")', { uri: join(dir, 'x.nn') });
    expect(a.diagnostics.map((d) => d.code)).toEqual(['data-error']);
    expect(a.diagnostics[0].message).toContain('nope');
  });

  test('shapeOf answers hovers: expressions, named values, params, dense values', async () => {
    const a = await analyzeFile(join(ROOT, 'examples/data.nn'));
    const nodes = AstUtils.streamAst(a.document.parseResult.value).toArray();
    const value = (name: string) => nodes.find((n): n is ast.ValueDecl => ast.isValueDecl(n) && n.name === name)!;
    expect(a.shapeOf(value('h'))).toEqual({ shape: [16], batched: true });
    expect(a.shapeOf(value('y'))?.shape).toEqual([3]);
    const call = nodes.find((n): n is ast.Call => ast.isCall(n) && n.callee.target.$refText === 'cross_entropy')!;
    expect(a.shapeOf(call)).toEqual({ shape: [], batched: true });
    const input = nodes.find(ast.isInputDecl)!;
    expect(a.shapeOf(input)).toEqual({ shape: [4], batched: true });
    const digits = await analyzeFile(join(ROOT, 'examples/digits.nn'));
    const c = digits.document.parseResult.value.declarations.find(ast.isConstDecl)!;
    expect(digits.shapeOf(c)).toEqual({ shape: [], batched: false, value: 30 });
    const w1 = AstUtils.streamAst(digits.document.parseResult.value).find(
      (n): n is ast.ParamDecl => ast.isParamDecl(n) && n.name === 'W1',
    )!;
    expect(digits.shapeOf(w1)).toEqual({ shape: [30, 256], batched: false });
  });
});

describe('services with langium/test', () => {
  let services: ReturnType<typeof createNnServices>;
  let validate: ReturnType<typeof validationHelper<ast.Program>>;
  beforeAll(() => {
    services = createNnServices(EmptyFileSystem);
    validate = validationHelper<ast.Program>(services.Nn);
  });

  test('validation reports codes on the failing node', async () => {
    const r = await validate('model M { input x: [3] target t: [1] param W: [2, 4] loss C = mse(W @ x, t) }');
    const binary = AstUtils.streamAst(r.document.parseResult.value).find(ast.isBinaryExpr)!;
    expectError(r, 'matmul [2, 4] @ [3]: inner dimensions differ (4 vs 3); rule [m,n] @ [n] -> [m]', {
      node: binary,
      code: Codes.ShapeMismatch,
    });
  });

  test('a correct model has no issues', async () => {
    const r = await validate('model M { input x: [2] target t: [1] param W: [1, 2] loss C = mse(W @ x, t) }');
    expectNoIssues(r);
  });

  test('an extra module adds services and overrides defaults', () => {
    type Extra = { extra: { Answer: { value: number } } };
    const { Nn } = createNnServices<Extra>(EmptyFileSystem, { extra: { Answer: () => ({ value: 42 }) } });
    expect(Nn.extra.Answer.value).toBe(42);
    expect(Nn.analysis.Cache).toBeDefined();
    expect(Nn.LanguageMetaData.languageId).toBe('nn');
    expect(Nn.LanguageMetaData.fileExtensions).toEqual(['.nn']);
  });

  test('go to definition: consts, functions, values, models', async () => {
    const gotoDef = expectGoToDefinition(services.Nn);
    const text =
      'const <|H|> = 2\nfunction <|f|>(z) = z\n' +
      'model <|M|> { input x: [<|>H] target t: [2] <|z|> = <|>f(x) loss C = mse(<|>z, t) }\ndata D = xor()\ntrain <|>M on D';
    // Ranges <|…|>: 0 const H, 1 function f, 2 model M, 3 value z. Cursors <|>: 0 H, 1 f(…), 2 z, 3 M.
    await gotoDef({ text, index: 0, rangeIndex: 0 });
    await gotoDef({ text, index: 1, rangeIndex: 1 });
    await gotoDef({ text, index: 2, rangeIndex: 3 });
    await gotoDef({ text, index: 3, rangeIndex: 2 });
  });
});

describe('data context', () => {
  const doc = (path: string) => ({ uri: URI.file(path) }) as unknown as LangiumDocument;
  const stub = (folders: string[]) =>
    ({ workspace: { WorkspaceManager: { workspaceFolders: folders.map((f) => ({ uri: URI.file(f).toString(), name: f })) } } }) as never;

  test('the innermost workspace folder containing the file is the root', () => {
    const p = new NnDataContextProvider(stub(['/ws', '/ws/inner', '/other']));
    expect(p.contextFor(doc('/ws/inner/a/m.nn'))).toEqual({ baseDir: '/ws/inner/a', workspaceRoot: '/ws/inner' });
    expect(p.contextFor(doc('/ws/m.nn'))).toEqual({ baseDir: '/ws', workspaceRoot: '/ws' });
    expect(p.contextFor(doc('/wsx/m.nn'))).toEqual({ baseDir: '/wsx', workspaceRoot: '/wsx' });
  });

  test('a root set for a document wins; without folders the file folder is the root', () => {
    const p = new NnDataContextProvider();
    expect(p.contextFor(doc('/a/b/m.nn'))).toEqual({ baseDir: '/a/b', workspaceRoot: '/a/b' });
    p.setWorkspaceRoot(URI.file('/a/b/m.nn').toString(), '/a');
    expect(p.contextFor(doc('/a/b/m.nn'))).toEqual({ baseDir: '/a/b', workspaceRoot: '/a' });
    p.defaultWorkspaceRoot = '/';
    expect(p.contextFor(doc('/c/m.nn'))).toEqual({ baseDir: '/c', workspaceRoot: '/' });
    expect(p.contextFor({ uri: URI.parse('untitled:Untitled-1') } as unknown as LangiumDocument)).toBeUndefined();
  });
});

describe('catalog and codes', () => {
  test('every model op of the IR has a built-in or an operator', () => {
    const viaOperators: Op[] = ['input', 'target', 'param', 'const', 'gradRef', 'add', 'sub', 'mul', 'div', 'neg', 'pow', 'matmul', 'call', 'unary'];
    const builtins = new Set(BUILTIN_FUNCTIONS.map((b) => b.name));
    for (const u of UNARY_FNS) expect(builtins).toContain(u);
    const ops: Op[] = ['leaky_relu', 'transpose', 'outer', 'dot', 'sum', 'mean', 'max', 'softmax', 'log_softmax', 'cross_entropy', 'mse', 'binary_cross_entropy'];
    for (const op of ops) expect(builtins).toContain(op);
    expect(viaOperators.length + ops.length).toBeGreaterThan(20);
  });

  test('every catalog entry is documented', () => {
    for (const b of BUILTIN_FUNCTIONS) {
      expect(b.doc.length, b.name).toBeGreaterThan(10);
      expect(b.signature.startsWith(`${b.name}(`)).toBe(true);
      expect(b.rule.length).toBeGreaterThan(1);
    }
    for (const c of [...INITIALIZERS, ...DATA_SOURCES, ...OPTIMIZERS]) {
      expect(c.doc.length, c.name).toBeGreaterThan(5);
      for (const a of c.args) expect(a.doc.length, `${c.name}.${a.name}`).toBeGreaterThan(2);
    }
    for (const o of [...TRAIN_OPTIONS, ...CHECK_OPTIONS]) expect(o.default, o.name).not.toBeUndefined();
  });

  test('every diagnostic code is in docs/diagnostics.md with its severity', () => {
    const doc = readFileSync(join(ROOT, 'docs/diagnostics.md'), 'utf8');
    for (const code of Object.values(Codes)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\``));
      expect(row, code).toBeDefined();
      expect(row).toContain(CODE_INFO[code].severity);
    }
  });
});
