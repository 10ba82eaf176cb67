/**
 * `nnlens dap`: the debug adapter over stdio. Its stdout carries the protocol, so nothing else
 * may write there: console output goes to stderr for as long as the adapter runs.
 */
import { NnDebugSession } from './session';

export { NnDebugSession, INLINE_VALUES_REQUEST, type InlineValuesBody } from './session';

/** Serves one debug session on stdin/stdout; resolves when the client closes the connection. */
export function runDebugAdapter(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<number> {
  const toStderr = (...a: unknown[]) => process.stderr.write(`${a.map(String).join(' ')}\n`);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  process.on('uncaughtException', (e) => process.stderr.write(`nnlens dap: ${e.stack ?? e.message}\n`));
  process.on('unhandledRejection', (e) => process.stderr.write(`nnlens dap: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`));
  const session = new NnDebugSession();
  session.start(input, output);
  return new Promise((resolve) => {
    input.on('end', () => resolve(0));
    input.on('close', () => resolve(0));
  });
}
