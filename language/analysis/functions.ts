/**
 * User functions (§4): bodies and grad lines are elementwise over scalars — only ops of the
 * catalog with a scalar form, numbers, consts, the function's own arguments and other
 * functions; calls have the right arity; no recursion.
 */
import type { AstNode } from 'langium';
import { builtin, infix, isScalarEntry, paramNames, requiredParams } from '../../engine/ops/index';
import { Codes, type Code } from '../../engine/codes';
import * as ast from '../generated/ast';
import { bindArgs, calleeFn, calleeName, describeSymbol, notCallable, refName, type Issue } from './ast-helpers';
import { constIssue } from './consts';
import type { DocumentAnalysis } from './index';

export class FunctionAnalysis {
  readonly issues: Issue[] = [];
  /** Complete and free of errors (an incomplete expression is a syntax error reported elsewhere). */
  readonly ok: boolean;
  /** Checking a grad line: a call there is the callee's value, never a recursion (§9). */
  private inGradLine = false;

  constructor(
    readonly doc: DocumentAnalysis,
    readonly fn: ast.FunctionDecl,
  ) {
    let ok = !!fn.name && fn.params.every((p) => !!p.name) && this.check(fn.body);
    this.inGradLine = true;
    for (const g of fn.grads) ok = this.check(g.expr) && !!g.arg?.ref && ok;
    this.inGradLine = false;
    // Duplicate grad lines
    const seen = new Map<string, ast.FunctionGrad>();
    for (const g of fn.grads) {
      const name = g.arg?.$refText ?? '';
      if (!g.arg?.ref) continue;
      const first = seen.get(name);
      if (first) {
        this.issues.push({
          severity: 'error',
          code: Codes.DuplicateGrad,
          message: `function '${fn.name}' already has a grad line for '${name}'`,
          node: g,
          property: 'arg',
        });
      } else seen.set(name, g);
    }
    this.ok = ok && !this.issues.some((i) => i.severity === 'error');
  }

  private err(code: Code, message: string, node: AstNode, property?: string): false {
    this.issues.push({ severity: 'error', code, message, node, property });
    return false;
  }

  /** Checks an elementwise scalar expression; false when it has an error. */
  private check(e: ast.Expression | undefined): boolean {
    if (!e) return false;
    const fname = `function '${this.fn.name}'`;
    if (ast.isNumberLit(e)) {
      return Number.isFinite(e.value) || this.err(Codes.InvalidNumber, `${e.value} is not a finite number`, e);
    }
    if (ast.isStringLit(e) || ast.isBoolLit(e)) {
      return this.err(Codes.TypeError, `${fname}: a ${ast.isStringLit(e) ? 'string' : 'boolean'} is not a number`, e);
    }
    if (ast.isNegExpr(e)) return this.check(e.operand);
    if (ast.isBinaryExpr(e)) {
      const op = infix(e.op);
      if (!op || !isScalarEntry(op)) {
        const verb = op?.syntax.kind === 'infix' ? op.syntax.verb : e.op;
        return this.err(
          Codes.FunctionNotElementwise,
          `${fname}: ${verb} ${e.op} is not elementwise; a function works on one scalar at a time ` +
            `(use ${e.op} in the model instead)`,
          e,
          'op',
        );
      }
      const a = this.check(e.left);
      const b = this.check(e.right);
      return a && b;
    }
    if (ast.isPowExpr(e)) {
      const ok = this.check(e.base);
      const p = this.doc.evalConst(e.exponent);
      if (!p.ok) {
        if (p.error.node) this.issues.push(constIssue(p.error, 'the exponent of ^ must be a compile-time number'));
        return false;
      }
      return ok;
    }
    if (ast.isRef(e)) {
      const t = e.target?.ref;
      if (!t) {
        if (builtin(e.target?.$refText ?? '')) {
          return this.err(Codes.NotAValue, `'${e.target?.$refText ?? ''}' is a function; call it: ${e.target?.$refText ?? ''}(x)`, e);
        }
        return false;
      }
      if (e.member !== undefined) {
        return this.err(Codes.UnknownMember, `'${refName(e)}': only a value defined with dense has .W and .b`, e);
      }
      if (ast.isFunctionParam(t)) {
        if (t.$container !== this.fn) return false;
        return true;
      }
      if (ast.isConstDecl(t)) return this.doc.constOf(t).ok;
      if (ast.isFunctionDecl(t)) {
        return this.err(Codes.NotAValue, `'${t.name}' is a function; call it: ${t.name}(x)`, e);
      }
      return this.err(Codes.UnknownName, `${fname} can only use its own arguments and consts, not ${describeSymbol(t)}`, e);
    }
    if (ast.isGradRef(e)) {
      return this.err(
        Codes.GradOutsideBackward,
        `'grad ${refName(e)}' can only be used inside a model's backward block`,
        e,
      );
    }
    if (ast.isCall(e)) {
      const argsOk = e.args.map((a) => (a.value ? this.check(a.value) : false)).every((x) => x);
      const callee = calleeFn(e);
      const name = calleeName(e);
      const notFn = notCallable(e);
      if (notFn) {
        this.issues.push(notFn);
        return false;
      }
      if (callee) {
        const cyc = this.doc.callCycles;
        if (!this.inGradLine && cyc.inCycle(this.fn, callee)) {
          const path = cyc.path(this.fn, callee).map((f) => f.name);
          return this.err(Codes.Cycle, `function '${this.fn.name}' calls itself: ${path.join(' → ')}`, e, 'callee');
        }
        const { issues } = bindArgs(
          e.args,
          callee.params.map((p) => p.name),
          callee.params.length,
          `function '${callee.name}'`,
          { count: Codes.Arity, unknown: Codes.Arity },
          e,
        );
        this.issues.push(...issues);
        return argsOk && issues.length === 0;
      }
      const b = builtin(name);
      if (!b) return false;
      if (!isScalarEntry(b)) {
        return this.err(
          Codes.FunctionNotElementwise,
          `${fname}: ${name} is not elementwise; a function works on one scalar at a time ` +
            `(call ${name} in the model instead)`,
          e,
          'callee',
        );
      }
      const { bound, issues } = bindArgs(e.args, paramNames(b), requiredParams(b), b.name, { count: Codes.Arity, unknown: Codes.Arity }, e);
      this.issues.push(...issues);
      if (issues.length > 0) return false;
      for (const [i, p] of b.params.entries()) {
        if (p.kind !== 'number') continue;
        const v = this.doc.evalConst(bound[i]?.value);
        if (!v.ok) {
          if (v.error.node) this.issues.push(constIssue(v.error, `${b.name}: ${p.name} must be a compile-time number`));
          return false;
        }
      }
      return argsOk;
    }
    return false;
  }
}
