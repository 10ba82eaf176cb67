/**
 * The numbers behind the loss chart: smoothing, log-scale filtering, the aligned table uPlot
 * draws, and the CSV export. Pure functions (no DOM), shared by the webview and the tests.
 */
import type { RunData } from './messages';

/**
 * Exponential moving average with TensorBoard's debiasing: the first values are not pulled
 * toward 0. `weight` in [0, 1): 0 returns the values unchanged. Nulls and non-finite values are
 * passed through and do not enter the average.
 */
export function smoothEma(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (!(weight > 0)) return values.slice();
  const w = Math.min(weight, 0.999);
  const out: (number | null)[] = new Array(values.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) { out[i] = v; continue; }
    last = last * w + (1 - w) * v;
    n++;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}

/** For a log axis: keep positive finite values, null out the rest (uPlot cannot place them). */
export function positiveOnly(values: readonly (number | null)[]): (number | null)[] {
  return values.map((v) => (v !== null && Number.isFinite(v) && v > 0 ? v : null));
}

export type Metric = 'loss' | 'valLoss' | 'accuracy';

export interface SeriesSpec {
  runId: string;
  metric: Metric;
  /** The raw (unsmoothed) companion drawn faintly behind a smoothed line. */
  raw: boolean;
  label: string;
}

export interface ChartTable {
  specs: SeriesSpec[];
  /** uPlot's aligned data: x (steps) first, then one column per spec. */
  data: [number[], ...(number | null)[][]];
}

export interface TableOptions {
  smoothing: number;
  logScale: boolean;
  /** Runs hidden by the user are left out. */
  hidden?: ReadonlySet<string>;
}

/** "Digits · 14:03:07" — model and local start time, the label that tells runs apart. */
export function runLabel(run: Pick<RunData, 'model' | 'startedAt'>): string {
  const d = new Date(run.startedAt);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${run.model} · ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export function metricLabel(metric: Metric, raw: boolean): string {
  const name = metric === 'loss' ? 'loss' : metric === 'valLoss' ? 'val loss' : 'accuracy';
  return raw ? `${name} (raw)` : name;
}

/** Which metrics a run has data for (or announced it will have). */
export function runMetrics(run: RunData): Metric[] {
  const m: Metric[] = ['loss'];
  if (run.hasValidation || run.points.valLoss.some((v) => v !== null)) m.push('valLoss');
  if (run.hasAccuracy || run.points.accuracy.some((v) => v !== null)) m.push('accuracy');
  return m;
}

/**
 * The table uPlot draws: every visible run's series on a shared x axis (the union of their
 * steps; a run has nulls where it has no sample, and its lines span those gaps). With
 * smoothing, loss and val loss each get a faint raw line plus the smoothed line; accuracy is
 * never smoothed (it is read against its own 0–1 axis).
 */
export function buildTable(runs: readonly RunData[], opts: TableOptions): ChartTable {
  const visible = runs.filter((r) => !opts.hidden?.has(r.runId) && r.points.step.length > 0);
  const specs: SeriesSpec[] = [];
  const perRun: { run: RunData; cols: (number | null)[][] }[] = [];
  for (const run of visible) {
    const cols: (number | null)[][] = [];
    const label = runLabel(run);
    for (const metric of runMetrics(run)) {
      const values = run.points[metric];
      const scale = (v: (number | null)[]) => (opts.logScale && metric !== 'accuracy' ? positiveOnly(v) : v);
      if (metric !== 'accuracy' && opts.smoothing > 0) {
        specs.push({ runId: run.runId, metric, raw: true, label: `${label} · ${metricLabel(metric, true)}` });
        cols.push(scale(values.slice()));
        specs.push({ runId: run.runId, metric, raw: false, label: `${label} · ${metricLabel(metric, false)}` });
        cols.push(scale(smoothEma(values, opts.smoothing)));
      } else {
        specs.push({ runId: run.runId, metric, raw: false, label: `${label} · ${metricLabel(metric, false)}` });
        cols.push(scale(values.slice()));
      }
    }
    perRun.push({ run, cols });
  }
  if (perRun.length === 0) return { specs, data: [[]] };
  if (perRun.length === 1 && isStrictlyIncreasing(perRun[0].run.points.step)) {
    return { specs, data: [perRun[0].run.points.step.slice(), ...perRun[0].cols] };
  }
  // Several runs (or a run whose steps repeat): align on the sorted union of steps.
  const xs = new Set<number>();
  for (const { run } of perRun) for (const s of run.points.step) xs.add(s);
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map<number, number>();
  x.forEach((s, i) => index.set(s, i));
  const columns: (number | null)[][] = [];
  for (const { run, cols } of perRun) {
    for (const col of cols) {
      const aligned: (number | null)[] = new Array(x.length).fill(null);
      run.points.step.forEach((s, i) => { aligned[index.get(s)!] = col[i]; });
      columns.push(aligned);
    }
  }
  return { specs, data: [x, ...columns] };
}

function isStrictlyIncreasing(a: readonly number[]): boolean {
  for (let i = 1; i < a.length; i++) if (!(a[i] > a[i - 1])) return false;
  return true;
}

function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * Every sample of every run, one row each (long format, ready for pandas or a spreadsheet):
 * `run,model,started,step,epoch,elapsed_ms,loss,loss_smoothed,val_loss,accuracy`.
 * `loss_smoothed` uses the panel's smoothing weight (equal to `loss` when smoothing is off).
 */
export function toCsv(runs: readonly RunData[], smoothing: number): string {
  const rows = ['run,model,started,step,epoch,elapsed_ms,loss,loss_smoothed,val_loss,accuracy'];
  for (const run of runs) {
    const p = run.points;
    const smoothed = smoothEma(p.loss, smoothing);
    const started = new Date(run.startedAt).toISOString();
    for (let i = 0; i < p.step.length; i++) {
      rows.push([
        runLabel(run), run.model, started, p.step[i], p.epoch[i], p.elapsedMs[i],
        p.loss[i], smoothed[i], p.valLoss[i], p.accuracy[i],
      ].map(csvField).join(','));
    }
  }
  return rows.join('\n') + '\n';
}

/** A compact number for the status line and legend: 4 significant digits, exponent when tiny. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}
