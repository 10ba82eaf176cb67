/**
 * Helpers over the AST that every part of the analysis (and lowering, configuration, the
 * language server) uses: names of references and calls, what a symbol is, compile-time
 * expressions, and binding call arguments to parameter names.
 */
import type { AstNode } from 'langium';
import { AstUtils } from 'langium';
import { infix } from '../../engine/ops/index';
import { Codes, type Code } from '../../engine/codes';
import * as ast from '../generated/ast';

export interface Issue {
  severity: 'error' | 'warning';
  code: Code;
  message: string;
  node: AstNode;
  property?: string;
  index?: number;
}

export type NamedValue = ast.ValueDecl | ast.LossDecl;
export type TensorDecl = ast.InputDecl | ast.TargetDecl | ast.ParamDecl;

export const fmtCount = (n: number): string =>
  Number.isFinite(n) && n < 1e21 ? Math.round(n).toLocaleString('en-US') : n.toExponential(2);

export function refName(r: ast.Ref | ast.GradRef | ast.BackwardLine): string {
  const base = r.target?.$refText ?? '';
  return r.member !== undefined ? `${base}.${r.member}` : base;
}

export function describeSymbol(n: AstNode | undefined): string {
  if (ast.isInputDecl(n)) return `input '${n.name}'`;
  if (ast.isTargetDecl(n)) return `target '${n.name}'`;
  if (ast.isParamDecl(n)) return `param '${n.name}'`;
  if (ast.isValueDecl(n)) return `value '${n.name}'`;
  if (ast.isLossDecl(n)) return `loss '${n.name}'`;
  if (ast.isConstDecl(n)) return `const '${n.name}'`;
  if (ast.isFunctionDecl(n)) return `function '${n.name}'`;
  if (ast.isFunctionParam(n)) return `argument '${n.name}'`;
  return 'this';
}

/** The name a call is written with (`f` in `f(x)`). */
export function calleeName(c: ast.Call): string {
  return c.callee?.target?.$refText ?? '';
}

/** The user function a call calls, if it calls one. */
export function calleeFn(c: ast.Call): ast.FunctionDecl | undefined {
  const t = c.callee?.target?.ref;
  return c.callee?.member === undefined && ast.isFunctionDecl(t) ? t : undefined;
}

/** An issue when a call's name is declared but is not a function (`x(1)` with x an input). */
export function notCallable(c: ast.Call): Issue | undefined {
  const t = c.callee?.target?.ref;
  if (!c.callee || (t === undefined && c.callee.member === undefined) || (ast.isFunctionDecl(t) && c.callee.member === undefined)) {
    return undefined;
  }
  const what = c.callee.member !== undefined ? `'${refName(c.callee)}' is a param` : `'${refName(c.callee)}' is ${kindOf(t)}`;
  return { severity: 'error', code: Codes.TypeError, message: `${what}, not a function`, node: c, property: 'callee' };
}

/** "an input", "a param", … */
export function kindOf(n: AstNode | undefined): string {
  if (ast.isInputDecl(n)) return 'an input';
  if (ast.isTargetDecl(n)) return 'a target';
  if (ast.isParamDecl(n)) return 'a param';
  if (ast.isValueDecl(n)) return 'a named value';
  if (ast.isLossDecl(n)) return 'the loss';
  if (ast.isFunctionDecl(n)) return 'a function';
  if (ast.isFunctionParam(n)) return 'a function argument';
  return 'not a number';
}

/** A compile-time constant number: numbers, consts, elementwise operators (+ - * /), ^ and unary minus. */
export function isConstExpr(e: AstNode): boolean {
  if (ast.isNumberLit(e)) return true;
  if (ast.isNegExpr(e)) return isConstExpr(e.operand);
  if (ast.isBinaryExpr(e)) return infix(e.op)?.scalar !== undefined && isConstExpr(e.left) && isConstExpr(e.right);
  if (ast.isPowExpr(e)) return isConstExpr(e.base) && isConstExpr(e.exponent);
  if (ast.isRef(e)) return e.member === undefined && ast.isConstDecl(e.target?.ref);
  return false;
}

/** The calls in a function's body and grad lines. */
/**
 * The calls in a function's body: the function's value. A call in a grad line needs only the
 * callee's value (its body), so recursion is a cycle of bodies (§9: `grad z = mysig(z) * …`
 * inside `function mysig` is its value, not a recursion).
 */
export function bodyCallsOf(fn: ast.FunctionDecl): ast.Call[] {
  return fn.body ? AstUtils.streamAst(fn.body).filter(ast.isCall).toArray() : [];
}

export function callsOf(fn: ast.FunctionDecl): ast.Call[] {
  const exprs: AstNode[] = [];
  if (fn.body) exprs.push(fn.body);
  for (const g of fn.grads) if (g.expr) exprs.push(g.expr);
  return exprs.flatMap((e) => AstUtils.streamAst(e).filter(ast.isCall).toArray());
}

/** Binds positional and named arguments to parameter names. */

export function bindArgs(
  args: readonly ast.Argument[],
  params: readonly string[],
  required: number,
  what: string,
  codes: { count: Code; unknown: Code; missing?: Code },
  container: AstNode,
): { bound: (ast.Argument | undefined)[]; issues: Issue[] } {
  const bound: (ast.Argument | undefined)[] = new Array(params.length).fill(undefined);
  const issues: Issue[] = [];
  let positional = 0;
  let sawNamed = false;
  for (const a of args) {
    if (a.name === undefined) {
      if (sawNamed) {
        issues.push({
          severity: 'error',
          code: codes.count,
          message: `${what}: a positional argument cannot follow a named one`,
          node: a,
        });
        continue;
      }
      if (positional >= params.length) {
        issues.push({
          severity: 'error',
          code: codes.count,
          message: `${what} takes ${arityText(params.length, required)}, got ${args.length}`,
          node: a,
        });
        positional++;
        continue;
      }
      bound[positional++] = a;
    } else {
      sawNamed = true;
      const i = params.indexOf(a.name);
      if (i < 0) {
        issues.push({
          severity: 'error',
          code: codes.unknown,
          message:
            `${what} has no argument '${a.name}'` +
            (params.length ? `; its arguments are ${params.join(', ')}` : '; it takes no arguments'),
          node: a,
          property: 'name',
        });
      } else if (bound[i]) {
        issues.push({
          severity: 'error',
          code: codes.count,
          message: `${what}: argument '${a.name}' is given twice`,
          node: a,
          property: 'name',
        });
      } else {
        bound[i] = a;
      }
    }
  }
  const missing = params.filter((_p, i) => i < required && !bound[i]);
  if (missing.length > 0 && issues.length === 0) {
    issues.push({
      severity: 'error',
      code: codes.missing ?? codes.count,
      message: `${what} takes ${arityText(params.length, required)}, got ${args.length} (missing ${missing.join(', ')})`,
      node: container,
    });
  }
  return { bound, issues };
}

function arityText(max: number, min: number): string {
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (max === min) return n(max);
  return `${min} to ${n(max)}`;
}
