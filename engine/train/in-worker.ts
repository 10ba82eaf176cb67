/**
 * `trainInWorker`: the training loop in a worker_thread, for callers that must stay responsive
 * (the language server, the CLI's Ctrl-C). The worker (out/train-worker.js, see ./worker.ts) runs
 * `runTraining` synchronously; this side relays its messages and stops it through a
 * SharedArrayBuffer flag the loop polls before every step (a message could not arrive during the
 * synchronous loop).
 *
 * Guarantees:
 * - progress every 50 ms while steps run (at least every 100 ms), each report carrying every point
 *   of the loss curve since the previous one (`TrainProgress.points`: one per epoch at least), and
 *   a last report before the run resolves;
 * - the job's data (`loadedData`, `data`) goes to the worker without a copy: its arrays are
 *   transferred (detached in this thread afterwards);
 * - after `signal` aborts, the run stops before its next step (well within 200 ms) and resolves
 *   with reason 'stopped' and the weights after the last finished step. Aborted before the worker
 *   has loaded its data and compiled the program, it is terminated at once and resolves with the
 *   initial weights (0 steps). A worker that has not stopped `stopTimeoutMs` after the abort is
 *   terminated and the promise rejects;
 * - a job that cannot run (no such model, data that cannot be loaded), an exception or a crash in
 *   the worker, a missing worker script: the promise rejects with a message saying which; it
 *   never hangs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { initParams } from '../init';
import { DEFAULT_TRAIN_OPTIONS } from '../ir';
import type { WorkerData, WorkerMessage } from './protocol';
import type { TrainJob, TrainOutcome, TrainPlan, TrainProgress } from './types';

export interface TrainInWorkerOptions {
  onProgress?: (progress: TrainProgress) => void;
  /** Once the data is loaded and the program compiled, before the first step. */
  onStart?: (plan: TrainPlan) => void;
  signal?: AbortSignal;
  /** The worker script (default: `train-worker.js` next to this bundle — see `defaultWorkerScript`). */
  workerScript?: string;
  /** How long a worker may take to stop after an abort before it is terminated (ms, default 2000). */
  stopTimeoutMs?: number;
  /**
   * For a model with a 2-D input, its output over the plane (`TrainProgress.boundary`) at most
   * this often (ms; wider apart when a picture costs more: `pictureDue`). Absent: none —
   * computing it costs a forward pass per cell.
   */
  boundaryIntervalMs?: number;
}

/** `train-worker.js` in the folder of the running bundle (out/ for the CLI and the server). */
export function defaultWorkerScript(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  return join(here, 'train-worker.js');
}

export function trainInWorker(job: TrainJob, opts: TrainInWorkerOptions = {}): Promise<TrainOutcome> {
  return new Promise<TrainOutcome>((resolve, reject) => {
    const script = opts.workerScript ?? defaultWorkerScript();
    if (!existsSync(script)) {
      reject(new Error(`the training worker script ${script} does not exist (build it with npm run build)`));
      return;
    }
    const stopTimeout = opts.stopTimeoutMs ?? 2000;
    const t0 = performance.now();
    const stop = new SharedArrayBuffer(4);
    const flag = new Int32Array(stop);
    const data: WorkerData = { job, stop, ...(opts.boundaryIntervalMs ? { boundaryIntervalMs: opts.boundaryIntervalMs } : {}) };
    const transferList = [
      ...new Set([job.loadedData, job.data].flatMap((d) => (d ? [d.x.buffer, d.y.buffer] : [])).filter((b) => b instanceof ArrayBuffer)),
    ] as ArrayBuffer[];
    let worker: Worker;
    try {
      worker = new Worker(script, { workerData: data, transferList });
    } catch (e) {
      reject(new Error(`could not start the training worker ${script}: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    let settled = false;
    let started = false;
    let watchdog: ReturnType<typeof setTimeout> | null = null;

    const settle = () => {
      settled = true;
      if (watchdog) clearTimeout(watchdog);
      opts.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
    };
    const fail = (err: Error) => {
      if (settled) return;
      settle();
      reject(err);
    };
    const succeed = (outcome: TrainOutcome) => {
      if (settled) return;
      settle();
      resolve(outcome);
    };
    function onAbort(): void {
      if (settled) return;
      Atomics.store(flag, 0, 1);
      if (!started) {
        succeed(stoppedBeforeStart(job, performance.now() - t0));
        return;
      }
      watchdog ??= setTimeout(
        () => fail(new Error(`the training worker did not stop within ${stopTimeout} ms of the abort; it was terminated`)),
        stopTimeout,
      );
    }

    worker.on('message', (m: WorkerMessage) => {
      if (settled) return;
      try {
        switch (m.kind) {
          case 'start':
            started = true;
            opts.onStart?.(m.plan);
            break;
          case 'progress':
            opts.onProgress?.(m.progress);
            break;
          case 'done':
            succeed(m.outcome);
            break;
          case 'error':
            fail(new Error(`training failed: ${m.message}`));
            break;
        }
      } catch (e) {
        // a callback of ours threw: stop the run and report it
        fail(e instanceof Error ? e : new Error(String(e)));
      }
    });
    worker.on('error', (e: Error) => fail(new Error(`the training worker crashed: ${e.message}`)));
    worker.on('messageerror', (e: Error) => fail(new Error(`a message from the training worker could not be read: ${e.message}`)));
    worker.on('exit', (code: number) => fail(new Error(`the training worker exited (code ${code}) before it finished`)));
    if (opts.signal) {
      if (opts.signal.aborted) onAbort();
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

/** The outcome of a run stopped before its first step: the weights it would have started from. */
function stoppedBeforeStart(job: TrainJob, elapsedMs: number): TrainOutcome {
  const model = job.program.models.find((m) => m.name === job.model);
  let params: Record<string, Float64Array> = {};
  if (job.initialParams) {
    for (const [k, v] of Object.entries(job.initialParams)) params[k] = Float64Array.from(v);
  } else if (model) {
    const seed = job.options?.seed ?? job.program.trains.find((t) => t.model === model.name)?.options.seed ?? DEFAULT_TRAIN_OPTIONS.seed;
    params = initParams(model, seed);
  }
  return {
    reason: 'stopped',
    params,
    message: 'stopped before the first step; kept the initial weights',
    epochs: 0,
    steps: 0,
    finalLoss: null,
    finalValLoss: null,
    finalAccuracy: null,
    elapsedMs,
  };
}
