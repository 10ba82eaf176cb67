/**
 * Starting the language server on a connection (stdio for `nnlens lsp --stdio`, IPC for the VS
 * Code extension). Each concern registers its handlers in its own module of server/handlers/, the
 * way Langium's `startLanguageServer` registers its own; this file wires the services to the
 * connection and lists the modules.
 */
import type { LangiumSharedServices } from 'langium/lsp';
import { NodeFileSystem } from 'langium/node';
import type { Connection } from 'vscode-languageserver';
import { createNnLensServices, type NnLensServices } from './module';
import { addCheckGradientsHandler } from './handlers/check';
import { addExecuteCommandHandler } from './handlers/commands';
import { addDebugHandlers } from './handlers/debug';
import { addDocumentHandlers } from './handlers/documents';
import { addInitializeHandler } from './handlers/initialize';
import { addInlayHintRefresh } from './handlers/inlay-refresh';
import { addSettingsHandlers } from './handlers/settings';
import { addTrainingHandlers } from './handlers/training';

export interface ServerHandle {
  shared: LangiumSharedServices;
  Nn: NnLensServices;
}

/** Starts the server on `connection` and returns its services. */
export function startServer(connection: Connection): ServerHandle {
  const { shared, Nn } = createNnLensServices({ connection, ...NodeFileSystem });
  const engine = Nn.lens.Engine;
  engine.publisher = (p) => void connection.sendDiagnostics(p);
  engine.logger = { info: (m) => connection.console.info(m), error: (m) => connection.console.error(m) };

  addInitializeHandler(connection, Nn);
  addSettingsHandlers(connection, Nn);
  addDocumentHandlers(connection, Nn);
  addInlayHintRefresh(connection, Nn);
  addTrainingHandlers(connection, Nn);
  addCheckGradientsHandler(connection, Nn);
  addExecuteCommandHandler(connection, Nn);
  addDebugHandlers(connection, Nn);

  connection.onShutdown(async () => {
    await Nn.lens.Training.stopAll();
    await engine.dispose();
  });

  shared.workspace.TextDocuments.listen(connection);
  connection.listen();
  return { shared: shared as LangiumSharedServices, Nn };
}
