/**
 * Static analysis of a `.nn` document: compile-time numbers (./consts.ts), user functions
 * (./functions.ts: elementwise bodies, call cycles), and per model the shape and batching of
 * every expression, dense layers, orderings, cycles, sizes and the backward block
 * (./models.ts). ./ast-helpers.ts has what they share.
 *
 * The analysis is computed lazily and once per linked document (see `NnAnalysisCache`); the
 * validators report its issues, lowering reads its shapes, and the language server reads it for
 * hovers and inlay hints. A model whose text (and what it uses) did not change since the
 * previous version of its document takes that version's analysis over (./reuse.ts).
 */
import { findCycles } from '../cycles';
import * as ast from '../generated/ast';
import { bodyCallsOf, calleeFn, callsOf } from './ast-helpers';
import { ConstAnalysis } from './consts';
import { FunctionAnalysis } from './functions';
import { ModelAnalysis } from './models';
import type { ModelAnalysisProvider } from './reuse';

export * from './ast-helpers';
export { constIssue, type ConstFailure, type ConstResult } from './consts';
export { FunctionAnalysis } from './functions';
export { ModelAnalysis, type DenseActivation, type DenseInfo, type ExprInfo } from './models';
export { ModelMemo, ModelReuse, type ModelAnalysisProvider, type ReuseCounts } from './reuse';

export class DocumentAnalysis extends ConstAnalysis {
  private readonly functions = new Map<ast.FunctionDecl, FunctionAnalysis>();
  private readonly models = new Map<ast.ModelDecl, ModelAnalysis>();
  private functionCycles?: ReturnType<typeof findCycles<ast.FunctionDecl>>;

  /** `modelSource`: where model analyses come from (the language's cache reuses them across versions, ./reuse.ts). */
  constructor(
    program: ast.Program,
    private readonly modelSource?: ModelAnalysisProvider,
  ) {
    super(program);
  }

  functionAnalysis(fn: ast.FunctionDecl): FunctionAnalysis {
    let a = this.functions.get(fn);
    if (!a) {
      a = new FunctionAnalysis(this, fn);
      this.functions.set(fn, a);
    }
    return a;
  }

  /** Cycles in the call graph of user functions. */
  get callCycles(): ReturnType<typeof findCycles<ast.FunctionDecl>> {
    if (!this.functionCycles) {
      const fns = this.program.declarations.filter(ast.isFunctionDecl);
      this.functionCycles = findCycles(fns, (f) => bodyCallsOf(f).map((c) => calleeFn(c)).filter(ast.isFunctionDecl));
    }
    return this.functionCycles;
  }

  modelAnalysis(model: ast.ModelDecl): ModelAnalysis {
    let a = this.models.get(model);
    if (!a) {
      const compute = () => new ModelAnalysis(this, model);
      a = this.modelSource ? this.modelSource.modelAnalysis(this, model, compute) : compute();
      this.models.set(model, a);
    }
    return a;
  }

  /** Whether a function (and every function it calls) is free of errors. */
  functionOk(fn: ast.FunctionDecl, seen = new Set<ast.FunctionDecl>()): boolean {
    if (seen.has(fn)) return !this.callCycles.inCycle(fn, fn) && this.functionAnalysis(fn).ok; // a grad line using the function's value
    seen.add(fn);
    if (!this.functionAnalysis(fn).ok) return false;
    return callsOf(fn).every((c) => {
      const f = calleeFn(c);
      return !f || this.functionOk(f, new Set(seen));
    });
  }
}
