/**
 * Documents: their lifecycle (open, change, close) and the requests about one document.
 *
 * - Edits are built once the messages already read are dispatched (server/builds.ts): a burst
 *   of edits is built once, at its newest version, not once per version.
 * - Requests about an open document go through `StaleRequests`: a request about a version that a
 *   newer edit replaced is answered `ContentModified` without its work. Their handlers are
 *   Langium's (`createRequestHandler`), with the document state each one needs.
 * - Langium's diagnostics handler is not installed: the engine service publishes fast and slow
 *   diagnostics together.
 */
import { DocumentState, URI, type LangiumDocument } from 'langium';
import {
  addCallHierarchyHandler,
  addFileOperationHandler,
  addTypeHierarchyHandler,
  addWorkspaceSymbolHandler,
  createRequestHandler,
  createServerRequestHandler,
  WorkspaceState,
  type LangiumCoreAndPartialLSPServices,
  type LangiumSharedServices,
  type ServiceRequirement,
} from 'langium/lsp';
import type {
  CancellationToken,
  CodeActionParams,
  CodeLensParams,
  CompletionParams,
  DeclarationParams,
  DefinitionParams,
  DocumentFormattingParams,
  DocumentHighlightParams,
  DocumentLinkParams,
  DocumentOnTypeFormattingParams,
  DocumentRangeFormattingParams,
  DocumentSymbolParams,
  FoldingRangeParams,
  HoverParams,
  ImplementationParams,
  InlayHintParams,
  PrepareRenameParams,
  ReferenceParams,
  RenameParams,
  SemanticTokensDeltaParams,
  SemanticTokensParams,
  SemanticTokensRangeParams,
  SignatureHelpParams,
  TypeDefinitionParams,
  Connection,
  HandlerResult,
  TextDocumentIdentifier,
} from 'vscode-languageserver';
import type { NnLensServices } from '../module';

type ServiceCall<P, R> = (services: LangiumCoreAndPartialLSPServices, document: LangiumDocument, params: P, token: CancellationToken) => HandlerResult<R, void>;

export function addDocumentHandlers(connection: Connection, Nn: NnLensServices): void {
  const shared = Nn.shared as LangiumSharedServices;
  addDocumentUpdateHandler(connection, Nn);
  addFileOperationHandler(connection, shared);
  shared.workspace.TextDocuments.onDidClose((e) => Nn.lens.Engine.forget(e.document.uri, false));

  const requests = Nn.lens.Requests;
  // A request about one document: Langium's handler behind the stale-request guard.
  const on = <P extends { textDocument: TextDocumentIdentifier }, R>(call: ServiceCall<P, R>, state: ServiceRequirement) =>
    requests.guard(createRequestHandler(requests.work(call), shared, state));
  // The same with Langium's "server request" handler (an error, not null, when no language serves the document).
  const onServer = <P extends { textDocument: TextDocumentIdentifier }, R>(call: ServiceCall<P, R>, state: ServiceRequirement) =>
    requests.guard(createServerRequestHandler(requests.work(call), shared, state));

  connection.onCompletion(on((s, d, p: CompletionParams, t) => s.lsp?.CompletionProvider?.getCompletion(d, p, t), DocumentState.Linked));
  // Hovers show engine numbers of the validated document.
  connection.onHover(on((s, d, p: HoverParams, t) => s.lsp?.HoverProvider?.getHoverContent(d, p, t), DocumentState.Validated));
  connection.onSignatureHelp(onServer((s, d, p: SignatureHelpParams, t) => s.lsp?.SignatureHelp?.provideSignatureHelp(d, p, t), DocumentState.IndexedReferences));
  connection.languages.inlayHint.on(onServer((s, d, p: InlayHintParams, t) => s.lsp?.InlayHintProvider?.getInlayHints(d, p, t), DocumentState.IndexedReferences));
  connection.onCodeLens(onServer((s, d, p: CodeLensParams, t) => s.lsp?.CodeLensProvider?.provideCodeLens(d, p, t), DocumentState.IndexedReferences));
  connection.onDocumentSymbol(on((s, d, p: DocumentSymbolParams, t) => s.lsp?.DocumentSymbolProvider?.getSymbols(d, p, t), DocumentState.Linked));
  connection.onFoldingRanges(on((s, d, p: FoldingRangeParams, t) => s.lsp?.FoldingRangeProvider?.getFoldingRanges(d, p, t), DocumentState.Parsed));
  connection.onDocumentLinks(onServer((s, d, p: DocumentLinkParams, t) => s.lsp?.DocumentLinkProvider?.getDocumentLinks(d, p, t), DocumentState.Parsed));
  connection.onCodeAction(on((s, d, p: CodeActionParams, t) => s.lsp?.CodeActionProvider?.getCodeActions(d, p, t), DocumentState.Validated));
  connection.onDocumentHighlight(on((s, d, p: DocumentHighlightParams, t) => s.lsp?.DocumentHighlightProvider?.getDocumentHighlight(d, p, t), WorkspaceState.IndexedReferences));
  const noTokens = { data: [] };
  connection.languages.semanticTokens.on(
    onServer((s, d, p: SemanticTokensParams, t) => s.lsp?.SemanticTokenProvider?.semanticHighlight(d, p, t) ?? noTokens, DocumentState.Linked),
  );
  connection.languages.semanticTokens.onDelta(
    onServer((s, d, p: SemanticTokensDeltaParams, t) => s.lsp?.SemanticTokenProvider?.semanticHighlightDelta(d, p, t) ?? noTokens, DocumentState.Linked),
  );
  connection.languages.semanticTokens.onRange(
    onServer((s, d, p: SemanticTokensRangeParams, t) => s.lsp?.SemanticTokenProvider?.semanticHighlightRange(d, p, t) ?? noTokens, DocumentState.Linked),
  );
  connection.onDefinition(on((s, d, p: DefinitionParams, t) => s.lsp?.DefinitionProvider?.getDefinition(d, p, t), DocumentState.Linked));
  connection.onTypeDefinition(on((s, d, p: TypeDefinitionParams, t) => s.lsp?.TypeProvider?.getTypeDefinition(d, p, t), DocumentState.Linked));
  connection.onImplementation(on((s, d, p: ImplementationParams, t) => s.lsp?.ImplementationProvider?.getImplementation(d, p, t), WorkspaceState.IndexedReferences));
  connection.onDeclaration(on((s, d, p: DeclarationParams, t) => s.lsp?.DeclarationProvider?.getDeclaration(d, p, t), DocumentState.Linked));
  connection.onReferences(on((s, d, p: ReferenceParams, t) => s.lsp?.ReferencesProvider?.findReferences(d, p, t), WorkspaceState.IndexedReferences));
  connection.onRenameRequest(on((s, d, p: RenameParams, t) => s.lsp?.RenameProvider?.rename(d, p, t), WorkspaceState.IndexedReferences));
  connection.onPrepareRename(on((s, d, p: PrepareRenameParams, t) => s.lsp?.RenameProvider?.prepareRename(d, p, t), WorkspaceState.IndexedReferences));
  connection.onDocumentFormatting(on((s, d, p: DocumentFormattingParams, t) => s.lsp?.Formatter?.formatDocument(d, p, t), DocumentState.Parsed));
  connection.onDocumentRangeFormatting(on((s, d, p: DocumentRangeFormattingParams, t) => s.lsp?.Formatter?.formatDocumentRange(d, p, t), DocumentState.Parsed));
  connection.onDocumentOnTypeFormatting(on((s, d, p: DocumentOnTypeFormattingParams, t) => s.lsp?.Formatter?.formatDocumentOnType(d, p, t), DocumentState.Parsed));

  // Requests about items or the workspace, not a document version.
  addCallHierarchyHandler(connection, shared);
  addTypeHierarchyHandler(connection, shared);
  addWorkspaceSymbolHandler(connection, shared);
}

/**
 * Langium's document update handler, except that changes go to `CoalescedBuilds` (built once the
 * messages already read are dispatched) instead of starting a build each.
 */
function addDocumentUpdateHandler(connection: Connection, Nn: NnLensServices): void {
  const shared = Nn.shared as LangiumSharedServices;
  const handler = shared.lsp.DocumentUpdateHandler;
  const documents = shared.workspace.TextDocuments;
  const builds = Nn.lens.Builds;
  builds.logError = (m) => connection.console.error(m);
  documents.onDidChangeContent((change) => builds.change(URI.parse(change.document.uri)));
  // Langium's default handler does nothing else with open documents; a subclass might.
  if (handler.didOpenDocument) documents.onDidOpen((e) => handler.didOpenDocument!(e));
  if (handler.didCloseDocument) documents.onDidClose((e) => handler.didCloseDocument!(e));
  if (handler.didSaveDocument) documents.onDidSave((e) => handler.didSaveDocument!(e));
  if (handler.willSaveDocument) documents.onWillSave((e) => handler.willSaveDocument!(e));
  if (handler.willSaveDocumentWaitUntil) documents.onWillSaveWaitUntil((e) => handler.willSaveDocumentWaitUntil!(e));
  if (handler.didChangeWatchedFiles) connection.onDidChangeWatchedFiles((p) => handler.didChangeWatchedFiles!(p));
}
