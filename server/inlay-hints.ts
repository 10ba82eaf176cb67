/**
 * Inlay hints: the per-example shape after each named value (`z1 = W1 @ x + b1  : [30]`), and
 * parameter counts after each `param`, each `dense(…)` and each model's opening line. Each kind
 * can be turned off (`nnlens.inlayHints.shapes`, `nnlens.inlayHints.paramCounts`).
 */
import type { AstNode, LangiumDocument } from 'langium';
import type { InlayHintProvider } from 'langium/lsp';
import { InlayHintKind, type InlayHint, type InlayHintParams, type Position } from 'vscode-languageserver';
import { fmtShape, NnAst as ast, sizeOf } from '../language';
import { count } from './markup';
import type { NnLensServices } from './module';

function end(n: AstNode | undefined): Position | undefined {
  return n?.$cstNode?.range.end;
}

function inRange(p: Position, r: InlayHintParams['range']): boolean {
  const after = (a: Position, b: Position) => a.line > b.line || (a.line === b.line && a.character >= b.character);
  return after(p, r.start) && after(r.end, p);
}

const params = (n: number) => `${count(n)} param${n === 1 ? '' : 's'}`;

export class NnInlayHintProvider implements InlayHintProvider {
  constructor(private readonly services: NnLensServices) {}

  getInlayHints(document: LangiumDocument, params: InlayHintParams): InlayHint[] {
    return this.allHints(document).filter((h) => inRange(h.position, params.range));
  }

  /** Every hint of the document, in document order (also used to notice when they change). */
  allHints(document: LangiumDocument): InlayHint[] {
    const root = document.parseResult.value;
    if (!ast.isProgram(root)) return [];
    const settings = this.services.lens.Settings.settings.inlayHints;
    if (!settings.shapes && !settings.paramCounts) return [];
    const cache = this.services.analysis.Cache;
    const out: InlayHint[] = [];
    const shapeHint = (position: Position | undefined, shape: number[] | undefined) => {
      if (position && shape && settings.shapes) {
        out.push({ position, label: `: ${fmtShape(shape)}`, kind: InlayHintKind.Type, paddingLeft: true });
      }
    };
    const countHint = (position: Position | undefined, n: number, tooltip: string) => {
      if (position && settings.paramCounts && Number.isFinite(n)) {
        out.push({ position, label: params(n), paddingLeft: true, tooltip });
      }
    };
    for (const model of root.declarations.filter(ast.isModelDecl)) {
      if (!model.name) continue;
      const analysis = cache.tryModel(model);
      if (!analysis) continue;
      const brace = model.$cstNode?.text.indexOf('{') ?? -1;
      if (brace >= 0 && model.$cstNode) {
        const pos = document.textDocument.positionAt(model.$cstNode.offset + brace + 1);
        countHint(pos, analysis.paramElements, `model ${model.name}: every param, dense layers included`);
      }
      for (const m of model.members) {
        if (ast.isParamDecl(m)) {
          const s = analysis.declShapes.get(m);
          if (s) countHint(end(m), sizeOf(s), `param ${m.name}: ${fmtShape(s)}`);
        } else if (ast.isValueDecl(m) || ast.isLossDecl(m)) {
          const info = cache.shapeOf(m);
          const d = analysis.dense.get(m);
          const exprEnd = end(m.expr);
          if (d) {
            const callEnd = end(d.call);
            const sameSpot = callEnd && exprEnd && callEnd.line === exprEnd.line && callEnd.character === exprEnd.character;
            if (!sameSpot) shapeHint(callEnd, [d.units]);
            if (sameSpot) shapeHint(exprEnd, info?.shape);
            countHint(
              callEnd,
              d.W[0] * d.W[1] + d.b[0],
              `${m.name}.W: ${fmtShape(d.W)} and ${m.name}.b: ${fmtShape(d.b)}`,
            );
            if (!sameSpot) shapeHint(exprEnd, info?.shape);
          } else {
            shapeHint(exprEnd, info?.shape);
          }
        }
      }
    }
    return out;
  }

  /** A signature of every hint (text and line), to notice changes that affect other lines. */
  signature(document: LangiumDocument): string {
    return this.allHints(document)
      .map((h) => `${h.position.line}:${typeof h.label === 'string' ? h.label : ''}`)
      .join('|');
  }
}
