/**
 * Starting the language server on a connection (stdio for `nnlens lsp --stdio`, IPC for the VS
 * Code extension), with `MessageTraffic` as its message strategy (server/traffic.ts). Each concern registers its handlers in its own module of server/handlers/, the
 * way Langium's `startLanguageServer` registers its own; this file wires the services to the
 * connection and lists the modules.
 */
import type { LangiumSharedServices } from 'langium/lsp';
import { NodeFileSystem } from 'langium/node';
import { createConnection, ProposedFeatures, type Connection } from 'vscode-languageserver/node';
import { createNnLensServices, type NnLensServices } from './module';
import { MessageTraffic } from './traffic';
import { addCheckGradientsHandler } from './handlers/check';
import { addExecuteCommandHandler } from './handlers/commands';
import { addDebugHandlers } from './handlers/debug';
import { addDocumentHandlers } from './handlers/documents';
import { addInitializeHandler } from './handlers/initialize';
import { addInlayHintRefresh } from './handlers/inlay-refresh';
import { addSettingsHandlers } from './handlers/settings';
import { addTraceHandler } from './handlers/trace';
import { addTrainingHandlers } from './handlers/training';
import { addWeightsHandlers } from './handlers/weights';

export interface ServerHandle {
  connection: Connection;
  shared: LangiumSharedServices;
  Nn: NnLensServices;
}

/**
 * Starts the server on a connection over the transport the command line names (vscode-languageserver
 * reads it: `--stdio`, `--node-ipc`, `--socket=PORT`, `--pipe=NAME`) and returns its services.
 */
export function startServer(): ServerHandle {
  const traffic = new MessageTraffic();
  const connection = createConnection(ProposedFeatures.all, { messageStrategy: traffic });
  const { shared, Nn } = createNnLensServices({ connection, ...NodeFileSystem }, { traffic });
  const engine = Nn.lens.Engine;
  engine.publisher = (p) => void connection.sendDiagnostics(p);
  engine.logger = { info: (m) => connection.console.info(m), error: (m) => connection.console.error(m) };

  addInitializeHandler(connection, Nn);
  addSettingsHandlers(connection, Nn);
  addDocumentHandlers(connection, Nn);
  addInlayHintRefresh(connection, Nn);
  addTrainingHandlers(connection, Nn);
  addWeightsHandlers(connection, Nn);
  addCheckGradientsHandler(connection, Nn);
  addTraceHandler(connection, Nn);
  addExecuteCommandHandler(connection, Nn);
  addDebugHandlers(connection, Nn);

  connection.onShutdown(async () => {
    await Nn.lens.Training.stopAll();
    await engine.dispose();
  });

  shared.workspace.TextDocuments.listen(connection);
  connection.listen();
  return { connection, shared, Nn };
}
