/**
 * Langium's document validator with the language's codes on built-in diagnostics:
 * lexer and parser errors get `syntax-error`, unresolved names `unknown-name` (or
 * `unknown-grad-arg`). Names that are not declared in the file but mean something where they
 * stand are left to the validators: built-in functions, and words in configuration positions
 * (`zeros`, `sgd(...)`, `gradients: auto`, data sources).
 *
 * In a document of many models, a model that did not change since the previous version (nor
 * did what it uses, see ./analysis/reuse.ts) is not validated again: the diagnostics of its
 * subtree carry over and the walk skips it.
 */
import {
  AstUtils,
  DefaultDocumentValidator,
  ValidationRegistry,
  type AstNode,
  type LangiumCoreServices,
  type LangiumDocument,
  type ParseResult,
  type ValidationAcceptor,
  type ValidationCategory,
  type ValidationCheck,
  type ValidationChecks,
  type ValidationOptions,
} from 'langium';
import { CancellationToken, type Diagnostic } from 'vscode-languageserver';
import type { NnAnalysisCache } from './analysis-cache';
import { walkTree } from './build-phases';
import { isBuiltinName } from './builtins';
import { Codes } from '../engine/codes';
import * as ast from './generated/ast';

/**
 * True when `node` is a whole configuration value: a param's init, a data source, an option's
 * value, or an argument of such a call (where bare words like `auto` or `zeros` are allowed).
 */
export function isConfigPosition(node: AstNode): boolean {
  const c = node.$container;
  if (!c) return false;
  if (ast.isParamDecl(c)) return c.init === node;
  if (ast.isDataDecl(c)) return c.source === node;
  if (ast.isOption(c)) return c.value === node;
  if (ast.isCall(c) && c.callee === node) return isConfigPosition(c);
  if (ast.isArgument(c) && c.value === node) {
    const call = c.$container;
    return ast.isCall(call) && isConfigPosition(call);
  }
  return false;
}

type Pos = { line: number; character: number };
const before = (a: Pos, b: Pos) => a.line < b.line || (a.line === b.line && a.character <= b.character);

/** Langium's registry of checks, knowing which categories have checks (to tell when two validations run the same ones). */
export class NnValidationRegistry extends ValidationRegistry {
  readonly categoriesInUse = new Set<ValidationCategory>();

  override register<T>(checksRecord: ValidationChecks<T>, thisObj?: ThisParameterType<unknown>, category: ValidationCategory = 'fast'): void {
    this.categoriesInUse.add(category);
    super.register(checksRecord, thisObj, category);
  }
}

const inside = (outer: { start: Pos; end: Pos }, inner: { start: Pos; end: Pos }) => before(outer.start, inner.start) && before(inner.end, outer.end);

export class NnDocumentValidator extends DefaultDocumentValidator {
  private readonly analysis: NnAnalysisCache;

  constructor(services: LangiumCoreServices & { analysis: { Cache: NnAnalysisCache } }) {
    super(services);
    this.analysis = services.analysis.Cache;
  }

  /**
   * Langium's walk over every node with the registered checks, except that each model is walked
   * on its own: an unchanged model's diagnostics are taken from the previous version and its
   * subtree is skipped; a changed one is validated and its diagnostics kept for the next version.
   * The diagnostics come out in the same order as from one walk.
   */
  protected override async validateAst(rootNode: AstNode, options: ValidationOptions, cancelToken = CancellationToken.None): Promise<Diagnostic[]> {
    const items: Diagnostic[] = [];
    const acceptor: ValidationAcceptor = (severity, message, info) => {
      items.push(this.toDiagnostic(severity, message, info));
    };
    await this.validateAstBefore(rootNode, options, acceptor, cancelToken);
    // Kept per set of checks run: a build may ask for some categories only.
    const inUse = this.validationRegistry instanceof NnValidationRegistry ? [...this.validationRegistry.categoriesInUse] : ['?'];
    const categories = inUse.filter((c) => !options.categories || options.categories.includes(c)).sort().join(',');
    const checksOf = new Map<string, ValidationCheck[]>();
    /** Runs the checks of one node; false when its children are to be skipped (a promise only when it has checks). */
    const validateNode = (node: AstNode): boolean | Promise<boolean> => {
      const nodeOptions = this.validateSingleNodeOptions(node, options);
      if (!nodeOptions.validateNode) return nodeOptions.validateChildren;
      let checks = checksOf.get(node.$type);
      if (!checks) checksOf.set(node.$type, (checks = this.validationRegistry.getChecks(node.$type, options.categories).toArray()));
      if (checks.length === 0) return nodeOptions.validateChildren;
      return (async () => {
        for (const check of checks) await check(node, acceptor, cancelToken);
        return nodeOptions.validateChildren;
      })();
    };
    /** A model: its diagnostics from the previous version, or validated and kept for the next. */
    const validateModel = async (model: ast.ModelDecl): Promise<false> => {
      const kept = this.analysis.reusedDiagnostics(model, categories);
      if (kept) {
        items.push(...kept);
        return false;
      }
      const from = items.length;
      await walkTree(model, cancelToken, validateNode);
      const own = items.slice(from);
      // (kept only when every one lies inside the model, so that it moves with it)
      const range = model.$cstNode?.range;
      if (range && own.every((d) => inside(range, d.range))) this.analysis.storeDiagnostics(model, own, categories);
      return false;
    };
    await walkTree(rootNode, cancelToken, (node) => (ast.isModelDecl(node) ? validateModel(node) : validateNode(node)));
    await this.validateAstAfter(rootNode, options, acceptor, cancelToken);
    return items;
  }

  /** One source for every NN Lens diagnostic (the engine's findings say `nnlens` too). */
  protected override getSource(): string | undefined {
    return 'nnlens';
  }

  /**
   * Langium's validation, minus follow-up errors of syntax errors: a diagnostic whose range
   * contains a syntax error, or is directly followed by one, is about a construct the parser cut
   * short (`mse(y t)` is not a call of mse with one argument), so it is dropped.
   */
  override async validateDocument(
    document: LangiumDocument,
    options: ValidationOptions = {},
    cancelToken?: CancellationToken,
  ): Promise<Diagnostic[]> {
    const all = await super.validateDocument(document, options, cancelToken);
    const syntax = all.filter((d) => d.code === Codes.SyntaxError).map((d) => d.range.start);
    if (syntax.length === 0) return all;
    const text = document.textDocument.getText();
    const cutShort = (d: Diagnostic): boolean => {
      // Where the diagnostic's range ends, skipping whitespace and comments after it.
      let end = document.textDocument.offsetAt(d.range.end);
      for (;;) {
        const rest = text.slice(end);
        const skip = /^(\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/)/.exec(rest);
        if (!skip) break;
        end += skip[0].length;
      }
      const reach = document.textDocument.positionAt(end);
      return syntax.some((s) => before(d.range.start, s) && before(s, reach));
    };
    return all.filter((d) => d.code === Codes.SyntaxError || !cutShort(d));
  }

  protected override processLexingErrors(parseResult: ParseResult, diagnostics: Diagnostic[], options: ValidationOptions): void {
    const from = diagnostics.length;
    super.processLexingErrors(parseResult, diagnostics, options);
    for (let i = from; i < diagnostics.length; i++) diagnostics[i].code = Codes.SyntaxError;
  }

  protected override processParsingErrors(parseResult: ParseResult, diagnostics: Diagnostic[], options: ValidationOptions): void {
    const from = diagnostics.length;
    super.processParsingErrors(parseResult, diagnostics, options);
    for (let i = from; i < diagnostics.length; i++) diagnostics[i].code = Codes.SyntaxError;
  }

  protected override processLinkingErrors(document: LangiumDocument, diagnostics: Diagnostic[], _options: ValidationOptions): void {
    for (const reference of document.references) {
      const error = reference.error;
      if (!error) continue;
      const container = error.info.container;
      const name = reference.$refText;
      if (!name) continue; // a syntax error already covers it
      let code: string = Codes.UnknownName;
      let message: string;
      if (ast.isRef(container)) {
        if (isBuiltinName(name) || isConfigPosition(container)) continue;
        const call = container.$container;
        message = ast.isCall(call) && call.callee === container ? `unknown function '${name}'` : `unknown name '${name}'`;
      } else if (ast.isFunctionGrad(container)) {
        const fn = container.$container;
        code = Codes.UnknownGradArg;
        message =
          `grad ${name}: function '${fn.name}' has no argument '${name}'` +
          (fn.params.length ? `; its arguments are ${fn.params.map((p) => p.name).join(', ')}` : '');
      } else if (ast.isGradRef(container) && !AstUtils.getContainerOfType(container, ast.isBackwardBlock)) {
        continue; // grad outside a backward block: reported by the analysis
      } else if (ast.isGradRef(container) || ast.isBackwardLine(container)) {
        message = `unknown name '${name}': grad needs a param or named value of this model`;
      } else if (ast.isTrainDecl(container) || ast.isCheckDecl(container)) {
        message =
          error.info.property === 'model' ? `unknown model '${name}'` : `unknown data '${name}'`;
      } else {
        message = `unknown name '${name}'`;
      }
      diagnostics.push(
        this.toDiagnostic('error', message, {
          node: container,
          range: reference.$refNode?.range,
          property: error.info.property,
          index: error.info.index,
          code,
          data: { code: 'linking-error', containerType: container.$type, property: error.info.property, refText: name },
        }),
      );
    }
  }
}
