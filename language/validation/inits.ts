/** Param initializers: `zeros`, `ones`, `constant(v)`, `normal(mean, std)`, `uniform(lo, hi)`, `glorot`, `he`. */
import type { ValidationAcceptor } from 'langium';
import type { NnAnalysisCache } from '../analysis-cache';
import { readInit } from '../config';
import type * as ast from '../generated/ast';
import { report } from './report';

export function checkInit(cache: NnAnalysisCache, p: ast.ParamDecl, accept: ValidationAcceptor): void {
  report(accept, readInit(cache.of(p), p).issues);
}
