/**
 * One `DocumentAnalysis` per linked document, computed on first use (by a validator, lowering, a
 * hover) and dropped whenever the document is parsed or linked again.
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

  /** The analysis of the document that contains `node`. */
  of(node: AstNode): DocumentAnalysis {
    const root = AstUtils.findRootNode(node);
    if (!ast.isProgram(root)) throw new Error('not a .nn document');
    let a = this.cache.get(root);
    if (!a) {
      a = new DocumentAnalysis(root);
      this.cache.set(root, a);
    }
    return a;
  }

  /** The analysis of the model that contains `node`, if any. */
  modelOf(node: AstNode): ModelAnalysis | undefined {
    const model = AstUtils.getContainerOfType(node, ast.isModelDecl);
    return model ? this.of(model).modelAnalysis(model) : undefined;
  }

  /**
   * The per-example shape (and batching, and compile-time value) of an expression or of a
   * declaration (input, target, param, named value, loss, backward line, const). Undefined when
   * unknown (an error is reported for it, or the node is not a tensor).
   */
  shapeOf(node: AstNode): ExprInfo | undefined {
    if (ast.isConstDecl(node)) {
      const r = this.of(node).constOf(node);
      return r.ok ? { shape: [], batched: false, value: r.value } : undefined;
    }
    const fn = AstUtils.getContainerOfType(node, ast.isFunctionDecl);
    if (fn) {
      // Inside a function everything is a scalar.
      return ast.isExpression(node) || ast.isFunctionParam(node) ? { shape: [], batched: false } : undefined;
    }
    const m = this.modelOf(node);
    if (!m) {
      if (ast.isExpression(node)) {
        const r = this.of(node).evalConst(node);
        return r.ok ? { shape: [], batched: false, value: r.value } : undefined;
      }
      return undefined;
    }
    const info = m.infos.get(node);
    if (info) return info;
    if (ast.isExpression(node) && !m.infos.has(node)) {
      // Dims, inits and other compile-time numbers inside a model.
      const r = this.of(node).evalConst(node);
      if (r.ok) return { shape: [], batched: false, value: r.value };
    }
    return undefined;
  }
}
