/**
 * Quick fixes for shape errors, and the full gradient check as a source action.
 *
 * - `A @ B` that does not fit: use `transpose(A)` (or `transpose(B)`) when that fits — in the
 *   forward pass and in `backward` — or set a param's declared size to the one the other operand
 *   needs.
 * - Elementwise operands that do not broadcast: set a param's declared size to the other
 *   operand's shape.
 * - `grad X = …` with the transposed shape of X: wrap the line in `transpose(…)`.
 * - `train M on D` whose data does not fit the input or target: set their sizes to the data's.
 * - Columns where vectors are meant (§9: `column-vector`, `broadcast-column`, a cross_entropy of a
 *   column): declare the `[n, 1]` inputs, targets and params responsible as `[n]`; `W * x` where
 *   `@` fits (`elementwise-matmul`): use `@`.
 *
 * An input's or target's shape is fixed by the data (and the lecture's conventions), never
 * changed to fit a value computed from it: a wrong value would pass and keep its bug.
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
import { columnDecls } from '../language/analysis/conventions';
import { describeDecl } from '../language/validation/data';
import { CATALOG } from '../engine/ops/index';
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

/** The param an operand names: the only declarations a shape error's fix may resize. */
function paramOf(e: AstNode | undefined): ast.ParamDecl | undefined {
  if (ast.isRef(e) && e.member === undefined) {
    const t = e.target?.ref;
    if (ast.isParamDecl(t)) return t;
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
    if (d.code === 'column-vector' || d.code === 'broadcast-column') return this.columnFixes(document, d);
    if (d.code === 'elementwise-matmul') return this.matmulFix(document, d);
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
        return out;
      }
      // else the line's own expression breaks a rule (e.g. `W2 @ grad z2`): the fixes below
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
        const left = paramOf(node.left);
        if (left && kb !== undefined && a.length >= 1) {
          const want = [...a];
          want[a.length - 1] = kb;
          out.push(...this.resize(document, d, left, want, `to fit ${text(node.right)}: ${fmtShape(b)}`));
        }
        const right = paramOf(node.right);
        if (right && ka !== undefined && b.length >= 1) {
          const want = [...b];
          want[0] = ka;
          out.push(...this.resize(document, d, right, want, `to fit ${text(node.left)}: ${fmtShape(a)}`));
        }
      } else if (!broadcastShapes(a, b)) {
        const left = paramOf(node.left);
        const right = paramOf(node.right);
        if (right) out.push(...this.resize(document, d, right, a, `to match ${text(node.left)}: ${fmtShape(a)}`));
        if (left) out.push(...this.resize(document, d, left, b, `to match ${text(node.right)}: ${fmtShape(b)}`));
      }
      return out;
    }
    if (ast.isCall(node)) {
      // a loss whose operands do not fit: never resize the target to the value (the value is
      // what is wrong); a cross_entropy of columns: declare them as vectors
      const name = node.callee?.target?.$refText ?? '';
      if (name === 'cross_entropy') return this.columnFixes(document, d, node);
    }
    return out;
  }

  /** Declare the `[n, 1]` declarations responsible as vectors `[n]` (and, second, every column of the model). */
  private columnFixes(document: LangiumDocument, d: Diagnostic, at?: AstNode): CodeAction[] {
    const node = at ?? nodeAt(document, d.range);
    if (!node) return [];
    const cache = this.services.analysis.Cache;
    const declShape = (x: ast.ParamDecl | ast.InputDecl | ast.TargetDecl) => cache.shapeOf(x)?.shape ?? null;
    const scope = ast.isBinaryExpr(node) ? (this.shape(node.left)?.length === 2 ? node.left : node.right) : node;
    const mine = scope ? columnDecls(scope, declShape) : [];
    const model = AstUtils.getContainerOfType(node, ast.isModelDecl);
    const isColumn = (s: Shape | null) => !!s && s.length === 2 && s[1] === 1 && s[0] > 1;
    const all = (model?.members ?? []).filter(
      (m): m is Declared => (ast.isParamDecl(m) || ast.isInputDecl(m) || ast.isTargetDecl(m)) && isColumn(declShape(m)),
    );
    const out: CodeAction[] = [];
    const fix = (decls: Declared[], title: string, preferred: boolean) => {
      const edits: TextEdit[] = [];
      for (const x of decls) {
        const s = declShape(x);
        if (x.shape?.$cstNode && s) edits.push({ range: x.shape.$cstNode.range, newText: fmtShape([s[0]]) });
      }
      if (edits.length) out.push({ title, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: preferred, edit: { changes: { [document.uri.toString()]: edits } } });
    };
    const list = (decls: Declared[]) => decls.map((x) => `${x.name}: ${fmtShape([declShape(x)![0]])}`).join(', ');
    if (mine.length) fix(mine, `Use vectors [n], not columns [n, 1]: declare ${list(mine)}`, true);
    if (all.length > mine.length) fix(all, `Declare every column of ${model?.name ?? 'the model'} as a vector: ${list(all)}`, mine.length === 0);
    return out;
  }

  /** `W * x` where `W @ x` fits: use `@` (the matrix first). */
  private matmulFix(document: LangiumDocument, d: Diagnostic): CodeAction[] {
    const node = nodeAt(document, d.range);
    const e = node && (ast.isBinaryExpr(node) ? node : AstUtils.getContainerOfType(node, ast.isBinaryExpr));
    if (!e || e.op !== '*' || !e.$cstNode || !e.left?.$cstNode || !e.right?.$cstNode) return [];
    const a = this.shape(e.left);
    const [m, v] = a && a.length === 2 ? [e.left, e.right] : [e.right, e.left];
    const newText = `${m.$cstNode!.text} @ ${v.$cstNode!.text}`;
    return [
      {
        title: `Use the matrix product: ${newText}`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        edit: { changes: { [document.uri.toString()]: [{ range: e.$cstNode.range, newText }] } },
      },
    ];
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
