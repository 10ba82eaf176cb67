/**
 * The check worker's entry point (bundled as out/worker.js): runs check jobs (jobs.ts) off the
 * language server's main thread, one at a time, in the order they arrive. A job is cancelled
 * through a shared flag (Int32Array over a SharedArrayBuffer) that the checker polls. The host
 * side (server/engine-host.ts) terminates the worker if a cancelled job does not stop soon, and
 * restarts it when it crashes.
 */
import { parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './types';
import { runCheckJob } from './jobs';

const port = parentPort;
if (!port) throw new Error('engine/session/worker.ts runs as a worker thread');

function post(m: FromWorker): void {
  port?.postMessage(m);
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'crash') {
    // For the server's tests: a real, abrupt end of the worker.
    process.exit(70);
  }
  if (m.type !== 'check') return;
  const flag = new Int32Array(m.cancel);
  const shouldStop = () => Atomics.load(flag, 0) !== 0;
  let last = 0;
  try {
    const result = runCheckJob(m.request, shouldStop, (fraction) => {
      const now = Date.now();
      if (now - last < 100 && fraction < 1) return;
      last = now;
      post({ type: 'progress', id: m.id, done: Math.round(fraction * 1000), total: 1000 });
    });
    post({ type: 'result', id: m.id, result });
  } catch (e) {
    post({ type: 'error', id: m.id, message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
