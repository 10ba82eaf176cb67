/**
 * Quick fixes for shape errors, and the full gradient check as a source action.
 *
 * - `A @ B` that does not fit: use `transpose(A)` (or `transpose(B)`) when that fits; or set a
 *   declared size (a param's, an input's) to the one the other operand needs.
 * - Elementwise operands that do not broadcast, a loss whose target does not fit: set the declared
 *   size of the param, input or target to the other operand's shape.
 * - `grad X = …` with the transposed shape of X: wrap the line in `transpose(…)`.
 * - `train M on D` whose data does not fit the input or target: set their sizes to the data's.
 */
import { AstUtils, CstUtils, type AstNode, type LangiumDocument } from 'langium';
import type { CodeActionProvider } from 'langium/lsp';
import {
  CodeActionKind,
  type CodeAction,
  type CodeActionParams,
  type Command,
  type Diagnostic,
  type Range,
  type TextEdit,
} from 'vscode-languageserver';
import { fmtShape, NnAst as ast } from '../language';
import { describeDecl } from '../language/validation/data';
import { builtin, CATALOG, isNodeEntry } from '../engine/ops/index';
import { broadcastShapes, sameShape } from '../engine/shape';
import type { NnLensServices } from './module';
import { ClientCommands, type CheckGradientsCommandArgs } from './protocol';

type Shape = number[];
type Declared = ast.ParamDecl | ast.InputDecl | ast.TargetDecl;

const same = (a: Range, b: Range) =>
  a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;

/** The smallest AST node whose range is exactly `range` (or else the smallest that contains it). */
export function nodeAt(document: LangiumDocument, range: Range): AstNode | undefined {
  const root = document.parseResult.value.$cstNode;
  if (!root) return undefined;
  const start = document.textDocument.offsetAt(range.start);
  const end = document.textDocument.offsetAt(range.end);
  const leaf = CstUtils.findLeafNodeAtOffset(root, start);
  let n: AstNode | undefined = leaf?.astNode;
  let best: AstNode | undefined;
  while (n) {
    const c = n.$cstNode;
    if (c) {
      if (same(c.range, range)) return n;
      if (!best && c.offset <= start && c.end >= end) best = n;
    }
    n = n.$container;
  }
  return best;
}

function declOf(e: AstNode | undefined): Declared | undefined {
  if (ast.isRef(e) && e.member === undefined) {
    const t = e.target?.ref;
    if (ast.isParamDecl(t) || ast.isInputDecl(t) || ast.isTargetDecl(t)) return t;
  }
  return undefined;
}

export class NnCodeActionProvider implements CodeActionProvider {
  constructor(private readonly services: NnLensServices) {}

  getCodeActions(document: LangiumDocument, params: CodeActionParams): Array<Command | CodeAction> {
    const out: CodeAction[] = [];
    const only = params.context.only;
    const wants = (kind: string) => !only || only.some((k) => kind === k || kind.startsWith(`${k}.`));
    if (wants(CodeActionKind.QuickFix)) {
      // (on a half-typed document a fix that cannot be computed is simply not offered: the
      // analysis answers undefined there, never throws)
      for (const d of params.context.diagnostics) out.push(...this.fixes(document, d));
    }
    if (wants(CodeActionKind.Source)) {
      const node = nodeAt(document, params.range);
      const model = node ? AstUtils.getContainerOfType(node, ast.isModelDecl) : undefined;
      if (model?.name) {
        out.push({
          title: `Check every gradient of ${model.name} (full check)`,
          kind: CodeActionKind.Source,
          command: {
            title: 'Check gradients',
            command: ClientCommands.checkGradients,
            arguments: [document.uri.toString(), model.name] satisfies CheckGradientsCommandArgs,
          },
        });
      }
    }
    return out;
  }

  private shape(n: AstNode | undefined): Shape | undefined {
    return n ? this.services.analysis.Cache.shapeOf(n)?.shape : undefined;
  }

  private fixes(document: LangiumDocument, d: Diagnostic): CodeAction[] {
    if (d.code === 'data-shape-mismatch') return this.dataFixes(document, d);
    if (d.code !== 'shape-mismatch') return [];
    const node = nodeAt(document, d.range);
    if (!node) return [];
    const uri = document.uri.toString();
    const text = (n: AstNode) => n.$cstNode?.text ?? '';
    const action = (title: string, edits: TextEdit[], preferred = false): CodeAction => ({
      title,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: preferred,
      edit: { changes: { [uri]: edits } },
    });
    /** An action wrapping n in transpose(…), when n has text to wrap. */
    const transposeIt = (title: string, n: AstNode, preferred = false): CodeAction[] =>
      n.$cstNode ? [action(title, [{ range: n.$cstNode.range, newText: `transpose(${text(n)})` }], preferred)] : [];
    const out: CodeAction[] = [];

    // grad X = … with the transposed shape
    const line = AstUtils.getContainerOfType(node, ast.isBackwardLine);
    if (line?.expr && (node === line.expr || node === line)) {
      const target = this.shape(line.target?.ref && !line.member ? line.target.ref : undefined) ?? this.gradTargetShape(line);
      const got = this.shape(line.expr);
      if (target && got && got.length === 2 && target.length === 2 && got[0] === target[1] && got[1] === target[0]) {
        out.push(...transposeIt(`Transpose the line: transpose(${text(line.expr)})`, line.expr, true));
      }
      return out;
    }

    if (ast.isBinaryExpr(node)) {
      const a = this.shape(node.left);
      const b = this.shape(node.right);
      if (!a || !b) return out;
      if (node.op === '@') {
        if (a.length === 2 && CATALOG.matmul.shape([[a[1], a[0]], b]).ok) {
          out.push(...transposeIt(`Use transpose(${text(node.left)}): ${fmtShape([a[1], a[0]])} @ ${fmtShape(b)}`, node.left, true));
        }
        if (b.length === 2 && CATALOG.matmul.shape([a, [b[1], b[0]]]).ok) {
          out.push(...transposeIt(`Use transpose(${text(node.right)}): ${fmtShape(a)} @ ${fmtShape([b[1], b[0]])}`, node.right));
        }
        // set a declared size: the left's inner dimension to the right's, or the other way round
        const inner = (s: Shape) => (s.length === 2 ? s[1] : s.length === 1 ? s[0] : undefined);
        const outer = (s: Shape) => (s.length >= 1 ? s[0] : undefined);
        const kb = outer(b);
        const ka = inner(a);
        const left = declOf(node.left);
        if (left && kb !== undefined && a.length >= 1) {
          const want = [...a];
          want[a.length - 1] = kb;
          out.push(...this.resize(document, d, left, want, `to fit ${text(node.right)}: ${fmtShape(b)}`));
        }
        const right = declOf(node.right);
        if (right && ka !== undefined && b.length >= 1) {
          const want = [...b];
          want[0] = ka;
          out.push(...this.resize(document, d, right, want, `to fit ${text(node.left)}: ${fmtShape(a)}`));
        }
      } else if (!broadcastShapes(a, b)) {
        const left = declOf(node.left);
        const right = declOf(node.right);
        if (right) out.push(...this.resize(document, d, right, a, `to match ${text(node.left)}: ${fmtShape(a)}`));
        if (left) out.push(...this.resize(document, d, left, b, `to match ${text(node.right)}: ${fmtShape(b)}`));
      }
      return out;
    }
    if (ast.isCall(node)) {
      const name = node.callee?.target?.$refText ?? '';
      const op = builtin(name);
      if (op && isNodeEntry(op) && op.loss && node.args.length === 2) {
        const [y, t] = node.args.map((x) => x.value);
        const ys = this.shape(y);
        const ts = this.shape(t);
        if (ys && ts && !op.shape([ys, ts], {}).ok) {
          const td = declOf(t);
          if (td) out.push(...this.resize(document, d, td, ys, `to match ${text(y!)}: ${fmtShape(ys)}`));
        }
      }
    }
    return out;
  }

  private gradTargetShape(line: ast.BackwardLine): Shape | undefined {
    const t = line.target?.ref;
    if (!t || !line.member) return undefined;
    const dense = this.services.analysis.Cache.modelOf(line)?.dense.get(t as ast.ValueDecl);
    if (!dense) return undefined;
    return line.member === 'W' ? dense.W : line.member === 'b' ? dense.b : undefined;
  }

  /** Edits that set a declaration's shape to `want`, changing only the dimensions that differ. */
  private resize(document: LangiumDocument, d: Diagnostic, decl: Declared, want: Shape, why: string): CodeAction[] {
    const spec = decl.shape;
    const have = this.shape(decl);
    if (!spec?.$cstNode || !have || sameShape(have, want)) return [];
    const edits: TextEdit[] = [];
    if (spec.dims.length === want.length) {
      spec.dims.forEach((dim, i) => {
        if (have[i] !== want[i] && dim.$cstNode) edits.push({ range: dim.$cstNode.range, newText: String(want[i]) });
      });
    } else {
      edits.push({ range: spec.$cstNode.range, newText: fmtShape(want) });
    }
    if (edits.length === 0) return [];
    const kind = ast.isParamDecl(decl) ? 'param' : ast.isInputDecl(decl) ? 'input' : 'target';
    return [
      {
        title: `Set ${kind} ${decl.name}'s shape to ${fmtShape(want)} (${why})`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        edit: { changes: { [document.uri.toString()]: edits } },
      },
    ];
  }

  private dataFixes(document: LangiumDocument, d: Diagnostic): CodeAction[] {
    const node = nodeAt(document, d.range);
    const train = node ? AstUtils.getContainerOfType(node, (n): n is ast.TrainDecl | ast.CheckDecl => ast.isTrainDecl(n) || ast.isCheckDecl(n)) : undefined;
    const model = train?.model?.ref;
    const data = train?.data?.ref;
    if (!model || !data) return [];
    const r = describeDecl(this.services.analysis.Cache, this.services.analysis.DataContext, data);
    if (!r.ok) return [];
    const out: CodeAction[] = [];
    const input = model.members.filter(ast.isInputDecl);
    const target = model.members.filter(ast.isTargetDecl);
    if (input.length === 1) out.push(...this.resize(document, d, input[0], r.info.xShape, `the features of ${data.name}`));
    if (target.length === 1) out.push(...this.resize(document, d, target[0], r.info.yShape, `the labels of ${data.name}`));
    return out;
  }
}
