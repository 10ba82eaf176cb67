/**
 * The language server's entry point (bundled as out/server.js). The transport comes from the
 * command line, as vscode-languageserver reads it: `--node-ipc` (the VS Code extension),
 * `--stdio`, `--socket=PORT` or `--pipe=NAME`.
 */
import { startServer } from './start';

startServer();
