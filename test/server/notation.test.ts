/**
 * The lecture's notation in the editor (§9): hover, rename, completion and go-to-definition on
 * names written in Greek letters and with a combining hat, through the server's real services.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { expectCompletion, expectGoToDefinition } from 'langium/test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Hover, MarkupContent, WorkspaceEdit } from 'vscode-languageserver';
import { createServices, offsetOf } from './helpers';

const { Nn, parse } = createServices();
afterAll(() => Nn.lens.Engine.dispose());

const GREEK = `const η = 0.5

model Lecture {
  input x: [2]
  target t: [3]
  param W: [3, 2] = normal(0, η)
  param β: [3] = zeros

  σz = W @ x + β
  ŷ = softmax(σz)
  loss C = cross_entropy(ŷ, t)

  backward {
    grad C = 1
    grad σz = grad C * (ŷ - t)
    grad W = outer(grad σz, x)
    grad β = grad σz
  }
}
`;

async function hoverAt(text: string, offset: number): Promise<string> {
  const doc = await parse(text);
  const h = (await Nn.lsp.HoverProvider!.getHoverContent(doc, {
    textDocument: { uri: doc.uri.toString() },
    position: doc.textDocument.positionAt(offset),
  })) as Hover | undefined;
  return (h?.contents as MarkupContent | undefined)?.value ?? '';
}

describe('names in the lecture’s letters', () => {
  it('parse without errors', async () => {
    const doc = await parse(GREEK);
    expect((doc.diagnostics ?? []).filter((d) => d.severity === 1)).toEqual([]);
  });

  it('hover on a Greek name, on its first letter, inside it and at its end', async () => {
    for (const delta of [0, 1, 2]) {
      const md = await hoverAt(GREEK, offsetOf(GREEK, 'σz = W', delta));
      expect(md, `delta ${delta}`).toContain('σz');
      expect(md).toContain('[3]');
    }
    expect(await hoverAt(GREEK, offsetOf(GREEK, 'param β', 6))).toContain('param β');
    expect(await hoverAt(GREEK, offsetOf(GREEK, 'ŷ = softmax'))).toContain('ŷ');
  });

  it('renames a Greek name everywhere, to another Greek name, and refuses a name starting with a digit', async () => {
    const doc = await parse(GREEK);
    const position = doc.textDocument.positionAt(offsetOf(GREEK, 'σz = W', 1));
    const edit = (await Promise.resolve(Nn.lsp.RenameProvider!.rename(doc, { textDocument: { uri: doc.uri.toString() }, position, newName: 'z₁ᵃ' })).catch(() => null)) as WorkspaceEdit | null;
    // z₁ᵃ: ₁ is a digit (No) and ᵃ a letter (Lm), so it is a name
    expect(edit).not.toBeNull();
    const δ = (await Nn.lsp.RenameProvider!.rename(doc, { textDocument: { uri: doc.uri.toString() }, position, newName: 'δ1' })) as WorkspaceEdit;
    const renamed = TextDocument.applyEdits(doc.textDocument as TextDocument, δ.changes![doc.uri.toString()]);
    expect(renamed).not.toContain('σz');
    expect(renamed).toContain('δ1 = W @ x + β');
    expect(renamed).toContain('grad δ1 = grad C * (ŷ - t)');
    expect(renamed).toContain('grad W = outer(grad δ1, x)');
    const after = await parse(renamed);
    expect((after.diagnostics ?? []).filter((d) => d.severity === 1)).toEqual([]);
    for (const bad of ['1δ', 'ŷ', 'grad', 'a-b']) {
      await expect(Nn.lsp.RenameProvider!.rename(doc, { textDocument: { uri: doc.uri.toString() }, position, newName: bad })).rejects.toThrow();
    }
  });

  it('completes a Greek prefix with the Greek names in scope', async () => {
    await expectCompletion(Nn)({
      text: GREEK.replace('grad β = grad σz', 'grad β = grad σz + σ<|>'),
      index: 0,
      parseOptions: { validation: true },
      assert: (list) => expect(list.items.map((i) => i.label)).toContain('σz'),
    });
  });

  it('after `=` in a param line, initializers come first — with a Greek name too', async () => {
    for (const to of ['param β: [3] = <|>', 'param β: [3] =<|>', 'param W: [3, 2] = <|>']) {
      const text = GREEK.replace(to.startsWith('param β') ? 'param β: [3] = zeros' : 'param W: [3, 2] = normal(0, η)', to);
      await expectCompletion(Nn)({
        text,
        index: 0,
        parseOptions: { validation: true },
        assert: (list) => {
          const sorted = [...list.items].sort((a, b) => (a.sortText ?? a.label).localeCompare(b.sortText ?? b.label));
          const inits = ['constant', 'glorot', 'he', 'normal', 'ones', 'uniform', 'zeros'];
          expect(sorted.slice(0, inits.length).map((i) => i.label).sort(), to).toEqual(inits);
          expect(sorted[0].detail, to).toMatch(/^initializer: /);
        },
      });
    }
  });

  it('goes to the definition of a Greek name from its use', async () => {
    const text = GREEK.replace('const η = 0.5', 'const <|η|> = 0.5').replace('normal(0, η)', 'normal(0, <|>η)');
    await expectGoToDefinition(Nn)({ text, index: 0, rangeIndex: 0, parseOptions: { validation: true } });
  });
});
