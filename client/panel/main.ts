/**
 * The loss panel's browser-side script (bundled to out/panel.js, runs inside the webview).
 *
 * It keeps the runs it was sent, draws them with uPlot, and redraws at most once per animation
 * frame however many progress messages arrive in between. The host (client/lossPanel.ts) owns
 * the runs; this script's `setState` copy only serves to restore the panel after a reload.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './panel.css';
import {
  appendPoints, emptyColumns, isLive,
  type HostMessage, type PanelMessage, type PanelState, type RunData, type RunStatus,
} from './messages';
import { buildTable, fmt, metricLabel, runLabel, toCsv, type ChartTable, type SeriesSpec } from './series';
import { mountBoundary, type BoundaryProbe } from './boundary';

interface VsCodeApi {
  postMessage(message: PanelMessage): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What tests (and curious users in the webview devtools) can read: the data uPlot holds. */
export interface ChartProbe {
  runs(): { runId: string; model: string; label: string; status: RunStatus; points: number }[];
  series(): { label: string; runId: string; metric: string; raw: boolean; scale: string; length: number; last: number | null; values: (number | null)[] }[];
  x(): number[];
  readonly smoothing: number;
  readonly logScale: boolean;
  /** uPlot's distribution of the loss axis: 1 linear, 3 logarithmic. */
  readonly yDistr: number | null;
  /** The loss axis' label ('loss' or 'loss (log)'). */
  readonly yLabel: string | null;
  /** How many times the chart was drawn, and how many progress messages arrived. */
  readonly draws: number;
  readonly messages: number;
  readonly renders: number;
  csv(): string;
}
declare global {
  interface Window { __nnlensChart?: ChartProbe; __nnlensBoundary?: BoundaryProbe }
}

const vscode = acquireVsCodeApi();
const saved = vscode.getState();

let runs: RunData[] = saved?.version === 1 ? saved.runs : [];
let smoothing = saved?.version === 1 ? saved.smoothing : 0.6;
let logScale = saved?.version === 1 ? saved.logScale : false;
const hidden = new Set<string>();

// ---------------------------------------------------------------------------------------------
// DOM

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const header = el('header', 'nn-header');
const title = el('h1', 'nn-title', 'Loss');
const status = el('div', 'nn-status');
status.setAttribute('role', 'status');
header.append(title, status);

const toolbar = el('div', 'nn-toolbar');
const smoothLabel = el('label', 'nn-smoothing');
smoothLabel.append('Smoothing ');
const smoothInput = el('input');
smoothInput.type = 'range';
smoothInput.min = '0';
smoothInput.max = '0.99';
smoothInput.step = '0.01';
smoothInput.value = String(smoothing);
smoothInput.id = 'smoothing';
const smoothValue = el('output', 'nn-smoothing-value', smoothing.toFixed(2));
smoothLabel.append(smoothInput, smoothValue);

const logLabel = el('label', 'nn-log');
const logInput = el('input');
logInput.type = 'checkbox';
logInput.id = 'log-scale';
logInput.checked = logScale;
logLabel.append(logInput, ' Log scale');

const stopButton = el('button', 'nn-stop', 'Stop');
stopButton.id = 'stop';
stopButton.title = 'Stop the live training run';
const csvButton = el('button', 'nn-secondary', 'Export CSV');
csvButton.id = 'export-csv';
const pngButton = el('button', 'nn-secondary', 'Export PNG');
pngButton.id = 'export-png';
const clearButton = el('button', 'nn-secondary', 'Clear finished');
clearButton.id = 'clear';
clearButton.title = 'Remove the runs that have ended';
toolbar.append(smoothLabel, logLabel, el('span', 'nn-spacer'), stopButton, csvButton, pngButton, clearButton);

const runList = el('ul', 'nn-runs');
runList.setAttribute('aria-label', 'Runs');
const chartBox = el('div', 'nn-chart');
const empty = el('div', 'nn-empty');
const emptyWhy = el('p', undefined, 'No training runs yet.');
const emptyHow = el('p', undefined, 'Open a .nn file and run “NN Lens: Train Model” (the ▷ button in the editor title), ' +
  'or “NN Lens: Open Training Log…” for a log written by `nnlens train --json`.');
empty.append(emptyWhy, emptyHow);
chartBox.append(empty);
document.body.append(header, toolbar, runList, chartBox);
const boundaryView = mountBoundary(chartBox);
window.__nnlensBoundary = boundaryView.probe;

// ---------------------------------------------------------------------------------------------
// Theme

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

interface Theme {
  key: string;
  fg: string;
  muted: string;
  grid: string;
  background: string;
  font: string;
  palette: string[];
}

function readTheme(): Theme {
  const palette = [
    cssVar('--vscode-charts-blue', '#3794ff'),
    cssVar('--vscode-charts-orange', '#d18616'),
    cssVar('--vscode-charts-green', '#89d185'),
    cssVar('--vscode-charts-purple', '#b180d7'),
    cssVar('--vscode-charts-red', '#f14c4c'),
    cssVar('--vscode-charts-yellow', '#cca700'),
  ];
  const fg = cssVar('--vscode-foreground', '#cccccc');
  const muted = cssVar('--vscode-descriptionForeground', '#9d9d9d');
  const grid = cssVar('--vscode-editorWidget-border', cssVar('--vscode-widget-border', 'rgba(128,128,128,0.35)'));
  const background = cssVar('--vscode-editor-background', '#1e1e1e');
  const family = cssVar('--vscode-font-family', 'system-ui, sans-serif');
  const size = cssVar('--vscode-font-size', '12px');
  const font = `${size} ${family}`;
  return { key: [document.body.className, ...palette, fg, grid, background, font].join('|'), fg, muted, grid, background, font, palette };
}

let theme = readTheme();

// ---------------------------------------------------------------------------------------------
// Chart

let chart: uPlot | null = null;
let chartKey = '';
let table: ChartTable = { specs: [], data: [[]] };
/** The stroke colour of each spec's series, as drawn (for the PNG export's legend). */
let seriesColors: string[] = [];
let draws = 0;
let messages = 0;
let renders = 0;

function seriesColor(spec: SeriesSpec, runIndex: number, single: boolean): string {
  if (single) {
    const i = spec.metric === 'loss' ? 0 : spec.metric === 'valLoss' ? 1 : 2;
    return theme.palette[i];
  }
  return theme.palette[runIndex % theme.palette.length];
}

function runColor(runId: string): string {
  const visible = visibleRuns();
  const i = visible.findIndex((r) => r.runId === runId);
  if (i < 0) return theme.muted;
  return visible.length === 1 ? theme.palette[0] : theme.palette[i % theme.palette.length];
}

function visibleRuns(): RunData[] {
  return runs.filter((r) => !hidden.has(r.runId) && r.points.step.length > 0);
}

function chartSize(): { width: number; height: number } {
  const legend = chart?.root.querySelector('.u-legend') as HTMLElement | null;
  const width = Math.max(200, chartBox.clientWidth);
  const height = Math.max(160, chartBox.clientHeight - (legend?.offsetHeight ?? 0) - 8);
  return { width, height };
}

function destroyChart(): void {
  if (!chart) return;
  const legend = chart.root.querySelector('.u-legend');
  if (legend) resizer.unobserve(legend);
  chart.destroy();
  chart = null;
}

function makeChart(): void {
  destroyChart();
  const visible = visibleRuns();
  const single = visible.length === 1;
  const runIndex = new Map(visible.map((r, i) => [r.runId, i]));
  const hasAccuracy = table.specs.some((s) => s.metric === 'accuracy');
  const axis = (o: uPlot.Axis): uPlot.Axis => ({
    stroke: theme.fg,
    font: theme.font,
    labelFont: theme.font,
    grid: { stroke: theme.grid, width: 1 },
    ticks: { stroke: theme.grid, width: 1 },
    ...o,
  });
  const series: uPlot.Series[] = [{ label: 'step' }];
  seriesColors = [];
  for (const spec of table.specs) {
    const color = seriesColor(spec, runIndex.get(spec.runId) ?? 0, single);
    seriesColors.push(color);
    series.push({
      // One run: the run is named in the header, the legend names the metrics.
      label: single ? metricLabel(spec.metric, spec.raw) : spec.label,
      scale: spec.metric === 'accuracy' ? 'acc' : 'y',
      stroke: color,
      width: spec.raw ? 1 : 2,
      alpha: spec.raw ? 0.3 : 1,
      dash: spec.metric === 'valLoss' ? [6, 4] : spec.metric === 'accuracy' ? [2, 3] : undefined,
      spanGaps: true,
      points: { show: spec.raw ? false : undefined },
      // The faint raw line behind a smoothed one needs no legend entry of its own.
      class: spec.raw ? 'nn-raw' : undefined,
      value: (_u, v) => (spec.metric === 'accuracy' && v !== null ? `${fmt(v * 100)}%` : fmt(v)),
    });
  }
  const axes: uPlot.Axis[] = [
    axis({ label: 'step' }),
    axis({ scale: 'y', label: logScale ? 'loss (log)' : 'loss', size: 60 }),
  ];
  if (hasAccuracy) {
    axes.push(axis({ scale: 'acc', side: 1, label: 'accuracy', grid: { show: false }, size: 50,
      values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`) }));
  }
  const opts: uPlot.Options = {
    ...chartSize(),
    scales: {
      x: { time: false },
      y: logScale ? { distr: 3, log: 10 } : { distr: 1 },
      acc: { range: [0, 1] },
    },
    axes,
    series,
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    hooks: { draw: [() => { draws++; }] },
  };
  chart = new uPlot(opts, table.data as uPlot.AlignedData, chartBox);
  // The legend's height is known only once it is laid out (and changes when it wraps):
  // fit the plot into the box now and whenever the box or the legend changes size.
  const legend = chart.root.querySelector('.u-legend');
  if (legend) resizer.observe(legend);
  fit();
}

function fit(): void {
  if (!chart) return;
  const size = chartSize();
  if (size.width !== chart.width || size.height !== chart.height) chart.setSize(size);
}

const resizer = new ResizeObserver(() => fit());
resizer.observe(chartBox);

function structureKey(): string {
  return [theme.key, logScale, ...table.specs.map((s) => `${s.runId}/${s.metric}/${s.raw}`)].join('\n');
}

function render(): void {
  renderPending = false;
  renders++;
  table = buildTable(runs, { smoothing, logScale, hidden });
  const hasData = table.specs.length > 0;
  empty.style.display = hasData ? 'none' : '';
  emptyWhy.textContent = runs.length === 0 ? 'No training runs yet.'
    : runs.some((r) => r.points.step.length > 0) ? 'Every run is hidden: tick one above to show it.'
    : 'Waiting for the first numbers…';
  emptyHow.style.display = runs.length === 0 ? '' : 'none';
  if (!hasData) {
    destroyChart();
    chartKey = '';
  } else {
    const key = structureKey();
    if (!chart || key !== chartKey) {
      chartKey = key;
      makeChart();
    } else {
      chart.setData(table.data as uPlot.AlignedData, true);
    }
  }
  renderHeader();
  renderRunList();
  saveStateSoon();
}

let renderPending = false;
function requestRender(): void {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(render);
}

// ---------------------------------------------------------------------------------------------
// Header, run list, buttons

function latestRun(): RunData | undefined {
  return runs[runs.length - 1];
}

function lastNonNull(values: readonly (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null) return v;
  }
  return null;
}

/** A whole number as the status bar and the stop message write it (115,027). */
const count = (v: number) => v.toLocaleString('en-US');

function describe(run: RunData): string {
  const p = run.points;
  const n = p.step.length;
  const parts: string[] = [runLabel(run)];
  if (n > 0) {
    const epoch = p.epoch[n - 1];
    parts.push(run.epochs ? `epoch ${count(epoch)}/${count(run.epochs)}` : `epoch ${count(epoch)}`);
    parts.push(`step ${count(p.step[n - 1])}`);
    parts.push(`loss ${fmt(p.loss[n - 1])}`);
    const val = lastNonNull(p.valLoss);
    if (val !== null) parts.push(`val ${fmt(val)}`);
    const acc = lastNonNull(p.accuracy);
    if (acc !== null) parts.push(`accuracy ${fmt(acc * 100)}%`);
  }
  parts.push(run.status === 'running' ? (run.source === 'log' ? 'following' : 'training…') : run.status);
  return parts.join(' · ');
}

function renderHeader(): void {
  const run = latestRun();
  title.textContent = run ? `Loss — ${run.model}` : 'Loss';
  const note = run?.message && !isLive(run.status) && run.message.toLowerCase() !== run.status ? ` — ${run.message}` : '';
  status.textContent = run ? describe(run) + note : '';
  const live = runs.some((r) => isLive(r.status));
  stopButton.disabled = !live;
  const anyData = runs.some((r) => r.points.step.length > 0);
  csvButton.disabled = !anyData;
  pngButton.disabled = !chart;
  clearButton.disabled = !runs.some((r) => !isLive(r.status));
}

let runListKey = '';
function renderRunList(): void {
  const key = [theme.key, ...runs.map((r) => `${r.runId}/${r.status}/${hidden.has(r.runId)}/${r.points.step.length > 0}`)].join('|');
  if (key === runListKey) return;
  runListKey = key;
  runList.replaceChildren();
  for (const run of runs) {
    const li = el('li', 'nn-run');
    li.dataset.runId = run.runId;
    if (hidden.has(run.runId)) li.classList.add('nn-run-hidden');
    const swatch = el('span', 'nn-swatch');
    swatch.style.background = runColor(run.runId);
    const show = el('input');
    show.type = 'checkbox';
    show.checked = !hidden.has(run.runId);
    show.title = 'Show this run';
    show.addEventListener('change', () => {
      if (show.checked) hidden.delete(run.runId); else hidden.add(run.runId);
      requestRender();
    });
    const label = el('span', 'nn-run-label', runLabel(run));
    label.title = run.uri;
    const badge = el('span', `nn-badge nn-badge-${run.status}`, run.status === 'running' ? (run.source === 'log' ? 'following' : 'live') : run.status);
    li.append(show, swatch, label, badge);
    if (!isLive(run.status)) {
      const remove = el('button', 'nn-remove', '×');
      remove.title = 'Remove this run';
      remove.setAttribute('aria-label', `Remove ${runLabel(run)}`);
      remove.addEventListener('click', () => vscode.postMessage({ type: 'removeRun', runId: run.runId }));
      li.append(remove);
    }
    runList.append(li);
  }
}

smoothInput.addEventListener('input', () => {
  smoothing = Number(smoothInput.value);
  smoothValue.textContent = smoothing.toFixed(2);
  requestRender();
});
logInput.addEventListener('change', () => {
  logScale = logInput.checked;
  requestRender();
});
stopButton.addEventListener('click', () => {
  for (const run of runs) if (isLive(run.status)) vscode.postMessage({ type: 'stop', runId: run.runId });
});
clearButton.addEventListener('click', () => vscode.postMessage({ type: 'clearFinished' }));
csvButton.addEventListener('click', () => {
  const run = latestRun();
  vscode.postMessage({ type: 'save', kind: 'csv', fileName: `${run?.model ?? 'runs'}-loss.csv`, data: toCsv(runs, smoothing) });
});
pngButton.addEventListener('click', () => {
  const data = exportPng();
  if (!data) return;
  const run = latestRun();
  vscode.postMessage({ type: 'save', kind: 'png', fileName: `${run?.model ?? 'runs'}-loss.png`, data });
});

/** The chart as a PNG (base64): the plot canvas on the theme's background, a title and a legend. */
function exportPng(): string | null {
  if (!chart) return null;
  const plot = chart.ctx.canvas;
  const ratio = plot.width / Math.max(1, plot.clientWidth || plot.width);
  const lineHeight = Math.round(18 * ratio);
  const visibleSpecs = table.specs.filter((s, i) => !s.raw && chart!.series[i + 1]?.show !== false);
  const top = Math.round(28 * ratio);
  const canvas = document.createElement('canvas');
  canvas.width = plot.width;
  canvas.height = top + plot.height + lineHeight * visibleSpecs.length + Math.round(8 * ratio);
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = theme.fg;
  ctx.font = `${Math.round(14 * ratio)}px ${cssVar('--vscode-font-family', 'sans-serif')}`;
  ctx.textBaseline = 'middle';
  ctx.fillText(title.textContent ?? 'Loss', Math.round(8 * ratio), top / 2);
  ctx.drawImage(plot, 0, top);
  ctx.font = `${Math.round(12 * ratio)}px ${cssVar('--vscode-font-family', 'sans-serif')}`;
  visibleSpecs.forEach((spec, i) => {
    const y = top + plot.height + lineHeight * (i + 0.5) + Math.round(4 * ratio);
    ctx.strokeStyle = seriesColors[table.specs.indexOf(spec)] ?? theme.fg;
    ctx.globalAlpha = spec.raw ? 0.4 : 1;
    ctx.lineWidth = 2 * ratio;
    ctx.setLineDash((spec.metric === 'valLoss' ? [6, 4] : spec.metric === 'accuracy' ? [2, 3] : []).map((d) => d * ratio));
    ctx.beginPath();
    ctx.moveTo(Math.round(12 * ratio), y);
    ctx.lineTo(Math.round(36 * ratio), y);
    ctx.stroke();
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    ctx.fillText(spec.label, Math.round(44 * ratio), y);
  });
  return canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

// ---------------------------------------------------------------------------------------------
// State, messages, resizing, theme changes

let saveTimer: ReturnType<typeof setTimeout> | undefined;
function saveStateSoon(): void {
  if (saveTimer !== undefined) return;
  saveTimer = setTimeout(saveState, 1000);
}
function saveState(): void {
  if (saveTimer !== undefined) clearTimeout(saveTimer);
  saveTimer = undefined;
  vscode.setState({ version: 1, runs, smoothing, logScale });
}

function findRun(runId: string): RunData | undefined {
  return runs.find((r) => r.runId === runId);
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'init':
      runs = msg.runs.map((r) => ({ ...r, points: r.points ?? emptyColumns() }));
      for (const id of [...hidden]) if (!findRun(id)) hidden.delete(id);
      break;
    case 'runStarted':
      if (!findRun(msg.run.runId)) runs.push(msg.run);
      break;
    case 'points': {
      const run = findRun(msg.runId);
      if (!run) return;
      messages++;
      appendPoints(run.points, msg.points);
      break;
    }
    case 'runEnded': {
      const run = findRun(msg.runId);
      if (!run) return;
      run.status = msg.status;
      run.message = msg.message;
      saveState();
      break;
    }
    case 'runsRemoved':
      runs = runs.filter((r) => !msg.runIds.includes(r.runId));
      for (const id of msg.runIds) hidden.delete(id);
      boundaryView.forget(msg.runIds);
      break;
    case 'boundary':
      boundaryView.update(msg.runId, msg.boundary);
      return;
    default:
      return;
  }
  requestRender();
});

new MutationObserver(() => {
  const next = readTheme();
  if (next.key !== theme.key) {
    theme = next;
    chartKey = '';
    requestRender();
  }
}).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });

window.__nnlensChart = {
  runs: () => runs.map((r) => ({ runId: r.runId, model: r.model, label: runLabel(r), status: r.status, points: r.points.step.length })),
  series: () => table.specs.map((spec, i) => {
    const col = (chart?.data[i + 1] ?? []) as (number | null | undefined)[];
    const values = Array.from(col, (v) => (v === undefined ? null : v));
    return {
      label: spec.label, runId: spec.runId, metric: spec.metric, raw: spec.raw,
      scale: spec.metric === 'accuracy' ? 'acc' : 'y',
      length: values.filter((v) => v !== null).length,
      last: lastNonNull(values),
      values,
    };
  }),
  x: () => Array.from((chart?.data[0] ?? []) as number[]),
  get smoothing() { return smoothing; },
  get logScale() { return logScale; },
  get yDistr() { return chart ? (chart.scales.y.distr ?? 1) : null; },
  get yLabel() { return chart ? String(chart.axes[1].label ?? '') : null; },
  get draws() { return draws; },
  get messages() { return messages; },
  get renders() { return renders; },
  csv: () => toCsv(runs, smoothing),
};

render();
vscode.postMessage({ type: 'ready', restored: saved?.version === 1 ? saved.runs : null });
