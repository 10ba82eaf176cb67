/**
 * The language server's entry point (bundled as out/server.js). The transport comes from the
 * command line, as vscode-languageserver reads it: `--node-ipc` (the VS Code extension),
 * `--stdio`, `--socket=PORT` or `--pipe=NAME`.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './start';

startServer(createConnection(ProposedFeatures.all));
