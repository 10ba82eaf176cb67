/**
 * The training runs the extension knows about: live server runs and opened training logs.
 * The loss panel shows them; the status bar and the "training active" context key follow them.
 * The store outlives the panel (close and reopen it: the runs are still there); after a window
 * reload the panel's saved state brings them back (`restore`). No VS Code API here.
 */
import type { TrainProgressParams } from '../server/protocol';
import {
  appendPoints, emptyColumns, isLive,
  type RunData, type RunInfo, type RunPoint, type RunStatus,
} from './panel/messages';

/**
 * The loss curve's points a progress notification carries: every point since the previous one
 * (servers that send `points`), or the notification itself as one point (older servers).
 */
export function progressPoints(p: TrainProgressParams): RunPoint[] {
  if (p.points) return p.points.map((q) => ({ ...q }));
  return [{ step: p.step, epoch: p.epoch, loss: p.loss, valLoss: p.valLoss, accuracy: p.accuracy, elapsedMs: p.elapsedMs }];
}

export type StoreEvent =
  | { type: 'started'; run: RunData }
  | { type: 'points'; runId: string; points: RunPoint[] }
  | { type: 'ended'; runId: string; status: RunStatus; message: string | null }
  | { type: 'removed'; runIds: string[] };

export type NewRun = Omit<RunInfo, 'status' | 'message'> & { status?: RunStatus };

export class RunStore {
  private runs: RunData[] = [];
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  /** `maxRuns`: finished runs beyond this many are dropped, oldest first. */
  constructor(public maxRuns = 8) {}

  onEvent(listener: (e: StoreEvent) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(e: StoreEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  all(): readonly RunData[] {
    return this.runs;
  }

  get(runId: string): RunData | undefined {
    return this.runs.find((r) => r.runId === runId);
  }

  live(): RunData[] {
    return this.runs.filter((r) => isLive(r.status));
  }

  latest(): RunData | undefined {
    return this.runs[this.runs.length - 1];
  }

  /** Adds a run, or updates what is known about it (progress can arrive before the train
   * request's answer: the run is then created from the first progress and completed here). */
  start(info: NewRun): RunData {
    const existing = this.get(info.runId);
    if (existing) {
      const { status: _s, ...rest } = info;
      Object.assign(existing, rest);
      return existing;
    }
    const run: RunData = { ...info, status: info.status ?? 'running', message: null, points: emptyColumns() };
    this.runs.push(run);
    this.prune();
    this.emit({ type: 'started', run });
    return run;
  }

  addPoints(runId: string, points: RunPoint[]): void {
    const run = this.get(runId);
    if (!run || points.length === 0) return;
    appendPoints(run.points, points);
    this.emit({ type: 'points', runId, points });
  }

  /** Marks a run as ended; a run that has already ended keeps its first status. */
  end(runId: string, status: RunStatus, message: string | null): void {
    const run = this.get(runId);
    if (!run || !isLive(run.status)) return;
    run.status = status;
    run.message = message;
    this.emit({ type: 'ended', runId, status, message });
    this.prune();
  }

  remove(runIds: string[]): void {
    const gone = runIds.filter((id) => this.get(id) && !isLive(this.get(id)!.status));
    if (gone.length === 0) return;
    this.runs = this.runs.filter((r) => !gone.includes(r.runId));
    this.emit({ type: 'removed', runIds: gone });
  }

  clearFinished(): void {
    this.remove(this.runs.filter((r) => !isLive(r.status)).map((r) => r.runId));
  }

  /** Brings back runs saved by the panel before a window reload. Runs that were live then
   * cannot be continued (the server and its worker were restarted): they become `interrupted`. */
  restore(saved: readonly RunData[] | null | undefined): void {
    if (!saved) return;
    for (const r of saved) {
      if (!r || typeof r.runId !== 'string' || this.get(r.runId)) continue;
      const run: RunData = {
        ...r,
        status: isLive(r.status) ? 'interrupted' : r.status,
        message: isLive(r.status) ? 'The window was reloaded while this run was live.' : r.message,
        points: r.points ?? emptyColumns(),
      };
      this.runs.push(run);
      this.emit({ type: 'started', run });
    }
    this.runs.sort((a, b) => a.startedAt - b.startedAt);
    this.prune();
  }

  private prune(): void {
    const excess = this.runs.length - Math.max(1, this.maxRuns);
    if (excess <= 0) return;
    const drop = this.runs.filter((r) => !isLive(r.status)).slice(0, excess).map((r) => r.runId);
    if (drop.length === 0) return;
    this.runs = this.runs.filter((r) => !drop.includes(r.runId));
    this.emit({ type: 'removed', runIds: drop });
  }
}
