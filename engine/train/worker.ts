/**
 * The training worker's entry point (bundled as out/train-worker.js). `trainInWorker` starts it
 * with `workerData = { job, stop }`: it runs `runTraining` synchronously and posts
 *   { kind: 'start', plan }        once the data is loaded and the program compiled
 *   { kind: 'progress', progress } every 50 ms while steps run (at least every 100 ms), merging the
 *                                  loop's reports: the latest numbers and EVERY point of the loss
 *                                  curve since the previous message (a 300-epoch run that ends in
 *                                  0.1 s posts a few messages, not 300, and loses no epoch)
 *   { kind: 'done', outcome }      at the end (the weights' buffers transferred)
 *   { kind: 'error', message, stack }  when the job cannot run (the worker then exits)
 * The loop is synchronous, so a stop request cannot arrive as a message: the parent sets
 * `stop[0]` (an Int32Array over a SharedArrayBuffer) and the loop polls it with Atomics.load
 * before every step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTraining } from './trainer';
import type { WorkerData, WorkerMessage } from './protocol';
import type { TrainPoint, TrainProgress } from './types';

/** Messages at most this often (ms). */
const POST_INTERVAL_MS = 50;

function post(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(m, transfer);
}

function main(): void {
  if (!parentPort) throw new Error('train-worker.js runs inside a worker thread (see trainInWorker)');
  const { job, stop } = workerData as WorkerData;
  const flag = new Int32Array(stop);
  // reports since the last message: the latest, and every point of all of them
  let pending: TrainProgress | null = null;
  let points: TrainPoint[] = [];
  let postedAt = -Infinity;
  const flush = () => {
    if (!pending) return;
    post({ kind: 'progress', progress: { ...pending, points } });
    pending = null;
    points = [];
    postedAt = performance.now();
  };
  try {
    const outcome = runTraining(
      job,
      (progress) => {
        if (progress.points) for (const p of progress.points) points.push(p);
        pending = progress;
        if (performance.now() - postedAt >= POST_INTERVAL_MS) flush();
      },
      () => Atomics.load(flag, 0) !== 0,
      { onStart: (plan) => post({ kind: 'start', plan }) },
    );
    flush();
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
