/**
 * Shapes, orderings, cycles, dense layers, sizes and the backward block of a model: everything
 * the per-model analysis (../analysis.ts) finds.
 */
import type { ValidationAcceptor } from 'langium';
import type { NnAnalysisCache } from '../analysis-cache';
import type * as ast from '../generated/ast';
import { report } from './report';

export function checkModelShapes(cache: NnAnalysisCache, m: ast.ModelDecl, accept: ValidationAcceptor): void {
  report(accept, cache.of(m).modelAnalysis(m).issues);
}
