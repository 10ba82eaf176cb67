/**
 * Scoping: names are per file (§1). Nothing is exported to other documents of the workspace;
 * every name is found through the local symbols of its containers (a function's arguments, a
 * model's members, then the file's top-level declarations), which Langium's default scope
 * provider walks from the reference outwards.
 */
import { DefaultScopeComputation, type AstNodeDescription, type LangiumDocument } from 'langium';

export class NnScopeComputation extends DefaultScopeComputation {
  override async collectExportedSymbols(_document: LangiumDocument): Promise<AstNodeDescription[]> {
    return [];
  }
}
