/**
 * Documents: their lifecycle (open, change, close) and the requests about one document, with
 * Langium's request handlers. Langium's diagnostics handler is not installed: the engine service
 * publishes fast and slow diagnostics together.
 */
import { DocumentState } from 'langium';
import {
  addCallHierarchyHandler,
  addCodeActionHandler,
  addCodeLensHandler,
  addCompletionHandler,
  addDocumentHighlightHandler,
  addDocumentLinkHandler,
  addDocumentSymbolHandler,
  addDocumentUpdateHandler,
  addFileOperationHandler,
  addFindReferencesHandler,
  addFoldingRangeHandler,
  addFormattingHandler,
  addGoToDeclarationHandler,
  addGoToImplementationHandler,
  addGoToTypeDefinitionHandler,
  addGotoDefinitionHandler,
  addHoverHandler,
  addInlayHintHandler,
  addRenameHandler,
  addSemanticTokenHandler,
  addSignatureHelpHandler,
  addTypeHierarchyHandler,
  addWorkspaceSymbolHandler,
  type LangiumSharedServices,
} from 'langium/lsp';
import type { Connection } from 'vscode-languageserver';
import type { NnLensServices } from '../module';

export function addDocumentHandlers(connection: Connection, Nn: NnLensServices): void {
  const shared = Nn.shared as LangiumSharedServices;
  addDocumentUpdateHandler(connection, shared);
  addFileOperationHandler(connection, shared);
  shared.workspace.TextDocuments.onDidClose((e) => Nn.lens.Engine.forget(e.document.uri, false));

  addCompletionHandler(connection, shared);
  addFindReferencesHandler(connection, shared);
  addDocumentSymbolHandler(connection, shared);
  addGotoDefinitionHandler(connection, shared);
  addGoToTypeDefinitionHandler(connection, shared);
  addGoToImplementationHandler(connection, shared);
  addDocumentHighlightHandler(connection, shared);
  addFoldingRangeHandler(connection, shared);
  addFormattingHandler(connection, shared);
  addCodeActionHandler(connection, shared);
  addRenameHandler(connection, shared);
  // Hovers show engine numbers of the validated document.
  addHoverHandler(connection, shared, DocumentState.Validated);
  addInlayHintHandler(connection, shared);
  addSemanticTokenHandler(connection, shared);
  addSignatureHelpHandler(connection, shared);
  addCallHierarchyHandler(connection, shared);
  addTypeHierarchyHandler(connection, shared);
  addCodeLensHandler(connection, shared);
  addDocumentLinkHandler(connection, shared);
  addGoToDeclarationHandler(connection, shared);
  addWorkspaceSymbolHandler(connection, shared);
}
