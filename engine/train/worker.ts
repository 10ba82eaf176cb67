/**
 * The training worker's entry point (bundled as out/train-worker.js). `trainInWorker` starts it
 * with `workerData = { job, stop }`: it runs `runTraining` synchronously and posts
 *   { kind: 'start', plan }        once the data is loaded and the program compiled
 *   { kind: 'progress', progress } at least every 100 ms and at every epoch's end
 *   { kind: 'done', outcome }      at the end (the weights' buffers transferred)
 *   { kind: 'error', message, stack }  when the job cannot run (the worker then exits)
 * The loop is synchronous, so a stop request cannot arrive as a message: the parent sets
 * `stop[0]` (an Int32Array over a SharedArrayBuffer) and the loop polls it with Atomics.load
 * before every step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTraining } from './trainer';
import type { WorkerData, WorkerMessage } from './protocol';

function post(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(m, transfer);
}

function main(): void {
  if (!parentPort) throw new Error('train-worker.js runs inside a worker thread (see trainInWorker)');
  const { job, stop } = workerData as WorkerData;
  const flag = new Int32Array(stop);
  try {
    const outcome = runTraining(
      job,
      (progress) => post({ kind: 'progress', progress }),
      () => Atomics.load(flag, 0) !== 0,
      { onStart: (plan) => post({ kind: 'start', plan }) },
    );
    post(
      { kind: 'done', outcome },
      Object.values(outcome.params).map((a) => a.buffer as ArrayBuffer),
    );
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ kind: 'error', message: err.message, stack: err.stack ?? '' });
  }
}

main();
