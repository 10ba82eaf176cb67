/**
 * User functions (§4) and consts: elementwise bodies, arity of calls, grad lines, recursion, and
 * const values (compile-time numbers, no cycles).
 */
import type { ValidationAcceptor } from 'langium';
import type { NnAnalysisCache } from '../analysis-cache';
import type * as ast from '../generated/ast';
import { report } from './report';

export function checkFunction(cache: NnAnalysisCache, f: ast.FunctionDecl, accept: ValidationAcceptor): void {
  report(accept, cache.of(f).functionAnalysis(f).issues);
}

export function checkConsts(cache: NnAnalysisCache, p: ast.Program, accept: ValidationAcceptor): void {
  report(accept, cache.of(p).constIssues);
}
