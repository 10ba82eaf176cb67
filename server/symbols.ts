/**
 * The outline: consts, functions, data sets, models (with their inputs, targets, params —
 * dense params under their value —, named values, the loss and the backward block's lines),
 * train and check blocks. Details show shapes and parameter counts.
 */
import type { AstNode, LangiumDocument } from 'langium';
import type { DocumentSymbolProvider } from 'langium/lsp';
import { SymbolKind, type DocumentSymbol, type DocumentSymbolParams, type Range } from 'vscode-languageserver';
import { fmtShape, NnAst as ast } from '../language';
import { count } from './markup';
import type { NnLensServices } from './module';

function rangeOf(n: AstNode | undefined): Range | undefined {
  return n?.$cstNode?.range;
}

function nameRange(n: AstNode & { name?: string }): Range | undefined {
  const c = n.$cstNode;
  if (!c) return undefined;
  for (const leaf of iterLeaves(c)) {
    if (leaf.text === n.name && leaf.astNode === n) return leaf.range;
  }
  return c.range;
}

function* iterLeaves(c: NonNullable<AstNode['$cstNode']>): Generator<{ text: string; astNode: AstNode; range: Range }> {
  const stack = [c];
  while (stack.length) {
    const n = stack.pop()!;
    const content = (n as { content?: (typeof c)[] }).content;
    if (content) for (let i = content.length - 1; i >= 0; i--) stack.push(content[i]);
    else yield n;
  }
}

export class NnDocumentSymbolProvider implements DocumentSymbolProvider {
  constructor(private readonly services: NnLensServices) {}

  getSymbols(document: LangiumDocument, _params: DocumentSymbolParams): DocumentSymbol[] {
    const root = document.parseResult.value;
    if (!ast.isProgram(root)) return [];
    const out: DocumentSymbol[] = [];
    const cache = this.services.analysis.Cache;
    const sym = (
      node: AstNode & { name?: string },
      name: string | undefined,
      kind: SymbolKind,
      detail?: string,
      children?: DocumentSymbol[],
    ): DocumentSymbol | undefined => {
      const range = rangeOf(node);
      if (!name || !range) return undefined;
      const selectionRange = nameRange(node) ?? range;
      return { name, kind, range, selectionRange, ...(detail ? { detail } : {}), ...(children?.length ? { children } : {}) };
    };
    const shapeOf = (n: AstNode) => {
      const s = cache.shapeOf(n)?.shape;
      return s ? fmtShape(s) : undefined;
    };
    for (const d of root.declarations) {
      let s: DocumentSymbol | undefined;
      if (ast.isConstDecl(d)) {
        const v = cache.shapeOf(d)?.value;
        s = sym(d, d.name, SymbolKind.Constant, v !== undefined ? `= ${v}` : undefined);
      } else if (ast.isFunctionDecl(d)) {
        s = sym(d, d.name, SymbolKind.Function, `(${d.params.map((p) => p.name).join(', ')})`);
      } else if (ast.isDataDecl(d)) {
        s = sym(d, d.name, SymbolKind.Variable, 'data');
      } else if (ast.isModelDecl(d)) {
        s = sym(d, d.name, SymbolKind.Class, this.modelDetail(d), this.members(d, sym, shapeOf));
      } else if (ast.isTrainDecl(d) || ast.isCheckDecl(d)) {
        const what = ast.isTrainDecl(d) ? 'train' : 'check';
        const name = `${what} ${d.model?.$refText ?? '?'} on ${d.data?.$refText ?? '?'}`;
        const range = rangeOf(d);
        if (range) s = { name, kind: SymbolKind.Event, range, selectionRange: range };
      }
      if (s) out.push(s);
    }
    return out;
  }

  private modelDetail(m: ast.ModelDecl): string | undefined {
    const n = this.services.analysis.Cache.tryModel(m)?.paramElements ?? NaN;
    return Number.isFinite(n) ? `${count(n)} params` : undefined;
  }

  private members(
    m: ast.ModelDecl,
    sym: (n: AstNode & { name?: string }, name: string | undefined, kind: SymbolKind, detail?: string, children?: DocumentSymbol[]) => DocumentSymbol | undefined,
    shapeOf: (n: AstNode) => string | undefined,
  ): DocumentSymbol[] {
    const out: DocumentSymbol[] = [];
    const analysis = this.services.analysis.Cache.tryModel(m);
    for (const x of m.members) {
      let s: DocumentSymbol | undefined;
      if (ast.isInputDecl(x)) s = sym(x, x.name, SymbolKind.Variable, `input ${shapeOf(x) ?? ''}`.trim());
      else if (ast.isTargetDecl(x)) s = sym(x, x.name, SymbolKind.Variable, `target ${shapeOf(x) ?? ''}`.trim());
      else if (ast.isParamDecl(x)) s = sym(x, x.name, SymbolKind.Field, `param ${shapeOf(x) ?? ''}`.trim());
      else if (ast.isValueDecl(x) || ast.isLossDecl(x)) {
        const d = analysis?.dense.get(x);
        const range = rangeOf(d?.call);
        const children: DocumentSymbol[] =
          d && range
            ? [
                { name: `${x.name}.W`, kind: SymbolKind.Field, detail: `param ${fmtShape(d.W)}`, range, selectionRange: range },
                { name: `${x.name}.b`, kind: SymbolKind.Field, detail: `param ${fmtShape(d.b)}`, range, selectionRange: range },
              ]
            : [];
        const kind = ast.isLossDecl(x) ? 'loss ' : '';
        s = sym(x, x.name, SymbolKind.Variable, `${kind}${shapeOf(x) ?? ''}`.trim() || undefined, children);
      } else if (ast.isBackwardBlock(x)) {
        const range = rangeOf(x);
        const lines: DocumentSymbol[] = [];
        for (const l of x.lines) {
          const r = rangeOf(l);
          if (!r) continue;
          const t = `${l.target?.$refText ?? '?'}${l.member ? `.${l.member}` : ''}`;
          lines.push({ name: `grad ${t}`, kind: SymbolKind.Operator, range: r, selectionRange: r });
        }
        if (range) s = { name: 'backward', kind: SymbolKind.Namespace, range, selectionRange: range, ...(lines.length ? { children: lines } : {}) };
      }
      if (s) out.push(s);
    }
    return out;
  }
}
