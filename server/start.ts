/**
 * Starting the language server on a connection (stdio for `nnlens lsp --stdio`, IPC for the VS
 * Code extension): Langium's request handlers, minus its diagnostics publishing (the engine
 * service publishes fast and slow diagnostics together), plus the custom protocol of
 * server/protocol.ts.
 */
import { DocumentState, GrammarUtils, type LangiumDocument } from 'langium';
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
import { NodeFileSystem } from 'langium/node';
import {
  ErrorCodes,
  LSPErrorCodes,
  MessageType,
  ResponseError,
  ShowMessageNotification,
  type CancellationToken,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  type WorkDoneProgressReporter,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { carryOver } from './engine-service';
import type { InlayHint } from 'vscode-languageserver';
import { JobCancelled } from './engine-host';
import { createNnLensServices, type NnLensServices } from './module';
import {
  CheckGradientsRequestMethod,
  ClientCommands,
  DebugCrashWorkerRequestMethod,
  DebugStatsRequestMethod,
  ListModelsRequestMethod,
  StopTrainingRequestMethod,
  TrainDoneNotificationMethod,
  TrainProgressNotificationMethod,
  TrainRequestMethod,
  WorkspaceTrustNotificationMethod,
  type CheckGradientsParams,
  type CheckGradientsResult,
  type DebugStatsResult,
  type ListModelsParams,
  type ListModelsResult,
  type ModelInfo,
  type StopTrainingParams,
  type TrainParams,
  type TrainResult,
  type WorkspaceTrustParams,
} from './protocol';
import { RESTRICTED_DATA_MESSAGE } from './settings';
import { NnLensTraining, refuse } from './training';
import { NnInlayHintProvider } from './inlay-hints';
import { NnAst as ast } from '../language';

export interface ServerHandle {
  shared: LangiumSharedServices;
  Nn: NnLensServices;
}

/** Starts the server on `connection` and returns its services. */
export function startServer(connection: Connection): ServerHandle {
  const { shared, Nn } = createNnLensServices({ connection, ...NodeFileSystem });
  const sharedLsp = shared as LangiumSharedServices;
  const settings = Nn.lens.Settings;
  const engine = Nn.lens.Engine;
  const training = Nn.lens.Training;
  const builder = sharedLsp.workspace.DocumentBuilder;
  const documents = sharedLsp.workspace.TextDocuments;

  engine.publisher = (p) => void connection.sendDiagnostics(p);
  // window/showMessage (a notification: nothing for the user to answer)
  const showMessage = (type: MessageType, message: string) =>
    void connection.sendNotification(ShowMessageNotification.type, { type, message });
  engine.logger = { info: (m) => connection.console.info(m), error: (m) => connection.console.error(m) };

  // --- Langium's handlers (diagnostics are ours) ---------------------------------------------
  addDocumentUpdateHandler(connection, sharedLsp);
  addFileOperationHandler(connection, sharedLsp);
  addCompletionHandler(connection, sharedLsp);
  addFindReferencesHandler(connection, sharedLsp);
  addDocumentSymbolHandler(connection, sharedLsp);
  addGotoDefinitionHandler(connection, sharedLsp);
  addGoToTypeDefinitionHandler(connection, sharedLsp);
  addGoToImplementationHandler(connection, sharedLsp);
  addDocumentHighlightHandler(connection, sharedLsp);
  addFoldingRangeHandler(connection, sharedLsp);
  addFormattingHandler(connection, sharedLsp);
  addCodeActionHandler(connection, sharedLsp);
  addRenameHandler(connection, sharedLsp);
  // Hovers show engine numbers of the validated document.
  addHoverHandler(connection, sharedLsp, DocumentState.Validated);
  addInlayHintHandler(connection, sharedLsp);
  addSemanticTokenHandler(connection, sharedLsp);
  addSignatureHelpHandler(connection, sharedLsp);
  addCallHierarchyHandler(connection, sharedLsp);
  addTypeHierarchyHandler(connection, sharedLsp);
  addCodeLensHandler(connection, sharedLsp);
  addDocumentLinkHandler(connection, sharedLsp);
  addGoToDeclarationHandler(connection, sharedLsp);
  addWorkspaceSymbolHandler(connection, sharedLsp);

  // --- initialize: settings, trust, what the client supports -----------------------------------
  let configurationPull = false;
  connection.onInitialize(async (params: InitializeParams): Promise<InitializeResult> => {
    settings.initialize(params.initializationOptions);
    const opts = (params.initializationOptions ?? {}) as Record<string, unknown>;
    const caps = params.capabilities;
    settings.client = {
      isNnLensExtension: typeof opts.settings === 'object' && opts.settings !== null && typeof opts.workspaceTrusted === 'boolean',
      hoverMarkdown: (caps.textDocument?.hover?.contentFormat ?? []).includes('markdown'),
      workDoneProgress: caps.window?.workDoneProgress === true,
      inlayHintRefresh: caps.workspace?.inlayHint?.refreshSupport === true,
      codeLensRefresh: caps.workspace?.codeLens?.refreshSupport === true,
      semanticTokensRefresh: caps.workspace?.semanticTokens?.refreshSupport === true,
    };
    configurationPull = caps.workspace?.configuration === true;
    if (!settings.workspaceTrusted) Nn.analysis.DataContext.fileAccessBlocked = RESTRICTED_DATA_MESSAGE;
    const result = await sharedLsp.lsp.LanguageServer.initialize(params);
    // Other editors run the lenses' commands through workspace/executeCommand; the VS Code
    // extension registers them itself (advertising them would clash with its registrations).
    if (!settings.client.isNnLensExtension) {
      result.capabilities.executeCommandProvider = {
        commands: [ClientCommands.train, ClientCommands.checkGradients, ClientCommands.stopTraining],
      };
    }
    result.serverInfo = { name: 'nnlens', version: typeof NNLENS_VERSION === 'string' ? NNLENS_VERSION : 'dev' };
    return result;
  });
  connection.onInitialized((params) => {
    sharedLsp.lsp.LanguageServer.initialized(params);
    if (configurationPull) void pullSettings();
  });

  // --- settings ----------------------------------------------------------------------------------
  const pullSettings = async () => {
    try {
      const [raw] = (await connection.workspace.getConfiguration([{ section: 'nnlens' }])) as unknown[];
      if (raw && typeof raw === 'object') settings.update(raw);
    } catch {
      // the client does not answer workspace/configuration for this section
    }
  };
  connection.onDidChangeConfiguration((change) => {
    sharedLsp.workspace.ConfigurationProvider.updateConfiguration(change);
    const s = change.settings as Record<string, unknown> | null | undefined;
    if (s && typeof s === 'object' && 'nnlens' in s) settings.update(s.nnlens);
    else if (configurationPull) void pullSettings();
  });
  settings.onDidChange((now, before) => {
    if (JSON.stringify(now.inlayHints) !== JSON.stringify(before.inlayHints)) refreshInlayHints();
  });

  // --- trust -----------------------------------------------------------------------------------
  connection.onNotification(WorkspaceTrustNotificationMethod, (p: WorkspaceTrustParams) => {
    if (p?.trusted !== true || settings.workspaceTrusted) return;
    settings.setTrusted(true);
    Nn.analysis.DataContext.fileAccessBlocked = undefined;
    const uris = sharedLsp.workspace.LangiumDocuments.all.map((d) => d.uri).toArray();
    void sharedLsp.workspace.WorkspaceLock.write((token) => builder.update(uris, [], token));
  });

  // --- documents: close, inlay hint refresh -----------------------------------------------------
  documents.onDidClose((e) => engine.forget(e.document.uri, false));
  const hintProvider = Nn.lsp.InlayHintProvider as NnInlayHintProvider;
  const hintState = new Map<string, { text: TextDocument; hints: InlayHint[] }>();
  let refreshTimer: NodeJS.Timeout | undefined;
  const refreshInlayHints = () => {
    if (!settings.client.inlayHintRefresh) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void connection.languages.inlayHint.refresh().catch(() => undefined), 30);
  };
  builder.onDocumentPhase(DocumentState.Validated, (doc: LangiumDocument) => {
    const uri = doc.uri.toString();
    if (!documents.get(uri) || !settings.client.inlayHintRefresh) return;
    let hints: InlayHint[];
    try {
      hints = hintProvider.allHints(doc);
    } catch {
      return;
    }
    const text = TextDocument.create(uri, 'nn', doc.textDocument.version, doc.textDocument.getText());
    const before = hintState.get(uri);
    hintState.set(uri, { text, hints });
    if (before && hintsMovedElsewhere(before.text, text, before.hints, hints)) refreshInlayHints();
  });
  documents.onDidClose((e) => hintState.delete(e.document.uri));

  // --- code lenses follow training runs --------------------------------------------------------
  let lensTimer: NodeJS.Timeout | undefined;
  const refreshLenses = () => {
    if (!settings.client.codeLensRefresh) return;
    clearTimeout(lensTimer);
    lensTimer = setTimeout(() => void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined), 50);
  };
  const lastEpochLens = new Map<string, number>();
  training.events = {
    progress: (p) => {
      void connection.sendNotification(TrainProgressNotificationMethod, p);
      if (lastEpochLens.get(p.runId) !== p.epoch) {
        lastEpochLens.set(p.runId, p.epoch);
        refreshLenses();
      }
    },
    done: (d) => {
      lastEpochLens.delete(d.runId);
      void connection.sendNotification(TrainDoneNotificationMethod, d);
      if (!settings.client.isNnLensExtension) {
        const type = d.reason === 'error' ? MessageType.Error : d.reason === 'diverged' ? MessageType.Warning : MessageType.Info;
        showMessage(type, `NN Lens: ${d.model}: ${d.message}${d.weightsPath ? ` — weights in ${d.weightsPath}` : ''}`);
      }
    },
    changed: refreshLenses,
  };

  // --- custom requests -------------------------------------------------------------------------
  connection.onRequest(ListModelsRequestMethod, async (p: ListModelsParams): Promise<ListModelsResult> => {
    const doc = await training.document(p.uri);
    return { models: training.withCurrentWeights(doc.uri.toString(), listModels(Nn, doc)) };
  });

  const checkGradients = async (
    p: CheckGradientsParams,
    token: CancellationToken | undefined,
    progress: WorkDoneProgressReporter,
  ): Promise<CheckGradientsResult> => {
    const doc = await training.document(p.uri);
    const lowered = engine.lowered(doc);
    if (p.model !== undefined && !lowered.program.models.some((m) => m.name === p.model)) {
      NnLensTraining.pickModel(lowered, doc, p.model); // throws the reason
    }
    progress.begin('NN Lens: checking gradients', 0, p.model ? `model ${p.model}` : 'every model', true);
    let cancelJob: (() => void) | undefined;
    const sub = token?.onCancellationRequested(() => cancelJob?.());
    const ptoken = 'token' in progress ? (progress as { token: CancellationToken }).token : undefined;
    const psub = ptoken?.onCancellationRequested(() => cancelJob?.());
    try {
      const { result } = await engine.fullCheck(doc, {
        models: p.model ? [p.model] : undefined,
        mode: p.mode ?? 'full',
        onProgress: (f) => progress.report(Math.round(f * 100)),
        onCancel: (cb) => {
          cancelJob = cb;
          if (token?.isCancellationRequested) cb();
        },
      });
      const models: CheckGradientsResult['models'] = {};
      for (const [name, r] of Object.entries(result.models)) if (r.summary) models[name] = r.summary;
      const published = engine.diagnosticsOf(doc.uri.toString())?.diagnostics ?? [];
      return {
        models,
        errors: published.filter((d) => d.severity === 1).length,
        warnings: published.filter((d) => d.severity === 2).length,
      };
    } catch (e) {
      if (e instanceof JobCancelled) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'the gradient check was cancelled');
      throw e instanceof ResponseError ? e : new ResponseError(ErrorCodes.InternalError, e instanceof Error ? e.message : String(e));
    } finally {
      sub?.dispose();
      psub?.dispose();
      progress.done();
    }
  };
  connection.onRequest(CheckGradientsRequestMethod, async (p: CheckGradientsParams, token: CancellationToken) => {
    const reporter =
      (p as { workDoneToken?: string | number }).workDoneToken !== undefined
        ? connection.window.attachWorkDoneProgress((p as { workDoneToken?: string | number }).workDoneToken)
        : await connection.window.createWorkDoneProgress();
    return checkGradients(p, token, reporter);
  });

  connection.onRequest(TrainRequestMethod, (p: TrainParams): Promise<TrainResult> => training.train(p));
  connection.onRequest(StopTrainingRequestMethod, async (p: StopTrainingParams) => {
    await training.stop(p.runId);
    return null;
  });

  // Commands of the code lenses, for editors other than VS Code.
  connection.onExecuteCommand(async (p, token) => {
    const args = p.arguments ?? [];
    try {
      if (p.command === ClientCommands.train) {
        const r = await training.train({ uri: String(args[0] ?? ''), model: typeof args[1] === 'string' ? args[1] : undefined });
        showMessage(MessageType.Info, `NN Lens: training ${r.model}: ${r.epochs} epochs × ${r.stepsPerEpoch} steps (run ${r.runId})`);
        return r;
      }
      if (p.command === ClientCommands.stopTraining) {
        const id = typeof args[0] === 'string' ? args[0] : training.live[0]?.runId;
        if (!id) throw refuse('no training run is live');
        await training.stop(id);
        return null;
      }
      if (p.command === ClientCommands.checkGradients) {
        const r = await checkGradients(
          { uri: String(args[0] ?? ''), model: typeof args[1] === 'string' ? args[1] : undefined, mode: 'full' },
          token,
          await connection.window.createWorkDoneProgress(),
        );
        const worst = Object.entries(r.models)
          .map(([m, s]) => `${m}: max relative error ${Math.max(0, ...Object.values(s.params).map((x) => x.maxRelError)).toExponential(1)}`)
          .join('; ');
        showMessage(MessageType.Info, `NN Lens: full gradient check: ${r.errors} error(s), ${r.warnings} warning(s). ${worst}`);
        return r;
      }
    } catch (e) {
      showMessage(MessageType.Error, `NN Lens: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    throw new ResponseError(ErrorCodes.InvalidParams, `unknown command ${p.command}`);
  });

  connection.onRequest(DebugStatsRequestMethod, (): DebugStatsResult => {
    const m = process.memoryUsage();
    return {
      memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers },
      workers: { edit: engine.editWorker.stats, full: engine.fullWorker.stats },
      documents: sharedLsp.workspace.LangiumDocuments.all.count(),
      trainingRuns: training.live.length,
    };
  });
  connection.onRequest(DebugCrashWorkerRequestMethod, () => {
    engine.editWorker.crashForTest();
    return null;
  });

  connection.onShutdown(async () => {
    await training.stopAll();
    await engine.dispose();
  });

  documents.listen(connection);
  connection.listen();
  return { shared: sharedLsp, Nn };
}

declare const NNLENS_VERSION: string | undefined;

/** Whether hints on lines the edit did not touch changed (so other lines need new hints). */
function hintsMovedElsewhere(before: TextDocument, after: TextDocument, old: InlayHint[], now: InlayHint[]): boolean {
  const asDiag = (h: InlayHint) => ({
    range: { start: h.position, end: h.position },
    message: typeof h.label === 'string' ? h.label : h.label.map((l) => l.value).join(''),
  });
  const carried = carryOver(before, after, old.map(asDiag));
  const key = (d: { range: { start: { line: number; character: number } }; message: string }) =>
    `${d.range.start.line}:${d.range.start.character}:${d.message}`;
  const nowKeys = new Set(now.map(asDiag).map(key));
  // a hint the edit did not touch that is no longer there (or moved) means another line changed
  if (carried.some((d) => !nowKeys.has(key(d)))) return true;
  // a new hint outside the edited lines
  const a = before.getText();
  const b = after.getText();
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const firstLine = after.positionAt(p).line;
  const lastLine = after.positionAt(b.length - s).line;
  const carriedKeys = new Set(carried.map(key));
  return now.some((h) => (h.position.line < firstLine || h.position.line > lastLine) && !carriedKeys.has(key(asDiag(h))));
}

/** The models of a document for the client's quick pick and lenses. */
export function listModels(Nn: NnLensServices, doc: LangiumDocument): ModelInfo[] {
  const root = doc.parseResult.value;
  if (!ast.isProgram(root)) return [];
  const out: ModelInfo[] = [];
  const trains = root.declarations.filter(ast.isTrainDecl);
  for (const m of root.declarations.filter(ast.isModelDecl)) {
    if (!m.name || !m.$cstNode) continue;
    let params = 0;
    try {
      const n = Nn.analysis.Cache.of(m).modelAnalysis(m).paramElements;
      params = Number.isFinite(n) ? n : 0;
    } catch {
      params = 0;
    }
    const t = trains.find((x) => x.model?.$refText === m.name);
    const nameLine = (GrammarUtils.findNodeForProperty(m.$cstNode, 'name') ?? m.$cstNode).range.start.line;
    out.push({
      name: m.name,
      line: nameLine,
      params,
      hasTrain: t !== undefined,
      endLine: m.$cstNode.range.end.line,
      ...(t?.$cstNode ? { trainRange: { line: t.$cstNode.range.start.line, endLine: t.$cstNode.range.end.line } } : {}),
    });
  }
  return out;
}
