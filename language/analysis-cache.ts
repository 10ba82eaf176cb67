/**
 * One `DocumentAnalysis` per linked document, computed on first use (by a validator, lowering, a
 * hover) and dropped whenever the document is parsed or linked again.
 *
 * Across versions of a document, the analysis of each model is reused when the model's text and
 * what it uses did not change (./analysis/reuse.ts): an edit in one model of a big file analyses
 * that model again, not the others. The validator reuses their diagnostics the same way
 * (document-validator.ts). `counts` says how often each happened (tests count, never time).
 *
 * The language server reads it through the accessors that never throw: `tryOf`, `tryModel` and
 * `shapeOf` answer undefined for a node outside a `.nn` document or a model. The analysis itself
 * is total: any AST the parser recovers, however incomplete, is analysed without an exception
 * (test/language/analysis-cache.test.ts cuts every example short at every few characters).
 */
import { AstUtils, DocumentState, type AstNode, type LangiumDocument, type LangiumSharedCoreServices } from 'langium';
import type { Diagnostic } from 'vscode-languageserver-types';
import { DocumentAnalysis, ModelMemo, type ExprInfo, type ModelAnalysis, type ModelReuse, type ReuseCounts } from './analysis';
import * as ast from './generated/ast';

export class NnAnalysisCache {
  private readonly cache = new WeakMap<ast.Program, DocumentAnalysis>();
  /** Per document (the same object across its versions): the models of its latest versions. */
  private readonly memos = new WeakMap<LangiumDocument, ModelMemo>();
  private readonly reuses = new WeakMap<DocumentAnalysis, ModelReuse>();
  /** Model analyses computed and reused, and models whose diagnostics were reused, since the start. */
  readonly counts: ReuseCounts = { computed: 0, reused: 0, diagnosticsReused: 0 };

  constructor(shared?: LangiumSharedCoreServices) {
    shared?.workspace.DocumentBuilder.onDocumentPhase(DocumentState.Linked, (doc: LangiumDocument) => {
      const root = doc.parseResult.value;
      if (ast.isProgram(root)) this.cache.delete(root);
    });
    shared?.workspace.DocumentBuilder.onDocumentPhase(DocumentState.Validated, (doc: LangiumDocument) => {
      const root = doc.parseResult.value;
      if (ast.isProgram(root)) this.memos.get(doc)?.settle(root);
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
      const document = root.$document;
      let reuse: ModelReuse | undefined;
      if (document) {
        let memo = this.memos.get(document);
        if (!memo) this.memos.set(document, (memo = new ModelMemo(this.counts)));
        reuse = memo.begin(root, document);
      }
      a = new DocumentAnalysis(root, reuse);
      this.cache.set(root, a);
      if (reuse) this.reuses.set(a, reuse);
    }
    return a;
  }

  /**
   * The diagnostics of the validation (of the `categories`, a key) of a model's subtree, when they carry over from the
   * previous version of its document (the model and what it uses are unchanged, and where they
   * matter, so are their lines); undefined when the model must be validated. Takes the model's
   * analysis over as well.
   */
  reusedDiagnostics(model: ast.ModelDecl, categories: string): Diagnostic[] | undefined {
    const doc = this.tryOf(model);
    if (!doc) return undefined;
    doc.modelAnalysis(model);
    return this.reuses.get(doc)?.diagnosticsOf(model, categories);
  }

  /** Keeps the diagnostics of the validation (of `categories`) of a model's subtree, for the next version. */
  storeDiagnostics(model: ast.ModelDecl, diagnostics: Diagnostic[], categories: string): void {
    const doc = this.tryOf(model);
    if (doc) this.reuses.get(doc)?.storeDiagnostics(model, diagnostics, categories);
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
