/**
 * The workspace as the server builds it: an edit of one document rebuilds that document only
 * (names are per file), a changed data file revalidates the documents, and names resolve through
 * the map-based scopes exactly as Langium's default would (the first declaration wins).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DocumentState, URI, type LangiumDocument } from 'langium';
import { setTextDocument } from 'langium/test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { NnAst as ast } from '../../language';
import { createServices, example } from './helpers';

const { Nn, parse } = createServices();
afterAll(() => Nn.lens.Engine.dispose());

describe('workspace', () => {
  it('rebuilds only the edited document, not every document that calls a built-in', async () => {
    const a = await parse(example('digits.nn'), '/ws/a.nn');
    const b = await parse(example('xor.nn'), '/ws/b.nn');
    const validated: string[] = [];
    const sub = Nn.shared.workspace.DocumentBuilder.onDocumentPhase(DocumentState.Validated, (d: LangiumDocument) => {
      validated.push(d.uri.path);
    });
    try {
      // b calls tanh and sigmoid: references Langium cannot resolve (built-ins are not declared)
      expect(b.references.some((r) => r.error !== undefined)).toBe(true);
      const edited = example('digits.nn').replace('const H = 30', 'const H = 20');
      const reg = setTextDocument(Nn, TextDocument.create(a.uri.toString(), 'nn', 2, edited));
      await Nn.shared.workspace.DocumentBuilder.update([a.uri], []);
      reg.dispose();
      expect(validated).toEqual(['/ws/a.nn']);
      // a change to a data file (not a .nn file) revalidates the documents (data checks read files)
      validated.length = 0;
      await Nn.shared.workspace.DocumentBuilder.update([URI.file('/ws/data/iris.csv')], []);
      expect(validated.sort()).toEqual(expect.arrayContaining(['/ws/a.nn', '/ws/b.nn']));
    } finally {
      sub.dispose();
    }
  });

  it('links every name to its first declaration, inner scopes first', async () => {
    const doc = await parse(
      [
        'const H = 3',
        'const H = 4',
        'function f(H) = H * 2',
        'model M {',
        '  input x: [H]',
        '  param W: [2, H]',
        '  y = W @ x',
        '  y = W @ x',
        '  loss C = sum(f(y))',
        '}',
      ].join('\n'),
    );
    const root = doc.parseResult.value as ast.Program;
    const refs = (n: ast.Program) =>
      [...(function* walk(): Generator<ast.Ref> {
        const stack: unknown[] = [n];
        while (stack.length) {
          const x = stack.pop() as Record<string, unknown>;
          if (ast.isRef(x as never)) yield x as unknown as ast.Ref;
          for (const [k, v] of Object.entries(x)) {
            if (k.startsWith('$')) continue;
            if (Array.isArray(v)) stack.push(...v.filter((e) => e && typeof e === 'object' && '$type' in e));
            else if (v && typeof v === 'object' && '$type' in v) stack.push(v);
          }
        }
      })()];
    const all = refs(root);
    const consts = root.declarations.filter(ast.isConstDecl);
    const fn = root.declarations.find(ast.isFunctionDecl)!;
    const model = root.declarations.find(ast.isModelDecl)!;
    // H in the model's shapes: the first const H
    const inModel = all.filter((r) => r.target.$refText === 'H' && r.$cstNode!.range.start.line >= 4);
    expect(inModel.length).toBe(2);
    for (const r of inModel) expect(r.target.ref).toBe(consts[0]);
    // H in the function body: the function's argument shadows the consts
    const inFn = all.filter((r) => r.target.$refText === 'H' && r.$cstNode!.range.start.line === 2);
    expect(inFn.map((r) => r.target.ref)).toEqual([fn.params[0]]);
    // y in the loss: the first of the two values named y
    const y = all.find((r) => r.target.$refText === 'y')!;
    expect(y.target.ref).toBe(model.members.filter(ast.isValueDecl)[0]);
  });
});
