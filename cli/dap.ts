/** `nnlens dap`: the debug adapter (DAP over stdio) of debug/, for VS Code and any DAP client. */
import { runDebugAdapter } from '../debug/main';

export function runDap(): Promise<number> {
  return runDebugAdapter();
}
