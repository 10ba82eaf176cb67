/**
 * The lecture's drawings and the language's shapes (§9): the lecture draws vectors as columns,
 * but per-example vectors here are `[n]`, and `[n, 1]` is a matrix with one column. Shapes that
 * are legal but almost surely not meant get a warning on the operator that made them, where the
 * student made the mistake — not only where the shapes later clash:
 *
 * - `column-vector`: softmax, log_softmax or cross_entropy over a last axis of size 1 (every
 *   value 1, every gradient 0), or max over a column;
 * - `elementwise-matmul`: `W * x`, a matrix times a vector elementwise, where `W @ x` fits;
 * - `broadcast-column`: `a + b` (any elementwise operator) broadcasting a vector `[n]` and a
 *   column `[m, 1]` into a matrix `[m, n]`.
 *
 * The editor's quick fixes (server/code-actions.ts) read `columnDecls` and the operator.
 */
import type { AstNode } from 'langium';
import { AstUtils } from 'langium';
import { CATALOG } from '../../engine/ops/index';
import { fmtShape } from '../../engine/shape';
import type { Shape } from '../../engine/ir';
import { Codes } from '../../engine/codes';
import * as ast from '../generated/ast';
import type { Issue, TensorDecl } from './ast-helpers';

/** Ops that work over the last axis (and, for max, reduce a column that should be a vector). */
const OVER_LAST_AXIS = new Set(['softmax', 'log_softmax', 'cross_entropy', 'max']);

const isColumn = (s: Shape | null | undefined): s is Shape => !!s && s.length === 2 && s[1] === 1 && s[0] > 1;

/**
 * The inputs, targets and params declared as columns `[n, 1]` that flow into `e` (through named
 * values of the forward pass), in the order they appear: the declarations a fix toward `[n]`
 * changes.
 */
export function columnDecls(e: AstNode, declShape: (d: TensorDecl) => Shape | null): TensorDecl[] {
  const out: TensorDecl[] = [];
  const seen = new Set<AstNode>();
  const visit = (n: AstNode) => {
    for (const r of AstUtils.streamAst(n).filter(ast.isRef)) {
      const t = r.target?.ref;
      if (!t || seen.has(t) || r.member !== undefined) continue;
      seen.add(t);
      if (ast.isInputDecl(t) || ast.isTargetDecl(t) || ast.isParamDecl(t)) {
        if (isColumn(declShape(t))) out.push(t);
      } else if ((ast.isValueDecl(t) || ast.isLossDecl(t)) && t.expr) visit(t.expr);
    }
  };
  visit(e);
  return out;
}

/** `x: [4]`, `b: [3]`: what the declarations become as vectors. */
function asVectors(decls: readonly TensorDecl[], declShape: (d: TensorDecl) => Shape | null): string {
  return decls.map((d) => `${d.name}: ${fmtShape([declShape(d)![0]])}`).join(' and ');
}

/** A warning for a call of softmax, log_softmax, cross_entropy or max over a last axis of size 1. */
export function lastAxisIssue(
  call: ast.Call,
  name: string,
  args: readonly Shape[],
  declShape: (d: TensorDecl) => Shape | null,
): Issue | undefined {
  if (!OVER_LAST_AXIS.has(name) || args.length === 0) return undefined;
  const a = args[0];
  if (a.length === 0 || a[a.length - 1] !== 1) return undefined;
  // max reduces every axis: only a column is suspicious; cross_entropy of a column is already
  // an error of its shape rule ([k], [k])
  if (name === 'max' && !isColumn(a)) return undefined;
  if (name === 'cross_entropy' && a.length !== 1) return undefined;
  const axis = `the last axis of ${fmtShape(a)}, which has size 1`;
  let message: string;
  if (name === 'max') {
    message = `max over ${fmtShape(a)}: ${axis}; ${fmtShape(a)} is a column (a matrix with one column), not a vector`;
  } else if (name === 'cross_entropy') {
    message =
      `cross_entropy over ${axis}: one class, so a softmax gives 1 and the loss is 0 whatever the weights; ` +
      'for a yes/no label use binary_cross_entropy, or one probability per class [k]';
  } else {
    message = `${name} over ${axis}: every value is ${name === 'softmax' ? '1' : '0'} and every gradient 0, so nothing trains`;
    if (a.length === 1) message += '; a softmax needs one entry per class';
  }
  const decls = columnDecls(call, declShape);
  if (isColumn(a)) {
    message += `. Per-example vectors are [n], not columns [n, 1]`;
    if (decls.length) message += `: declare ${asVectors(decls, declShape)}`;
  }
  return { severity: 'warning', code: Codes.ColumnVector, message, node: call };
}

/**
 * A warning for an elementwise operator: `W * x` where `W @ x` fits, or a vector and a column
 * broadcast into a matrix. `out` is the broadcast result.
 */
export function operatorIssue(
  e: ast.BinaryExpr,
  a: Shape,
  b: Shape,
  out: Shape,
  declShape: (d: TensorDecl) => Shape | null,
): Issue | undefined {
  const text = (n: AstNode | undefined) => n?.$cstNode?.text ?? '…';
  const matrixLeft = a.length === 2 && b.length === 1 && b[0] > 1 && CATALOG.matmul.shape([a, b]).ok;
  const matrixRight = b.length === 2 && a.length === 1 && a[0] > 1 && CATALOG.matmul.shape([b, a]).ok;
  if (e.op === '*' && (matrixLeft || matrixRight)) {
    const [m, v] = matrixLeft ? [e.left, e.right] : [e.right, e.left];
    const [ms, vs] = matrixLeft ? [a, b] : [b, a];
    return {
      severity: 'warning',
      code: Codes.ElementwiseMatmul,
      message:
        `elementwise \`*\` of a matrix and a vector gives ${fmtShape(out)}; did you mean \`${text(m)} @ ${text(v)}\`? ` +
        `(${fmtShape(ms)} @ ${fmtShape(vs)} -> ${fmtShape([ms[0]])}; * multiplies elementwise with NumPy broadcasting, @ is the matrix product)`,
      node: e,
      property: 'op',
    };
  }
  const vec = (s: Shape) => s.length === 1 && s[0] > 1;
  if ((vec(a) && isColumn(b)) || (isColumn(a) && vec(b))) {
    const column = isColumn(a) ? e.left : e.right;
    const decls = column ? columnDecls(column, declShape) : [];
    const fix = decls.length ? `: declare ${asVectors(decls, declShape)}` : '';
    return {
      severity: 'warning',
      code: Codes.BroadcastColumn,
      message:
        `${fmtShape(a)} ${e.op} ${fmtShape(b)} broadcasts a vector and a column into a matrix ${fmtShape(out)}; ` +
        `per-example vectors are [n], and [n, 1] is a matrix with one column${fix}`,
      node: e,
      property: 'op',
    };
  }
  return undefined;
}
