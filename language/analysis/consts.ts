/**
 * Compile-time numbers: `const` declarations (their values and cycles) and every expression
 * that must be a number — dimensions, exponents, `dense` sizes, `leaky_relu`'s alpha, arguments
 * of initializers and data sources. Arithmetic on numbers follows the op catalog (the same code
 * the kernels run).
 */
import type { AstNode } from 'langium';
import { AstUtils } from 'langium';
import { evalScalar, infix, isScalarEntry } from '../../engine/ops/index';
import { err, ok, type Result } from '../../engine/result';
import { Codes, type Code } from '../../engine/codes';
import { findCycles } from '../cycles';
import * as ast from '../generated/ast';
import { calleeName, kindOf, refName, type Issue } from './ast-helpers';

/** Why an expression is not a compile-time number. */
export interface ConstFailure {
  /** Where to report it; undefined: the failure was reported elsewhere (unknown name, a broken const). */
  readonly node?: AstNode;
  readonly reason?: string;
  readonly code?: Code;
}

export type ConstResult = Result<number, ConstFailure>;

/** An issue for a failed compile-time number, prefixed by what needed it. */
export function constIssue(failure: ConstFailure, what: string): Issue {
  return {
    severity: 'error',
    code: failure.code ?? Codes.NotConstant,
    message: `${what}: ${failure.reason ?? 'not a compile-time number'}`,
    node: failure.node as AstNode,
  };
}

const REPORTED = err<ConstFailure>({});

/** The consts of a document, evaluated once each; the base of `DocumentAnalysis`. */
export class ConstAnalysis {
  /** Issues of const declarations (their values and cycles). */
  readonly constIssues: Issue[] = [];
  private readonly consts = new Map<ast.ConstDecl, ConstResult>();
  private readonly constsInProgress = new Set<ast.ConstDecl>();

  constructor(readonly program: ast.Program) {
    const consts = program.declarations.filter(ast.isConstDecl);
    const refsOf = (c: ast.ConstDecl) => (c.value ? AstUtils.streamAst(c.value).filter(ast.isRef).toArray() : []);
    const edges = (c: ast.ConstDecl) =>
      refsOf(c)
        .map((r) => r.target?.ref)
        .filter(ast.isConstDecl);
    const cycles = findCycles(consts, edges);
    for (const c of consts) {
      for (const r of refsOf(c)) {
        const t = r.target?.ref;
        if (ast.isConstDecl(t) && cycles.inCycle(c, t)) {
          const path = cycles.path(c, t).map((d) => d.name);
          this.constIssues.push({
            severity: 'error',
            code: Codes.Cycle,
            message: `const '${c.name}' depends on itself: ${path.join(' → ')}`,
            node: r,
          });
        }
      }
    }
    for (const c of consts) {
      const res = this.constOf(c);
      if (!res.ok && res.error.node) this.constIssues.push(constIssue(res.error, `const '${c.name}' must be a number`));
    }
  }

  /** The value of a const declaration. */
  constOf(decl: ast.ConstDecl): ConstResult {
    const known = this.consts.get(decl);
    if (known) return known;
    if (this.constsInProgress.has(decl) || !decl.value) return REPORTED;
    this.constsInProgress.add(decl);
    const res = this.evalConst(decl.value);
    this.constsInProgress.delete(decl);
    this.consts.set(decl, res);
    return res;
  }

  /** Evaluates a compile-time number. */
  evalConst(e: ast.Expression | undefined): ConstResult {
    if (!e) return REPORTED;
    const finite = (v: number, node: AstNode): ConstResult =>
      Number.isFinite(v) ? ok(v) : err({ node, code: Codes.InvalidNumber, reason: `the value is not a finite number (${v})` });
    if (ast.isNumberLit(e)) return finite(e.value, e);
    if (ast.isNegExpr(e)) {
      const a = this.evalConst(e.operand);
      return a.ok ? ok(-a.value) : a;
    }
    if (ast.isBinaryExpr(e)) {
      const op = infix(e.op);
      if (!op || !isScalarEntry(op)) {
        const verb = op?.syntax.kind === 'infix' ? op.syntax.verb : e.op;
        return err({ node: e, reason: `${verb} ${e.op} is not an operation on numbers` });
      }
      const a = this.evalConst(e.left);
      if (!a.ok) return a;
      const b = this.evalConst(e.right);
      if (!b.ok) return b;
      return finite(evalScalar(op, [a.value, b.value]), e);
    }
    if (ast.isPowExpr(e)) {
      const a = this.evalConst(e.base);
      if (!a.ok) return a;
      const b = this.evalConst(e.exponent);
      if (!b.ok) return b;
      return finite(Math.pow(a.value, b.value), e);
    }
    if (ast.isRef(e)) {
      const t = e.target?.ref;
      if (!t) return REPORTED;
      if (ast.isConstDecl(t) && e.member === undefined) {
        const r = this.constOf(t);
        return r.ok ? r : REPORTED;
      }
      return err({ node: e, reason: `'${refName(e)}' is ${kindOf(t)}, not a const` });
    }
    if (ast.isCall(e)) return err({ node: e, reason: `a call of '${calleeName(e)}' is not a number` });
    if (ast.isStringLit(e)) return err({ node: e, code: Codes.TypeError, reason: 'a string is not a number' });
    if (ast.isBoolLit(e)) return err({ node: e, code: Codes.TypeError, reason: 'a boolean is not a number' });
    if (ast.isGradRef(e)) return err({ node: e, reason: `'grad ${refName(e)}' is not a number` });
    return REPORTED;
  }
}
