/**
 * Scoping: names are per file (§1). Nothing is exported to other documents of the workspace;
 * every name is found through the local symbols of its containers (a function's arguments, a
 * model's members, then the file's top-level declarations), which Langium's default scope
 * provider walks from the reference outwards.
 */
import {
  AstUtils,
  DefaultScopeComputation,
  DefaultScopeProvider,
  MapScope,
  MultiMap,
  type AstNode,
  type AstNodeDescription,
  type LangiumDocument,
  type LocalSymbols,
  type ReferenceInfo,
  type Scope,
} from 'langium';
import { CancellationToken } from 'vscode-languageserver';
import { walkTree } from './build-phases';
import * as ast from './generated/ast';

export class NnScopeComputation extends DefaultScopeComputation {
  override async collectExportedSymbols(_document: LangiumDocument): Promise<AstNodeDescription[]> {
    return [];
  }

  /**
   * Langium's local symbols (each named node, in the scope of its container), without walking into
   * expressions: nothing named inside an expression can be referred to (an argument's name, `n` in
   * `dense(x, n: 30)`, is not a symbol). Expressions are most of a document's nodes.
   */
  override async collectLocalSymbols(document: LangiumDocument, cancelToken = CancellationToken.None): Promise<LocalSymbols> {
    const symbols = new MultiMap<AstNode, AstNodeDescription>();
    const root = document.parseResult.value;
    await walkTree(root, cancelToken, (node) => {
      if (ast.isExpression(node)) return false;
      if (node !== root) this.addLocalSymbol(node, document, symbols);
      return true;
    });
    return symbols;
  }
}

/**
 * Langium's default scope provider, with each scope built once per container and reference type
 * and looked up by name in a map. The default walks a stream of every symbol of the model for
 * each reference, which makes linking quadratic in the size of a model (a 1,000-line model spent
 * most of its linking there). Names resolve exactly as before: the first declaration of a name
 * wins, and inner containers shadow outer ones.
 */
export class NnScopeProvider extends DefaultScopeProvider {
  /** Per version's symbols (a declaration taken over by the next version's tree, ./incremental-parse.ts, gets new ones). */
  private readonly scopes = new WeakMap<LocalSymbols, WeakMap<AstNode, Map<string, Scope>>>();

  override getScope(context: ReferenceInfo): Scope {
    const localSymbols = AstUtils.getDocument(context.container).localSymbols;
    if (!localSymbols) return super.getScope(context);
    let holder: AstNode | undefined = context.container;
    while (holder && !localSymbols.has(holder)) holder = holder.$container;
    if (!holder) return super.getScope(context);
    const referenceType = this.reflection.getReferenceType(context);
    let ofVersion = this.scopes.get(localSymbols);
    if (!ofVersion) this.scopes.set(localSymbols, (ofVersion = new WeakMap()));
    let byType = ofVersion.get(holder);
    if (!byType) ofVersion.set(holder, (byType = new Map()));
    let scope = byType.get(referenceType);
    if (!scope) {
      scope = this.getGlobalScope(referenceType, context);
      const chain: AstNode[] = [];
      for (let n: AstNode | undefined = holder; n; n = n.$container) if (localSymbols.has(n)) chain.push(n);
      for (let i = chain.length - 1; i >= 0; i--) {
        const elements = localSymbols
          .getStream(chain[i])
          .filter((d) => this.reflection.isSubtype(d.type, referenceType))
          .toArray()
          .reverse(); // a MapScope keeps the last element of a name: reversed, the first declaration wins
        scope = new MapScope(elements, scope);
      }
      byType.set(referenceType, scope);
    }
    return scope;
  }
}
