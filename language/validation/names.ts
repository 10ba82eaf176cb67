/**
 * Names: unique per file at the top level, unique per model and per function, and never the
 * name of a built-in function. (Unknown names are linking errors, see document-validator.ts;
 * orderings and cycles come from the analysis.)
 */
import type { AstNode, ValidationAcceptor } from 'langium';
import { builtinFunction } from '../builtins';
import { Codes } from '../../engine/codes';
import * as ast from '../generated/ast';

type Named = AstNode & { name: string };

const lineOf = (n: AstNode) => (n.$cstNode?.range.start.line ?? 0) + 1;

function kindOf(n: AstNode): string {
  if (ast.isConstDecl(n)) return 'const';
  if (ast.isFunctionDecl(n)) return 'function';
  if (ast.isDataDecl(n)) return 'data';
  if (ast.isModelDecl(n)) return 'model';
  if (ast.isInputDecl(n)) return 'input';
  if (ast.isTargetDecl(n)) return 'target';
  if (ast.isParamDecl(n)) return 'param';
  if (ast.isLossDecl(n)) return 'loss';
  if (ast.isFunctionParam(n)) return 'argument';
  return 'value';
}

function checkBuiltin(n: Named, accept: ValidationAcceptor): boolean {
  if (n.name && builtinFunction(n.name)) {
    accept('error', `'${n.name}' is the name of a built-in function; choose another name`, {
      node: n,
      property: 'name' as never,
      code: Codes.DuplicateName,
    });
    return true;
  }
  return false;
}

/** Duplicates within a list; `outer` holds names visible around it (top-level consts, functions). */
function checkUnique(items: readonly Named[], accept: ValidationAcceptor, outer?: Map<string, Named>, where = ''): void {
  const seen = new Map<string, Named>();
  for (const n of items) {
    if (!n.name) continue;
    if (checkBuiltin(n, accept)) continue;
    const first = seen.get(n.name);
    if (first) {
      accept('error', `'${n.name}' is already declared${where} (${kindOf(first)} on line ${lineOf(first)})`, {
        node: n,
        property: 'name' as never,
        code: Codes.DuplicateName,
      });
      continue;
    }
    seen.set(n.name, n);
    const o = outer?.get(n.name);
    if (o) {
      accept(
        'error',
        `'${n.name}' is already a top-level ${kindOf(o)} (line ${lineOf(o)}); names are unique per file`,
        { node: n, property: 'name' as never, code: Codes.DuplicateName },
      );
    }
  }
}

export function checkProgramNames(p: ast.Program, accept: ValidationAcceptor): void {
  const named = p.declarations.filter((d): d is ast.Declaration & Named => 'name' in d && typeof d.name === 'string');
  checkUnique(named, accept);
}

function topLevelValues(p: ast.Program): Map<string, Named> {
  const m = new Map<string, Named>();
  for (const d of p.declarations) {
    if ((ast.isConstDecl(d) || ast.isFunctionDecl(d)) && d.name && !m.has(d.name)) m.set(d.name, d);
  }
  return m;
}

/** A member the parser only partly recovered (`y = W x` leaves a bare `x`): a syntax error covers it. */
function incomplete(x: ast.Member): boolean {
  if (ast.isValueDecl(x) || ast.isLossDecl(x)) return !x.expr;
  if (ast.isInputDecl(x) || ast.isTargetDecl(x) || ast.isParamDecl(x)) return !x.shape;
  return false;
}

export function checkModelNames(m: ast.ModelDecl, accept: ValidationAcceptor): void {
  const members = m.members.filter(
    (x): x is ast.Member & Named => 'name' in x && typeof x.name === 'string' && !incomplete(x),
  );
  checkUnique(members, accept, topLevelValues(m.$container), ` in model '${m.name}'`);
}

export function checkFunctionNames(f: ast.FunctionDecl, accept: ValidationAcceptor): void {
  checkUnique(f.params, accept, topLevelValues(f.$container), ` as an argument of '${f.name}'`);
}
