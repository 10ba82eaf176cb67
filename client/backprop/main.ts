/**
 * The Backprop view's browser-side script (bundled to out/backprop.js, runs in the webview).
 *
 * It draws the trace it is sent with render/ (the same picture as `nnlens graph`), steps
 * through it (▶ the forward pass one op at a time, ◀ then the backward pass, Play both),
 * shows what is selected (a tensor as heatmaps with a tooltip per element, a weight as
 * ∂C/∂w = a × δ with its numbers), lists the `backward` block's lines, and says why there is no
 * picture when there is none (the model's errors, an example out of range).
 */
import { fmt, heatmapCells, heatmapLayout, indexText, renderTrace, styleRules } from '../../render';
import type { TraceResult, TraceView } from '../../server/protocol';
import type { HostMessage, LineRange, ViewMessage, ViewState } from './messages';
import './backprop.css';

interface VsCodeApi {
  postMessage(message: ViewMessage): void;
  getState(): ViewState | undefined;
  setState(state: ViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

type Selection = { kind: 'tensor'; name: string; phase: 'forward' | 'backward' } | { kind: 'weight'; param: string; index: number } | null;

/** What tests (and curious users in the webview devtools) can read. */
export interface BackpropProbe {
  status(): string;
  level(): string | null;
  stepping(): number | null;
  selection(): Selection;
  trace(): TraceView | null;
  renders: number;
}
declare global {
  interface Window {
    __nnlensBackprop?: BackpropProbe;
  }
}

const vscode = acquireVsCodeApi();
const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? '';
{
  const st = document.createElement('style');
  st.nonce = nonce;
  st.textContent = styleRules();
  document.head.append(st);
}

// ---------------------------------------------------------------------------------------------
// DOM

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function button(id: string, label: string, tip: string): HTMLButtonElement {
  const b = el('button', 'nn-button', label);
  b.id = id;
  b.title = tip;
  return b;
}

const header = el('header', 'nn-header');
const title = el('h1', 'nn-title', 'Backprop');
const status = el('div', 'nn-status');
status.setAttribute('role', 'status');
header.append(title, status);

const toolbar = el('div', 'nn-toolbar');
const modelLabel = el('label', 'nn-model-label', 'Model ');
const modelSelect = el('select');
modelSelect.id = 'model';
modelLabel.append(modelSelect);
const exampleLabel = el('label', undefined, 'Example ');
const prevExample = button('prev-example', '‹', 'Previous example');
const exampleInput = el('input');
exampleInput.type = 'number';
exampleInput.id = 'example';
exampleInput.min = '1';
exampleInput.value = '1';
const nextExample = button('next-example', '›', 'Next example');
const exampleOf = el('span', 'nn-muted', '');
exampleLabel.append(prevExample, exampleInput, nextExample, exampleOf);
const weightsLabel = el('label', undefined, 'Weights ');
const weightsSelect = el('select');
weightsSelect.id = 'weights';
for (const [v, t] of [['initial', 'initial'], ['trained', 'last trained']]) {
  const o = el('option', undefined, t);
  o.value = v;
  weightsSelect.append(o);
}
weightsLabel.append(weightsSelect);
const showAll = button('show-all', 'Show all', 'Show the whole forward and backward pass');
const stepForward = button('step-forward', '▶ Forward', 'Run the forward pass one op at a time');
const stepBackward = button('step-backward', '◀ Backward', 'Then run the backward pass one op at a time, from C back');
const play = button('play', 'Play', 'Animate the forward pass, then the backward pass');
const stepLabel = el('span', 'nn-step-label');
stepLabel.id = 'step-label';
const fitLabel = el('label', 'nn-fit-label');
const fitInput = el('input');
fitInput.type = 'checkbox';
fitInput.id = 'fit';
fitInput.checked = true;
fitLabel.append(fitInput, ' Fit');
fitLabel.title = 'Scale the picture to the width of the view';
const steps = el('span', 'nn-steps');
steps.append(showAll, stepForward, stepBackward, play, stepLabel);
toolbar.append(modelLabel, exampleLabel, weightsLabel, fitLabel, steps);

const message = el('div', 'nn-message');
message.id = 'message';
const main = el('div', 'nn-main');
const picture = el('div', 'nn-picture nn-fit');
picture.id = 'picture';
const aside = el('aside', 'nn-details');
const details = el('div', 'nn-selection');
details.id = 'details';
const readout = el('div', 'nn-readout');
readout.id = 'readout';
const lines = el('div', 'nn-lines');
lines.id = 'lines';
aside.append(details, readout, lines);
main.append(picture, aside);
document.body.append(header, toolbar, message, main);

// ---------------------------------------------------------------------------------------------
// State

const saved = vscode.getState();
let result: TraceResult | null = null;
let trace: TraceView | null = null;
let example = saved?.example ?? 1;
let weights: 'initial' | 'trained' = saved?.weights ?? 'initial';
let stepping: number | null = null;
let playTimer: ReturnType<typeof setInterval> | undefined;
let selection: Selection = null;
let renders = 0;
let busy = false;
let uri = saved?.uri ?? '';
/** The editor's last cursor line: selects its node when a model's first trace arrives. */
let lastCursor: number | null = null;

window.__nnlensBackprop = {
  status: () => (busy ? 'busy' : (result?.status ?? 'waiting')),
  level: () => picture.querySelector('svg')?.getAttribute('data-level') ?? null,
  stepping: () => stepping,
  selection: () => selection,
  trace: () => trace,
  get renders() {
    return renders;
  },
};

function saveState(): void {
  if (!trace && result?.status !== 'errors') return;
  const model = trace?.model ?? (result && 'model' in result ? (result.model ?? '') : '');
  vscode.setState({ version: 1, uri, model, example, weights });
}

const nodeOf = (name: string) => trace?.nodes.find((n) => n.name === name);
const forwardCount = () => trace?.steps.filter((s) => s.phase === 'forward').length ?? 0;

// ---------------------------------------------------------------------------------------------
// Answers

function showMessage(html: HTMLElement | string | null): void {
  message.replaceChildren();
  if (html === null) {
    message.hidden = true;
    return;
  }
  message.hidden = false;
  if (typeof html === 'string') message.textContent = html;
  else message.append(html);
}

function onTrace(r: TraceResult, ex: number, w: 'initial' | 'trained'): void {
  busy = false;
  document.body.classList.remove('nn-busy');
  result = r;
  example = ex;
  weights = w;
  modelSelect.replaceChildren(
    ...r.models.map((m) => {
      const o = el('option', undefined, m);
      o.value = m;
      return o;
    }),
  );
  modelLabel.hidden = r.models.length < 2;
  if (r.status === 'ok') {
    const newModel = trace?.model !== r.trace.model;
    trace = r.trace;
    if (newModel) {
      selection = null;
      stepping = null;
      stopPlay();
    }
    modelSelect.value = trace.model;
    title.textContent = `Backprop — ${trace.model}`;
    const src = trace.examples.source === 'random' ? 'random check data' : `data ${trace.examples.source}`;
    status.textContent = `example ${trace.example} of ${trace.examples.count} (${src}) · ${trace.weights} · C = ${fmt(trace.loss)}`;
    exampleInput.max = String(trace.examples.count);
    exampleInput.value = String(trace.example);
    exampleOf.textContent = ` of ${trace.examples.count} (${src})`;
    weightsSelect.value = r.weights;
    (weightsSelect.options[1] as HTMLOptionElement).disabled = !r.trainedAvailable;
    weightsSelect.options[1].textContent = r.trainedAvailable ? 'last trained' : 'last trained (none yet)';
    showMessage(trace.nonFinite ? `⚠ ${trace.nonFinite}` : null);
    main.hidden = false;
    steps.hidden = false;
    drawPicture();
    if (newModel && lastCursor !== null) onCursor(lastCursor);
  } else {
    trace = null;
    stopPlay();
    stepping = null;
    main.hidden = true;
    steps.hidden = true;
    const model = r.model ?? '';
    if (model) modelSelect.value = model;
    title.textContent = model ? `Backprop — ${model}` : 'Backprop';
    status.textContent = '';
    if (r.status === 'errors') {
      const box = el('div', 'nn-errors');
      box.append(el('p', 'nn-error-title', r.message));
      const list = el('ul');
      for (const d of r.diagnostics) {
        const li = el('li', 'nn-error-item');
        const a = el('a', undefined, `line ${d.line + 1}: ${d.message}${d.code ? ` (${d.code})` : ''}`);
        a.href = '#';
        a.addEventListener('click', (e) => {
          e.preventDefault();
          reveal({ start: { line: d.line, character: d.character }, end: { line: d.endLine, character: d.endCharacter } });
        });
        li.append(a);
        list.append(li);
      }
      box.append(list);
      showMessage(box);
    } else {
      showMessage(el('p', 'nn-unavailable', r.message));
    }
    post({ type: 'step', range: null });
  }
  saveState();
}

function drawPicture(): void {
  if (!trace) return;
  picture.innerHTML = renderTrace(trace, { style: false });
  renders++;
  // fitting never shrinks the picture below half its size: a smaller one scrolls instead
  const svg = picture.querySelector('svg');
  if (svg) svg.style.minWidth = `${Math.round(0.5 * Number(svg.getAttribute('width')))}px`;
  const S = trace.steps.length;
  if (stepping !== null && stepping >= S) stepping = S - 1;
  applyStep(false);
  if (selection && !selectionExists(selection)) selection = null;
  applySelection();
  drawLines();
}

function selectionExists(s: NonNullable<Selection>): boolean {
  if (s.kind === 'tensor') return !!nodeOf(s.name);
  const p = nodeOf(s.param);
  return !!p && s.index < p.value.length;
}

// ---------------------------------------------------------------------------------------------
// Steps

function backwardStepOf(statement: string): number {
  return trace?.steps.findIndex((s) => s.phase === 'backward' && s.statement === statement) ?? -1;
}

function applyStep(notify = true): void {
  if (!trace) return;
  const k = stepping;
  const F = forwardCount();
  const S = trace.steps.length;
  const cur = k !== null && k >= 0 ? trace.steps[k] : null;
  const svg = picture.querySelector('svg');
  svg?.classList.toggle('nn-stepping', k !== null);
  for (const g of Array.from(picture.querySelectorAll<SVGGElement>('.nn-node'))) {
    const n = nodeOf(g.dataset.name ?? '');
    if (!n) continue;
    const fwd = g.dataset.phase === 'forward';
    const pending = k !== null && (fwd ? n.step > k : n.gradStep > k);
    const active = !!cur && (cur.phase === 'forward') === fwd && cur.reveals.includes(n.name);
    g.classList.toggle('nn-pending', pending);
    g.classList.toggle('nn-active', active);
    g.classList.toggle('nn-source', !!cur && !fwd && cur.phase === 'backward' && cur.statement === n.name && !active);
  }
  for (const g of Array.from(picture.querySelectorAll<SVGGElement>('.nn-edge'))) {
    const idx = (g.dataset.edge ?? '').split(' ').filter(Boolean).map(Number);
    const fwd = g.dataset.phase === 'forward';
    const to = nodeOf(g.dataset.to ?? '');
    const at = fwd ? (to?.step ?? -1) : backwardStepOf(g.dataset.to ?? '');
    g.classList.toggle('nn-pending', k !== null && at > k);
    g.classList.toggle('nn-active', !!cur && (cur.phase === 'forward') === fwd && idx.some((i) => cur.edges.includes(i)));
  }
  for (const g of Array.from(picture.querySelectorAll<SVGGElement>('.nn-amps, .nn-amp'))) {
    const at = backwardStepOf(g.dataset.name ?? '');
    g.classList.toggle('nn-pending', k !== null && at > k);
    g.classList.toggle('nn-active', !!cur && cur.phase === 'backward' && cur.statement === g.dataset.name);
  }
  stepLabel.textContent = cur ? `step ${k! + 1} of ${S} — ${cur.label}` : k === -1 ? `step 0 of ${S} — nothing computed yet` : '';
  showAll.disabled = k === null;
  stepForward.disabled = k !== null && k >= F - 1;
  stepBackward.disabled = k !== null && k >= S - 1;
  play.textContent = playTimer ? 'Pause' : 'Play';
  if (notify) post({ type: 'step', range: cur ? cur.range : null });
}

function setStep(k: number | null): void {
  stepping = k;
  applyStep();
}

function forward(): void {
  if (!trace) return;
  const F = forwardCount();
  if (stepping === null) setStep(0);
  else if (stepping < F - 1) setStep(stepping + 1);
}

function backward(): void {
  if (!trace) return;
  const F = forwardCount();
  const S = trace.steps.length;
  if (stepping === null || stepping < F - 1) setStep(F);
  else if (stepping < S - 1) setStep(stepping + 1);
}

function stopPlay(): void {
  if (playTimer) clearInterval(playTimer);
  playTimer = undefined;
  play.textContent = 'Play';
}

function togglePlay(): void {
  if (!trace) return;
  if (playTimer) {
    stopPlay();
    return;
  }
  if (stepping === null || stepping >= trace.steps.length - 1) setStep(-1);
  playTimer = setInterval(() => {
    if (!trace || stepping === null || stepping >= trace.steps.length - 1) {
      stopPlay();
      applyStep(false);
      return;
    }
    setStep(stepping + 1);
  }, 700);
  applyStep(false);
}

// ---------------------------------------------------------------------------------------------
// Selection and details

function applySelection(): void {
  for (const e of Array.from(picture.querySelectorAll('.nn-selected'))) e.classList.remove('nn-selected');
  const s = selection;
  if (s?.kind === 'tensor') {
    for (const g of Array.from(picture.querySelectorAll<SVGGElement>('.nn-node'))) {
      if (g.dataset.name === s.name) g.classList.add('nn-selected');
    }
  } else if (s?.kind === 'weight') {
    for (const e of Array.from(picture.querySelectorAll<SVGElement>(`[data-param="${CSS.escape(s.param)}"][data-index="${s.index}"]`))) e.classList.add('nn-selected');
  }
  drawDetails();
}

function select(s: Selection): void {
  selection = s;
  applySelection();
}

function heatmapSvg(values: (number | null)[], shape: number[], label: string, what: string): HTMLElement {
  const lay = heatmapLayout(shape, { maxWidth: 560, maxHeight: 420, maxCells: 256, minCell: 3, maxCell: 18 });
  let max = 0;
  for (const v of values) if (v !== null && Number.isFinite(v)) max = Math.max(max, Math.abs(v));
  const box = el('div', 'nn-heatmap');
  box.innerHTML =
    `<svg xmlns="http://www.w3.org/2000/svg" class="nn-svg" width="${lay.width}" height="${lay.height}" data-label="${label}">` +
    heatmapCells(values, shape, lay, 0, 0, max || 1, label, what) +
    `</svg>`;
  const legend = el('div', 'nn-muted', `±${fmt(max || 1)} · ${values.length} element${values.length === 1 ? '' : 's'}${lay.rowBlock > 1 || lay.colBlock > 1 ? ` · each cell the mean of ${lay.rowBlock}×${lay.colBlock}` : ''}`);
  box.append(legend);
  return box;
}

function section(name: string, body: HTMLElement): HTMLElement {
  const s = el('section', 'nn-detail');
  s.append(el('h3', undefined, name), body);
  return s;
}

function drawDetails(): void {
  details.replaceChildren();
  readout.textContent = '';
  if (!trace) return;
  const s = selection;
  if (!s) {
    details.append(el('p', 'nn-muted', 'Click a node or a connection to see its numbers; move the cursor in the editor to select the node of its line.'));
    return;
  }
  if (s.kind === 'weight') return weightDetails(s.param, s.index);
  const n = nodeOf(s.name);
  if (!n) return;
  const head = el('h2', undefined, `${n.kind === 'loss' ? 'loss ' : ''}${n.name} [${n.shape.join(', ')}]`);
  head.dataset.name = n.name;
  details.append(head, el('p', 'nn-muted', `${n.expr ? `${n.name} = ${n.expr}` : n.kind} — line ${n.line}`));
  details.append(section(`values ${n.name}`, heatmapSvg(n.value, n.shape, n.name, 'value')));
  if (n.grad) details.append(section(`δ = ∂Cⁿ/∂${n.name}`, heatmapSvg(n.grad, n.shape, n.name, '∂C/∂')));
  const amp = trace.amplifiers.find((a) => a.statement === n.name);
  if (amp) {
    details.append(
      section(`the amplifier ${amp.fn}′(z), z = ${amp.zText}: ∂C/∂z = ${amp.fn}′(z) × ∂C/∂${n.name}`, heatmapSvg(amp.slope, n.shape, `${amp.fn}′`, 'σ′')),
    );
  }
  const line = trace.backward.find((l) => l.name === n.name);
  if (line) {
    const mark = line.status === 'ok' ? '✓' : line.status === 'wrong' ? '✗' : line.status === 'dependent' ? '≈' : '?';
    const p = el('p', `nn-line-status nn-${line.status}`, `${mark} line ${line.line}: ${line.message}`);
    details.append(p);
    if (line.user) details.append(section(`yours: grad ${line.name} (line ${line.line})`, heatmapSvg(line.user, line.shape, `grad ${line.name}`, 'yours')));
    details.append(section(`true ∂Cⁿ/∂${line.name}`, heatmapSvg(line.truth, line.shape, `grad ${line.name}`, 'true')));
  }
}

function weightDetails(param: string, k: number): void {
  if (!trace) return;
  const p = nodeOf(param);
  if (!p) return;
  const at = indexText(param, p.shape, k);
  const g = p.grad?.[k] ?? null;
  const box = el('div', 'nn-weight');
  box.dataset.param = param;
  box.dataset.index = String(k);
  const use = trace.weightUses.find((u) => u.param === param);
  const lines: string[] = [];
  if (use && p.shape.length === 2) {
    const cols = p.shape[1];
    const [i, j] = use.side === 'left' ? [Math.floor(k / cols), k % cols] : [k % cols, Math.floor(k / cols)];
    const a = use.input.value[j];
    const d = use.delta.value[i];
    const aName = use.input.name ?? `(${use.input.text})`;
    const dName = use.delta.name ?? `(${use.delta.text})`;
    lines.push(
      `∂C/∂${at} = a[${j}] × δ[${i}]`,
      `= ${aName}[${j}] × ∂C/∂${dName}[${i}]`,
      `= ${fmt(a)} × ${fmt(d)} = ${fmt(a !== null && d !== null ? a * d : null)}`,
    );
    box.append(el('p', 'nn-muted', `forward part a = ${aName}, the layer's input; backward part δ = ∂Cⁿ/∂${dName}`));
  } else {
    const bias = trace.edges.find((e) => e.from === param && e.op === '+');
    if (bias) lines.push(`∂C/∂${at} = δ[${k}] = ∂C/∂${bias.to}[${k}] (the forward part of a bias is 1)`);
    lines.push(`∂C/∂${at} = ${fmt(g)}`);
  }
  const pre = el('pre', 'nn-formula', lines.join('\n'));
  pre.id = 'formula';
  box.prepend(el('h2', undefined, at));
  box.append(pre, el('p', undefined, `${at} = ${fmt(p.value[k])}; the trace's ∂Cⁿ/∂${at} = ${fmt(g)}`));
  details.append(box);
}

function drawLines(): void {
  lines.replaceChildren();
  if (!trace || trace.backward.length === 0) return;
  lines.append(el('h3', undefined, 'backward block'));
  const ul = el('ul');
  for (const l of trace.backward) {
    const mark = l.status === 'ok' ? '✓' : l.status === 'wrong' ? '✗' : l.status === 'dependent' ? '≈' : '?';
    const li = el('li', `nn-line nn-${l.status}`);
    li.dataset.line = String(l.line);
    const a = el('a', undefined, `${mark} line ${l.line}: grad ${l.name}`);
    a.href = '#';
    a.title = l.message;
    a.addEventListener('click', (e) => {
      e.preventDefault();
      select({ kind: 'tensor', name: l.name, phase: 'backward' });
      reveal(l.range);
    });
    li.append(a);
    if (l.status === 'wrong' || l.status === 'dependent') li.append(el('div', 'nn-muted', l.message));
    ul.append(li);
  }
  lines.append(ul);
}

// ---------------------------------------------------------------------------------------------
// Events

function post(m: ViewMessage): void {
  vscode.postMessage(m);
}

function reveal(range: LineRange): void {
  post({ type: 'reveal', range });
}

picture.addEventListener('click', (e) => {
  if (!trace) return;
  const t = e.target as Element;
  const w = t.closest<SVGElement>('.nn-w, .nn-bias');
  if (w?.dataset.param) {
    select({ kind: 'weight', param: w.dataset.param, index: Number(w.dataset.index) });
    return;
  }
  const g = t.closest<SVGGElement>('.nn-node, .nn-line-note');
  const name = g?.dataset.name;
  const n = name ? nodeOf(name) : undefined;
  if (!g || !n) return;
  const phase = g.dataset.phase === 'backward' || g.classList.contains('nn-line-note') ? 'backward' : 'forward';
  select({ kind: 'tensor', name: n.name, phase });
  const line = phase === 'backward' ? trace.backward.find((l) => l.name === n.name) : undefined;
  reveal(line ? line.range : (n.stmtRange ?? n.range));
});

aside.addEventListener('mouseover', (e) => {
  const r = (e.target as Element).closest('rect');
  const tip = r?.querySelector('title')?.textContent;
  if (tip) readout.textContent = tip;
});

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const m = e.data;
  switch (m.type) {
    case 'trace':
      uri = m.uri;
      if (m.cursor !== null) lastCursor = m.cursor;
      onTrace(m.result, m.example, m.weights);
      break;
    case 'busy':
      busy = true;
      document.body.classList.add('nn-busy');
      break;
    case 'cursor':
      onCursor(m.line);
      break;
  }
});

function within(r: LineRange | null, line: number): boolean {
  return !!r && line >= r.start.line && line <= r.end.line;
}

function onCursor(line: number): void {
  lastCursor = line;
  if (!trace) return;
  const l = trace.backward.find((x) => within(x.range, line));
  if (l && nodeOf(l.name)) return select({ kind: 'tensor', name: l.name, phase: 'backward' });
  const n = trace.nodes.find((x) => within(x.stmtRange, line)) ?? trace.nodes.find((x) => x.range.start.line === line);
  if (n && !(selection?.kind === 'tensor' && selection.name === n.name)) select({ kind: 'tensor', name: n.name, phase: 'forward' });
}

const setExample = (n: number) => {
  const max = trace?.examples.count ?? Infinity;
  if (!Number.isInteger(n) || n < 1) n = 1;
  if (n > max && Number.isFinite(max)) n = Math.min(n, max);
  exampleInput.value = String(n);
  example = n;
  post({ type: 'setExample', example: n });
};
exampleInput.addEventListener('change', () => {
  const n = Number(exampleInput.value);
  // an example out of range goes to the server as typed: the view shows why there is no trace
  if (Number.isInteger(n) && n >= 1) {
    example = n;
    post({ type: 'setExample', example: n });
  } else exampleInput.value = String(example);
});
prevExample.addEventListener('click', () => setExample(example - 1));
nextExample.addEventListener('click', () => setExample(example + 1));
weightsSelect.addEventListener('change', () => post({ type: 'setWeights', weights: weightsSelect.value === 'trained' ? 'trained' : 'initial' }));
modelSelect.addEventListener('change', () => post({ type: 'setModel', model: modelSelect.value }));
showAll.addEventListener('click', () => {
  stopPlay();
  setStep(null);
});
stepForward.addEventListener('click', () => {
  stopPlay();
  forward();
});
stepBackward.addEventListener('click', () => {
  stopPlay();
  backward();
});
play.addEventListener('click', togglePlay);
fitInput.addEventListener('change', () => picture.classList.toggle('nn-fit', fitInput.checked));

steps.hidden = true;
main.hidden = true;
showMessage('Tracing…');
post({ type: 'ready', state: saved ?? null });
