/**
 * One `DocumentAnalysis` per linked document, computed on first use (by a validator, lowering, a
 * hover) and dropped whenever the document is parsed or linked again.
 *
 * The language server reads it through the accessors that never throw: `tryOf`, `tryModel` and
 * `shapeOf` answer undefined for a node outside a `.nn` document or a model. The analysis itself
 * is total: any AST the parser recovers, however incomplete, is analysed without an exception
 * (test/language/analysis-cache.test.ts cuts every example short at every few characters).
 */
import { AstUtils, DocumentState, type AstNode, type LangiumDocument, type LangiumSharedCoreServices } from 'langium';
import { DocumentAnalysis, type ExprInfo, type ModelAnalysis } from './analysis';
import * as ast from './generated/ast';

export class NnAnalysisCache {
  private readonly cache = new WeakMap<ast.Program, DocumentAnalysis>();

  constructor(shared?: LangiumSharedCoreServices) {
    shared?.workspace.DocumentBuilder.onDocumentPhase(DocumentState.Linked, (doc: LangiumDocument) => {
      const root = doc.parseResult.value;
      if (ast.isProgram(root)) this.cache.delete(root);
    });
  }

  /** The analysis of the document that contains `node`; throws when it is not a `.nn` document (see `tryOf`). */
  of(node: AstNode): DocumentAnalysis {
    const a = this.tryOf(node);
    if (!a) throw new Error('not a .nn document');
    return a;
  }

  /** The analysis of the document that contains `node`, or undefined when it is not a `.nn` document. Never throws. */
  tryOf(node: AstNode): DocumentAnalysis | undefined {
    const root = AstUtils.findRootNode(node);
    if (!ast.isProgram(root)) return undefined;
    let a = this.cache.get(root);
    if (!a) {
      a = new DocumentAnalysis(root);
      this.cache.set(root, a);
    }
    return a;
  }

  /** The analysis of the model that is or contains `node`, or undefined outside a model. Never throws. */
  tryModel(node: AstNode): ModelAnalysis | undefined {
    const model = AstUtils.getContainerOfType(node, ast.isModelDecl);
    return model ? this.tryOf(model)?.modelAnalysis(model) : undefined;
  }

  /** The analysis of the model that contains `node`, if any (the same as `tryModel`). */
  modelOf(node: AstNode): ModelAnalysis | undefined {
    return this.tryModel(node);
  }

  /**
   * The per-example shape (and batching, and compile-time value) of an expression or of a
   * declaration (input, target, param, named value, loss, backward line, const). Undefined when
   * unknown (an error is reported for it, or the node is not a tensor).
   */
  shapeOf(node: AstNode): ExprInfo | undefined {
    const doc = this.tryOf(node);
    if (!doc) return undefined;
    if (ast.isConstDecl(node)) {
      const r = doc.constOf(node);
      return r.ok ? { shape: [], batched: false, value: r.value } : undefined;
    }
    const fn = AstUtils.getContainerOfType(node, ast.isFunctionDecl);
    if (fn) {
      // Inside a function everything is a scalar.
      return ast.isExpression(node) || ast.isFunctionParam(node) ? { shape: [], batched: false } : undefined;
    }
    const m = this.tryModel(node);
    if (!m) {
      if (ast.isExpression(node)) {
        const r = doc.evalConst(node);
        return r.ok ? { shape: [], batched: false, value: r.value } : undefined;
      }
      return undefined;
    }
    const info = m.infos.get(node);
    if (info) return info;
    if (ast.isExpression(node) && !m.infos.has(node)) {
      // Dims, inits and other compile-time numbers inside a model.
      const r = doc.evalConst(node);
      if (r.ok) return { shape: [], batched: false, value: r.value };
    }
    return undefined;
  }
}
