/**
 * `nnlens lsp --stdio`: the language server for any editor that speaks LSP (Neovim, Emacs,
 * Helix, …); the VS Code extension starts the same server over IPC (out/server.js).
 */
import { startServer } from '../server/start';
import { UsageError } from './tensorJson';

export async function runLsp(flags: ReadonlyMap<string, unknown>): Promise<number> {
  const transports = ['stdio', 'node-ipc', 'socket', 'pipe'].filter((t) => flags.has(t));
  if (transports.length === 0) throw new UsageError('nnlens lsp needs a transport: --stdio (or --node-ipc)');
  // vscode-languageserver reads the transport from process.argv.
  startServer();
  // The server runs until the client says exit (the connection ends the process).
  return new Promise<number>(() => undefined);
}
