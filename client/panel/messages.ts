/**
 * Messages between the loss panel's host (client/lossPanel.ts, in the extension host) and its
 * browser-side script (client/panel/main.ts, in the webview). Plain data only; no imports, so
 * both sides (and the tests) can use it.
 */

/** Where a run's numbers come from: a live training run of the language server, or a
 * JSON-lines training log (`nnlens train --json`) the user opened. */
export type RunSource = 'server' | 'log';

/**
 * `running`: live (a server run, or a log being followed). The rest are final:
 * `completed`, `stopped`, `diverged`, `error` as the server reported them, `interrupted` when the
 * window was reloaded while the run was live, `ended` when a log stopped being followed.
 */
export type RunStatus = 'running' | 'completed' | 'stopped' | 'diverged' | 'error' | 'interrupted' | 'ended';

export interface RunInfo {
  runId: string;
  model: string;
  /** Document (or log file) URI. */
  uri: string;
  source: RunSource;
  /** Wall-clock start, ms since 1970. */
  startedAt: number;
  /** Planned epochs and steps per epoch, when known. */
  epochs: number | null;
  stepsPerEpoch: number | null;
  hasValidation: boolean;
  hasAccuracy: boolean;
  status: RunStatus;
  /** The server's summary or error message once the run has ended. */
  message: string | null;
}

/** One progress sample. `step` is the global optimizer step (the chart's x axis). */
export interface RunPoint {
  step: number;
  epoch: number;
  loss: number;
  valLoss: number | null;
  accuracy: number | null;
  elapsedMs: number;
}

/** A run's samples, column-wise (cheap to store in webview state and to chart). */
export interface RunColumns {
  step: number[];
  epoch: number[];
  loss: number[];
  valLoss: (number | null)[];
  accuracy: (number | null)[];
  elapsedMs: number[];
}

export interface RunData extends RunInfo {
  points: RunColumns;
}

/** Host → webview. */
export type HostMessage =
  /** The full set of runs (sent in answer to `ready`). */
  | { type: 'init'; runs: RunData[] }
  | { type: 'runStarted'; run: RunData }
  | { type: 'points'; runId: string; points: RunPoint[] }
  | { type: 'runEnded'; runId: string; status: RunStatus; message: string | null }
  | { type: 'runsRemoved'; runIds: string[] }
  /** A run's latest decision boundary (models with a 2-D input; see client/panel/boundary.ts). */
  | { type: 'boundary'; runId: string; boundary: PanelBoundary };

/** A model's output over the plane of its 2-D input (`TrainBoundary` of server/protocol.ts). */
export interface PanelBoundary {
  x: [number, number];
  y: [number, number];
  size: number;
  outputs: number;
  kind: 'binary' | 'classes' | 'values';
  /** Cell (i, j), row i from the bottom: values[(i·size + j)·outputs + c]. */
  values: (number | null)[];
  points: { x: number; y: number; label: number }[];
  step: number;
  epoch: number;
}

/** Webview → host. */
export type PanelMessage =
  /** The script has loaded; `restored` holds the runs of its saved state (after a reload). */
  | { type: 'ready'; restored: RunData[] | null }
  | { type: 'stop'; runId: string }
  | { type: 'removeRun'; runId: string }
  | { type: 'clearFinished' }
  /** Export: `data` is UTF-8 text for CSV, base64 for PNG. */
  | { type: 'save'; kind: 'csv' | 'png'; fileName: string; data: string };

/** What the webview saves with `setState` (and VS Code hands back after a reload). */
export interface PanelState {
  version: 1;
  runs: RunData[];
  smoothing: number;
  logScale: boolean;
}

export function emptyColumns(): RunColumns {
  return { step: [], epoch: [], loss: [], valLoss: [], accuracy: [], elapsedMs: [] };
}

export function pushPoint(c: RunColumns, p: RunPoint): void {
  c.step.push(p.step);
  c.epoch.push(p.epoch);
  c.loss.push(p.loss);
  c.valLoss.push(p.valLoss);
  c.accuracy.push(p.accuracy);
  c.elapsedMs.push(p.elapsedMs);
}

/**
 * Points a run keeps at most. The server sends one per epoch (or per N steps of long epochs),
 * about 500 per run; a longer run (thousands of epochs) is decimated past this cap.
 */
export const MAX_RUN_POINTS = 5000;

/**
 * Appends points, then, past `cap`, halves the run's points by merging neighbouring pairs: the
 * later one's step, epoch and time, the mean of their losses, the later validation loss and
 * accuracy where it has them (else the earlier one's). The whole curve keeps its shape.
 */
export function appendPoints(c: RunColumns, points: readonly RunPoint[], cap = MAX_RUN_POINTS): void {
  for (const p of points) pushPoint(c, p);
  if (c.step.length <= cap) return;
  const n = c.step.length;
  const out = emptyColumns();
  const mean = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? (a + b) / 2 : Number.isFinite(b) ? b : a);
  for (let i = 0; i + 1 < n; i += 2) {
    out.step.push(c.step[i + 1]);
    out.epoch.push(c.epoch[i + 1]);
    out.loss.push(mean(c.loss[i], c.loss[i + 1]));
    out.valLoss.push(c.valLoss[i + 1] ?? c.valLoss[i]);
    out.accuracy.push(c.accuracy[i + 1] ?? c.accuracy[i]);
    out.elapsedMs.push(c.elapsedMs[i + 1]);
  }
  if (n % 2) pushPoint(out, { step: c.step[n - 1], epoch: c.epoch[n - 1], loss: c.loss[n - 1], valLoss: c.valLoss[n - 1], accuracy: c.accuracy[n - 1], elapsedMs: c.elapsedMs[n - 1] });
  c.step = out.step;
  c.epoch = out.epoch;
  c.loss = out.loss;
  c.valLoss = out.valLoss;
  c.accuracy = out.accuracy;
  c.elapsedMs = out.elapsedMs;
}

export function isLive(status: RunStatus): boolean {
  return status === 'running';
}
