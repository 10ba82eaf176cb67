/**
 * The main thread's side of an engine worker (out/worker.js): posts check jobs, relays their
 * progress, cancels them (a shared flag; the worker is terminated if a cancelled job does not stop
 * within a grace period), bounds their time, and restarts the worker after a crash. A crash
 * rejects the jobs in flight with a `WorkerCrash` that says what happened; the next job starts a
 * fresh worker.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CheckJobRequest, CheckJobResult, FromWorker, ToWorker } from '../engine/session/types';

export class WorkerCrash extends Error {
  constructor(
    message: string,
    /** 'crash' (the worker died), 'timeout' (a job took too long), 'cancel-timeout', 'shutdown'. */
    readonly reason: 'crash' | 'timeout' | 'cancel-timeout' | 'shutdown',
  ) {
    super(message);
  }
}

export class JobCancelled extends Error {
  constructor() {
    super('the check was cancelled');
  }
}

/** Where out/worker.js is: next to the running bundle, or (tests from source) in ../out. */
export function defaultWorkerScript(): string {
  const candidates = [join(__dirname, 'worker.js'), join(__dirname, '..', 'out', 'worker.js')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

export interface JobOptions {
  onProgress?: (fraction: number) => void;
  /** Terminate the worker when the job runs longer than this. */
  timeoutMs?: number;
}

export interface JobHandle {
  readonly promise: Promise<CheckJobResult>;
  /** Asks the job to stop; the promise rejects with JobCancelled. */
  cancel(): void;
}

interface Pending {
  id: number;
  flag: Int32Array;
  resolve: (r: CheckJobResult) => void;
  reject: (e: Error) => void;
  opts: JobOptions;
  timer?: NodeJS.Timeout;
  cancelTimer?: NodeJS.Timeout;
  cancelled: boolean;
  started: number;
}

export interface EngineWorkerStats {
  restarts: number;
  crashes: number;
  jobs: number;
  running: boolean;
  pending: number;
}

/** Grace period for a cancelled job before its worker is terminated. */
const CANCEL_GRACE_MS = 2000;
/** Resource limits of a worker: the V8 heap (typed arrays live outside it). */
const HEAP_MB = 1024;

export class EngineWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private generation = 0;
  private readonly counts = { restarts: 0, crashes: 0, jobs: 0 };

  constructor(
    readonly name: string,
    private readonly script: string = defaultWorkerScript(),
    /** Called when a worker dies or is terminated while jobs were running. */
    private readonly onCrash: (error: WorkerCrash) => void = () => undefined,
  ) {}

  get stats(): EngineWorkerStats {
    return { ...this.counts, running: this.worker !== undefined, pending: this.pending.size };
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    if (this.generation > 0) this.counts.restarts++;
    const gen = ++this.generation;
    const w = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
    w.unref();
    w.on('message', (m: FromWorker) => this.onMessage(m));
    w.on('error', (e) => this.died(gen, new WorkerCrash(`the engine worker crashed: ${e.message}`, 'crash')));
    w.on('exit', (code) => {
      if (this.generation === gen && this.worker) {
        this.died(gen, new WorkerCrash(`the engine worker exited unexpectedly (exit code ${code})`, 'crash'));
      }
    });
    this.worker = w;
    return w;
  }

  /** Starts a check job. */
  run(request: CheckJobRequest, opts: JobOptions = {}): JobHandle {
    const id = this.nextId++;
    const sab = new SharedArrayBuffer(4);
    const flag = new Int32Array(sab);
    let pending!: Pending;
    const promise = new Promise<CheckJobResult>((resolve, reject) => {
      pending = { id, flag, resolve, reject, opts, cancelled: false, started: Date.now() };
    });
    this.pending.set(id, pending);
    this.counts.jobs++;
    try {
      const w = this.ensure();
      if (w.listenerCount('message') > 0) w.ref();
      const msg: ToWorker = { type: 'check', id, cancel: sab, request };
      w.postMessage(msg);
    } catch (e) {
      this.pending.delete(id);
      pending.reject(new WorkerCrash(`the engine worker could not start: ${(e as Error).message}`, 'crash'));
    }
    if (opts.timeoutMs !== undefined && this.pending.has(id)) {
      pending.timer = setTimeout(() => {
        this.kill(new WorkerCrash(`the check took longer than ${Math.round(opts.timeoutMs as number / 1000)} s and was stopped`, 'timeout'));
      }, opts.timeoutMs);
    }
    return {
      promise,
      cancel: () => this.cancel(id),
    };
  }

  private cancel(id: number): void {
    const p = this.pending.get(id);
    if (!p || p.cancelled) return;
    p.cancelled = true;
    Atomics.store(p.flag, 0, 1);
    p.cancelTimer = setTimeout(() => {
      if (this.pending.has(id)) this.kill(new WorkerCrash('a cancelled check did not stop; the worker was restarted', 'cancel-timeout'));
    }, CANCEL_GRACE_MS);
  }

  private onMessage(m: FromWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') {
      if (!p.cancelled) p.opts.onProgress?.(m.done / m.total);
      return;
    }
    this.settle(p);
    if (m.type === 'result') {
      if (p.cancelled || m.result.cancelled) p.reject(new JobCancelled());
      else p.resolve(m.result);
    } else {
      p.reject(new Error(m.message));
    }
  }

  private settle(p: Pending): void {
    clearTimeout(p.timer);
    clearTimeout(p.cancelTimer);
    this.pending.delete(p.id);
    if (this.pending.size === 0) this.worker?.unref();
  }

  /** Terminates the worker; jobs in flight reject with `error` (cancelled ones with JobCancelled). */
  private kill(error: WorkerCrash): void {
    const w = this.worker;
    this.worker = undefined;
    this.generation++;
    if (w) void w.terminate();
    this.rejectAll(error);
  }

  private died(gen: number, error: WorkerCrash): void {
    if (gen !== this.generation) return;
    this.worker = undefined;
    this.counts.crashes++;
    this.rejectAll(error);
  }

  private rejectAll(error: WorkerCrash): void {
    const hadJobs = this.pending.size > 0;
    for (const p of [...this.pending.values()]) {
      this.settle(p);
      p.reject(p.cancelled ? new JobCancelled() : error);
    }
    if (hadJobs || error.reason === 'crash') this.onCrash(error);
  }

  /** Makes the worker exit abruptly (tests of crash handling). */
  crashForTest(): void {
    const w = this.ensure();
    w.postMessage({ type: 'crash' } satisfies ToWorker);
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.generation++;
    this.rejectAll(new WorkerCrash('the language server is shutting down', 'shutdown'));
    if (w) await w.terminate();
  }
}
