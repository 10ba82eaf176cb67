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
  type AstNode,
  type AstNodeDescription,
  type LangiumDocument,
  type ReferenceInfo,
  type Scope,
} from 'langium';

export class NnScopeComputation extends DefaultScopeComputation {
  override async collectExportedSymbols(_document: LangiumDocument): Promise<AstNodeDescription[]> {
    return [];
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
  private readonly scopes = new WeakMap<AstNode, Map<string, Scope>>();

  override getScope(context: ReferenceInfo): Scope {
    const localSymbols = AstUtils.getDocument(context.container).localSymbols;
    if (!localSymbols) return super.getScope(context);
    let holder: AstNode | undefined = context.container;
    while (holder && !localSymbols.has(holder)) holder = holder.$container;
    if (!holder) return super.getScope(context);
    const referenceType = this.reflection.getReferenceType(context);
    let byType = this.scopes.get(holder);
    if (!byType) this.scopes.set(holder, (byType = new Map()));
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
