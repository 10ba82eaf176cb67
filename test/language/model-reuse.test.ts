/**
 * Big files (issue 13): after an edit, only the models the edit touched are analysed and validated
 * again; the others take over the previous version's analysis and diagnostics. Counted, never
 * timed: `NnAnalysisCache.counts` says how many model analyses were computed and reused, and how
 * many models' diagnostics carried over. Whatever is reused, the diagnostics, shapes and lowered
 * program are those of a cold analysis of the same text (a fresh set of services).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AstUtils, EmptyFileSystem, URI, type AstNode, type LangiumDocument } from 'langium';
import { parseHelper, setTextDocument } from 'langium/test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { describe, expect, test } from 'vitest';
import { createNnServices, lowerDocument, NnAst as ast, type NnServices } from '../../language/index';
import { HEADER, manyModels, model, modelsUsing, N } from '../fixtures/many-models';

/** A document that is edited in place, as the language server does (the same LangiumDocument). */
function editor() {
  const { Nn } = createNnServices(EmptyFileSystem);
  const parse = parseHelper<ast.Program>(Nn);
  const cache = Nn.analysis.Cache;
  let doc: LangiumDocument<ast.Program>;
  let version = 1;
  return {
    Nn,
    cache,
    get doc() {
      return doc;
    },
    async open(text: string) {
      doc = await parse(text, { validation: true, documentUri: URI.file(resolve(`/ws/many-${Math.random()}.nn`)).toString() });
      return doc;
    },
    /** Replaces the text and rebuilds; returns what was computed and reused by this build. */
    async edit(text: string) {
      const before = { ...cache.counts };
      const reg = setTextDocument(Nn, TextDocument.create(doc.uri.toString(), 'nn', ++version, text));
      try {
        await Nn.shared.workspace.DocumentBuilder.update([doc.uri], []);
      } finally {
        reg.dispose();
      }
      // consumers after validation (inlay hints, lenses, lowering) ask for every model again
      for (const m of doc.parseResult.value.declarations.filter(ast.isModelDecl)) cache.tryModel(m);
      return {
        computed: cache.counts.computed - before.computed,
        reused: cache.counts.reused - before.reused,
        diagnosticsReused: cache.counts.diagnosticsReused - before.diagnosticsReused,
      };
    },
  };
}

/** Diagnostics, lowered program and every shape of a cold analysis (fresh services) of `text`. */
async function cold(text: string) {
  const { Nn } = createNnServices(EmptyFileSystem);
  const doc = await parseHelper<ast.Program>(Nn)(text, { validation: true, documentUri: URI.file(resolve('/ws/cold.nn')).toString() });
  return view(Nn, doc);
}

/** What a user sees of a document: its diagnostics, its lowered program, the shape of every node. */
function view(Nn: NnServices, doc: LangiumDocument) {
  const root = doc.parseResult.value as ast.Program;
  const cache = Nn.analysis.Cache;
  const shapes = AstUtils.streamAst(root)
    .map((n) => {
      const s = cache.shapeOf(n);
      return `${n.$type}@${n.$cstNode?.offset}: ${s ? JSON.stringify(s) : '-'}`;
    })
    .toArray();
  const models = root.declarations.filter(ast.isModelDecl).map((m) => {
    const a = cache.tryModel(m);
    return {
      name: m.name,
      paramElements: a?.paramElements,
      issues: a?.issues.map((i) => [i.code, i.message, i.node.$type, i.node.$cstNode?.offset]),
      dense: [...(a?.dense.values() ?? [])].map((d) => [d.owner.name, d.units, d.W, d.b]),
      reachable: [...(a?.reachable ?? [])].map((n) => `${n.$type}:${'name' in n ? n.name : ''}`).sort(),
      gradLines: [...(a?.gradLines ?? [])],
    };
  });
  const { program, skippedModels } = lowerDocument(Nn, doc);
  return { diagnostics: doc.diagnostics, shapes, models, program, skippedModels };
}

/** Every AST node an analysis of a model refers to belongs to `root`'s tree. */
function nodesOfAnalysis(Nn: NnServices, model: ast.ModelDecl): AstNode[] {
  const a = Nn.analysis.Cache.tryModel(model)!;
  return [
    ...a.infos.keys(),
    ...a.declShapes.keys(),
    ...a.dense.keys(),
    ...[...a.dense.values()].flatMap((d) => [d.call, d.owner, d.input]),
    ...a.issues.map((i) => i.node),
    ...a.reachable,
    a.model,
  ];
}

const text = (models: (i: number) => string[] = model, header = HEADER) => manyModels(header, models);

describe('reuse of model analyses across edits', () => {
  test('an edit inside one model analyses and validates that model only', async () => {
    const e = editor();
    const original = text();
    await e.open(original);
    expect(e.doc.diagnostics).toEqual([]);
    // a shape error in M7, then fixed again
    const broken = text((i) => (i === 7 ? model(i).map((l) => l.replace(/param b1: \[\w+\]/, 'param b1: [9]')) : model(i)));
    expect(broken).not.toBe(original);
    expect(await e.edit(broken)).toEqual({ computed: 1, reused: N - 1, diagnosticsReused: N - 1 });
    expect(e.doc.diagnostics?.map((d) => d.code)).toEqual(['shape-mismatch']);
    expect(view(e.Nn, e.doc)).toEqual(await cold(broken));
    expect(await e.edit(original)).toEqual({ computed: 1, reused: N - 1, diagnosticsReused: N - 1 });
    expect(view(e.Nn, e.doc)).toEqual(await cold(original));
    // the reused analyses are about the new tree, not the old one
    const root = e.doc.parseResult.value;
    for (const m of root.declarations.filter(ast.isModelDecl)) {
      for (const n of nodesOfAnalysis(e.Nn, m)) expect(AstUtils.findRootNode(n)).toBe(root);
    }
  });

  test('an edit that changes nothing a model uses (a comment, another model) reuses it', async () => {
    const e = editor();
    await e.open(text());
    const commented = text().replace('// many models in one file', '// many models in one file (edited)');
    expect(await e.edit(commented)).toEqual({ computed: 0, reused: N, diagnosticsReused: N });
  });

  test('a changed const analyses again exactly the models that use it, directly or through another const', async () => {
    const e = editor();
    await e.open(text());
    // H is used by the models of size H and, through H2, of size H2; not by those of size K or 5
    const edited = text(model, HEADER.map((l) => (l === 'const H = 8' ? 'const H = 6' : l)));
    const users = modelsUsing((i) => i % 4 === 1 || i % 4 === 3);
    expect(await e.edit(edited)).toEqual({ computed: users, reused: N - users, diagnosticsReused: N - users });
    expect(view(e.Nn, e.doc)).toEqual(await cold(edited));
    // a value that breaks the models that use it: each gets its errors, as a cold analysis does
    const broken = text(model, HEADER.map((l) => (l === 'const K = 3' ? 'const K = 2.5' : l)));
    const kUsers = modelsUsing((i) => i % 4 === 2);
    expect(await e.edit(broken)).toMatchObject({ computed: kUsers + users, reused: N - kUsers - users });
    // (three dimensions of each such model are K: W1, b1, W2)
    expect(e.doc.diagnostics?.filter((d) => d.code === 'invalid-dim')).toHaveLength(3 * kUsers);
    expect(view(e.Nn, e.doc)).toEqual(await cold(broken));
  });

  test('a changed function analyses again the models that call it', async () => {
    const e = editor();
    await e.open(text());
    // half takes two arguments now: the models that call it with one get an arity error
    const edited = text(model, HEADER.map((l) => (l === 'function half(e) = e / 2' ? 'function half(e, s) = e / s' : l)));
    const callers = modelsUsing((i) => i % 2 === 0);
    expect(await e.edit(edited)).toEqual({ computed: callers, reused: N - callers, diagnosticsReused: N - callers });
    expect(e.doc.diagnostics?.filter((d) => d.code === 'arity')).toHaveLength(callers);
    expect(view(e.Nn, e.doc)).toEqual(await cold(edited));
    // swish's grad line: the models that use swish (and those that call half, which is back as it was)
    const grad = text(model, HEADER.map((l) => l.replace('grad z = sigmoid(z) * (1 + z * (1 - sigmoid(z)))', 'grad z = 1')));
    const changed = modelsUsing((i) => i % 3 === 1 || i % 2 === 0);
    expect(await e.edit(grad)).toEqual({ computed: changed, reused: N - changed, diagnosticsReused: N - changed });
    expect(view(e.Nn, e.doc)).toEqual(await cold(grad));
  });

  test('changed data analyses again the models trained on it', async () => {
    const e = editor();
    await e.open(text());
    const edited = text(model, HEADER.map((l) => (l.startsWith('data ring') ? 'data ring = spiral(n: 60, classes: 3)' : l)));
    const onRing = modelsUsing((i) => i % 2 === 1);
    expect(await e.edit(edited)).toEqual({ computed: onRing, reused: N - onRing, diagnosticsReused: N - onRing });
    // spiral's labels are [3]: the train blocks on ring now mismatch the models' targets
    expect(e.doc.diagnostics?.filter((d) => d.code === 'data-shape-mismatch').length).toBe(onRing);
    expect(view(e.Nn, e.doc)).toEqual(await cold(edited));
  });

  test('a new top-level name: the members it collides with, and the names it now resolves', async () => {
    const e = editor();
    const uses = (i: number) => (i === 4 ? model(i).map((l) => l.replace('y = sigmoid(W2 @ a1)', 'y = sigmoid(W2 @ a1) * scale')) : model(i));
    await e.open(text(uses));
    expect(e.doc.diagnostics?.map((d) => d.code)).toEqual(['unknown-name']);
    // `scale` now resolves (M4 only); `W2` collides with a member of every model
    const edited = text(uses, [...HEADER, 'const scale = 2', 'const W2 = 1']);
    expect(await e.edit(edited)).toEqual({ computed: N, reused: 0, diagnosticsReused: 0 });
    expect(e.doc.diagnostics?.filter((d) => d.code === 'duplicate-name')).toHaveLength(N);
    expect(view(e.Nn, e.doc)).toEqual(await cold(edited));
    // a new value of the const the members collide with (they do not use it): nothing to do again
    const more = text(uses, [...HEADER, 'const scale = 2', 'const W2 = 7']);
    expect(await e.edit(more)).toEqual({ computed: 0, reused: N, diagnosticsReused: N });
    expect(view(e.Nn, e.doc)).toEqual(await cold(more));
    // a line added above them: their messages name lines, so they are validated again (the analyses move)
    const below = text(uses, [...HEADER, 'const scale = 2', 'const W2 = 7', 'const unused = 1']);
    expect(await e.edit(below)).toEqual({ computed: 0, reused: N, diagnosticsReused: 0 });
    expect(view(e.Nn, e.doc)).toEqual(await cold(below));
  });

  test('lines added above: clean models move as they are; a model whose messages name lines is analysed again', async () => {
    const e = editor();
    // M3 uses a value before defining it: its message names the line of the definition
    const early = (i: number) =>
      i === 3 ? model(i).map((l) => l.replace('z1 = W1 @ x + b1', 'z1 = W1 @ x + b1 + y0')).concat() : model(i);
    const withLate = (i: number) => {
      const lines = early(i);
      if (i === 3) lines.splice(lines.length - 3, 0, '  y0 = 0');
      return lines;
    };
    const original = text(withLate);
    await e.open(original);
    expect(e.doc.diagnostics?.map((d) => d.code)).toEqual(['use-before-definition']);
    const moved = text(withLate, ['// two more lines', '// at the top', ...HEADER]);
    expect(await e.edit(moved)).toEqual({ computed: 1, reused: N - 1, diagnosticsReused: N - 1 });
    expect(view(e.Nn, e.doc)).toEqual(await cold(moved));
    // characters typed on a line inside a model (no line added): every other model carries over
    const typed = moved.replace('model M9 {', 'model M9 {  ');
    expect(await e.edit(typed)).toEqual({ computed: 1, reused: N - 1, diagnosticsReused: N - 1 });
    expect(view(e.Nn, e.doc)).toEqual(await cold(typed));
  });
});

describe('a reused analysis is the analysis a cold build computes', () => {
  const ROOT = resolve(__dirname, '../..');
  const dirs = ['examples', ...readdirSync(join(ROOT, 'test/cases')).map((d) => `test/cases/${d}`)];
  const files = dirs.flatMap((d) =>
    readdirSync(join(ROOT, d))
      .filter((f) => f.endsWith('.nn'))
      .map((f) => `${d}/${f}`),
  );

  test.each(files)('%s, moved down and with a model added', async (f) => {
    const source = readFileSync(join(ROOT, f), 'utf8');
    const e = editor();
    await e.open(source);
    // lines above everything, a model below: every model of the file moves, none changes
    const edited = `// moved\n\n${source}\nmodel Added {\n  input x: [1]\n  loss C = sum(x)\n}\n`;
    const counts = await e.edit(edited);
    const models = e.doc.parseResult.value.declarations.filter(ast.isModelDecl).length;
    expect(counts.computed + counts.reused).toBe(models);
    expect(view(e.Nn, e.doc)).toEqual(await cold(edited));
  });
});
