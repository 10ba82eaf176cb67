/**
 * The picture of a trace (issue 10): the forward graph left to right (inputs → layers → loss)
 * and below it the backward pass as the reversed network, from C back, each nonlinearity's
 * σ′(z) drawn as an amplifier (▷) with its numbers.
 *
 * - Neuron level, when every layer has at most 32 units and every param is a layer's weights
 *   (`W @ a`) or bias (`+ b`): units as circles coloured by value, connections coloured and
 *   sized by weight, as in TF Playground. In the backward part the units hold δ = ∂Cⁿ/∂unit
 *   and the connections are coloured by ∂Cⁿ/∂w = a × δ.
 * - Tensor level otherwise: one block per tensor with its shape and a small heatmap.
 *
 * Layout by @dagrejs/dagre (ranks left to right); the backward part reuses the forward
 * positions so that each tensor's δ sits under its value. Pure: a function from the trace's
 * data to an SVG string, no DOM. Elements carry data attributes the Backprop view hooks into:
 * `data-name` (a tensor), `data-edge` (an index into `trace.edges`), `data-index` (an element),
 * `data-param` + `data-index` (a weight), `data-phase` (forward | backward).
 */
import dagre from '@dagrejs/dagre';
import type { TraceData, TraceDataAmplifier, TraceDataLine, TraceDataNode } from '../engine/session/trace';
import { fillOf, levelColor, levelName, STEPS, strokeOf, styleSheet } from './colors';
import { heatmapCells, heatmapLayout } from './heatmap';
import { el, esc, fix, fmt, pathThrough, text, textWidth, title } from './svg';

export type Level = 'neuron' | 'tensor';

export interface RenderOptions {
  /** Default 'auto': neuron level when it fits (see `neuronLevel`). */
  level?: 'auto' | Level;
  /** Draw the backward part (default true). */
  backward?: boolean;
  /** The title line and the legend (default true). */
  header?: boolean;
  /**
   * Embed the `<style>` of the colour classes (default true; a webview with a strict CSP injects
   * `styleRules()` itself instead).
   */
  style?: boolean;
}

export interface Scales {
  /** Max |value| of the forward values (inputs, named values, the loss). */
  value: number;
  /** Max |value| of the params. */
  weight: number;
  /** Max |∂C/∂X| over every tensor but the loss and the params. */
  grad: number;
  /** Max |∂C/∂w| over the params. */
  paramGrad: number;
}

const maxAbs = (xs: readonly (number | null)[] | null) => {
  let m = 0;
  if (xs) for (const v of xs) if (v !== null && Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
};
const or1 = (x: number) => (x > 0 ? x : 1);

export function scalesOf(t: TraceData): Scales {
  let value = 0;
  let weight = 0;
  let grad = 0;
  let paramGrad = 0;
  for (const n of t.nodes) {
    if (n.kind === 'param') {
      weight = Math.max(weight, maxAbs(n.value));
      paramGrad = Math.max(paramGrad, maxAbs(n.grad));
    } else {
      value = Math.max(value, maxAbs(n.value));
      if (n.kind !== 'loss') grad = Math.max(grad, maxAbs(n.grad));
    }
  }
  for (const a of t.amplifiers) grad = Math.max(grad, maxAbs(a.zGrad));
  return { value: or1(value), weight: or1(weight), grad: or1(grad), paramGrad: or1(paramGrad) };
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Whether the trace can be drawn at neuron level, and if not, why. */
export function neuronLevel(t: TraceData): { ok: true } | { ok: false; why: string } {
  const byName = new Map(t.nodes.map((n) => [n.name, n]));
  for (const n of t.nodes) {
    if (n.kind === 'param') continue;
    if (n.shape.length > 1) return { ok: false, why: `${n.name} is a matrix [${n.shape.join(', ')}]` };
    if (sizeOf(n.shape) > 32) return { ok: false, why: `${n.name} has ${sizeOf(n.shape)} units (more than 32)` };
  }
  for (const e of t.edges) {
    const p = byName.get(e.from);
    if (p?.kind !== 'param') continue;
    const s = byName.get(e.to)!;
    const w = t.weightUses.find((u) => u.param === e.from && u.statement === e.to);
    const asWeight =
      e.op === '@' && w && w.side === 'left' && w.input.name !== null && byName.get(w.input.name)?.kind !== 'param' && sizeOf(w.delta.shape) === sizeOf(s.shape);
    const asBias = e.op === '+' && p.shape.length === 1 && sizeOf(p.shape) === sizeOf(s.shape);
    if (!asWeight && !asBias) return { ok: false, why: `param ${p.name} is not a layer's weights or bias` };
  }
  return { ok: true };
}

export function levelOf(t: TraceData, opts: RenderOptions = {}): Level {
  if (opts.level && opts.level !== 'auto') return opts.level;
  return neuronLevel(t).ok ? 'neuron' : 'tensor';
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

const FONT = 11;
const SMALL = 9;
const MARGIN = 20;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function arrowDefs(): string {
  return el(
    'defs',
    {},
    el('marker', { id: 'nn-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      el('path', { d: 'M0,0L10,5L0,10z', class: 'nn-arrowhead' })),
  );
}

/** The amplifier symbol: a triangle pointing left (δ flows right to left), its tip at (x, y). */
function ampTriangle(x: number, y: number, w: number, h: number): string {
  return el('path', { d: `M${fix(x)},${fix(y)}L${fix(x + w)},${fix(y - h / 2)}L${fix(x + w)},${fix(y + h / 2)}Z`, class: 'nn-amp-shape', 'stroke-width': 1.2 });
}

function legend(x: number, y: number, s: Scales, level: Level): { svg: string; width: number } {
  const cell = 7;
  const bar = (bx: number, label: string, lo: string, hi: string) => {
    const cells: string[] = [];
    for (let l = -STEPS; l <= STEPS; l++) {
      cells.push(el('rect', { x: bx + (l + STEPS) * cell, y, width: cell, height: 10, fill: levelColor(l), class: `f${levelName(l)}` }));
    }
    const w = (2 * STEPS + 1) * cell;
    return {
      svg:
        text(bx, y - 4, label, { class: 'nn-muted', 'font-size': SMALL }) +
        cells.join('') +
        text(bx, y + 21, lo, { class: 'nn-muted', 'font-size': SMALL }) +
        text(bx + w / 2, y + 21, '0', { class: 'nn-muted', 'font-size': SMALL, 'text-anchor': 'middle' }) +
        text(bx + w, y + 21, hi, { class: 'nn-muted', 'font-size': SMALL, 'text-anchor': 'end' }),
      w: Math.max(w, textWidth(label, SMALL)),
    };
  };
  if (level === 'tensor') {
    const a = bar(x, 'each heatmap on its own scale (negative · 0 · positive)', '−max|·|', '+max|·|');
    return { svg: el('g', { class: 'nn-legend' }, a.svg), width: a.w };
  }
  const a = bar(x, 'values a', fmt(-s.value), fmt(s.value));
  const b = bar(x + a.w + 24, 'weights w', fmt(-s.weight), fmt(s.weight));
  const c = bar(x + a.w + b.w + 48, 'gradients δ = ∂Cⁿ/∂·', fmt(-s.grad), fmt(s.grad));
  const d = bar(x + a.w + b.w + c.w + 72, 'weight gradients ∂Cⁿ/∂w', fmt(-s.paramGrad), fmt(s.paramGrad));
  return { svg: el('g', { class: 'nn-legend' }, a.svg, b.svg, c.svg, d.svg), width: a.w + b.w + c.w + d.w + 72 };
}

function headerText(t: TraceData): string {
  const src = t.examples.source === 'random' ? 'random check data' : `data ${t.examples.source}`;
  return `${t.model} — example ${t.example} of ${t.examples.count} (${src}), ${t.weights}: C = ${fmt(t.loss)}`;
}

/** A short line of numbers for notes: all when few, else the first ones. */
function few(v: readonly (number | null)[] | null, n = 4): string {
  if (!v) return '—';
  if (v.length === 1) return fmt(v[0]);
  const head = v.slice(0, n).map(fmt).join(', ');
  return v.length > n ? `[${head}, …]` : `[${head}]`;
}

function lineNote(l: TraceDataLine, x: number, y: number, anchor: 'start' | 'middle' = 'middle'): string {
  const mark = l.status === 'wrong' ? '✗' : '≈';
  const what = l.status === 'wrong' ? 'wrong' : `uses ${l.dependsOn.map((d) => `grad ${d}`).join(', ')}`;
  return el(
    'g',
    { class: `nn-line-note nn-${l.status}`, 'data-line': l.line, 'data-name': l.name },
    title(l.message),
    text(x, y, `${mark} line ${l.line}: grad ${l.name} ${what}`, { class: l.status === 'wrong' ? 'nn-error' : 'nn-muted', 'text-anchor': anchor, 'font-size': SMALL + 1 }),
    text(x, y + 12, `yours ${few(l.user)}`, { 'text-anchor': anchor, 'font-size': SMALL, class: 'nn-user' }),
    text(x, y + 24, `true ${few(l.truth)}`, { 'text-anchor': anchor, 'font-size': SMALL, class: 'nn-true' }),
  );
}

const NOTE_H = 40;

/** The wrong and dependent lines by the tensor whose backward node they mark. */
function badLines(t: TraceData, level: Level): Map<string, TraceDataLine[]> {
  const out = new Map<string, TraceDataLine[]>();
  for (const l of t.backward) {
    if (l.status !== 'wrong' && l.status !== 'dependent') continue;
    let at = l.name;
    if (level === 'neuron' && t.nodes.find((n) => n.name === l.name)?.kind === 'param') {
      // a weight or bias belongs to the layer it feeds
      at = t.edges.find((e) => e.from === l.name)?.to ?? l.name;
    }
    out.set(at, [...(out.get(at) ?? []), l]);
  }
  return out;
}

function statusClass(lines: TraceDataLine[] | undefined): string {
  if (!lines?.length) return '';
  return lines.some((l) => l.status === 'wrong') ? ' nn-wrong' : ' nn-dependent';
}

// ---------------------------------------------------------------------------------------------
// The picture

export function renderTrace(t: TraceData, opts: RenderOptions = {}): string {
  const level = levelOf(t, opts);
  const scales = scalesOf(t);
  const body = level === 'neuron' ? neuronPicture(t, scales, opts.backward ?? true) : tensorPicture(t, scales, opts.backward ?? true);
  const header = opts.header ?? true;
  const top = header ? 84 : 0;
  const parts: string[] = [];
  let width = body.width + 2 * MARGIN;
  if (header) {
    const lg = legend(MARGIN, 46, scales, level);
    width = Math.max(width, lg.width + 2 * MARGIN, textWidth(headerText(t), 13) + 2 * MARGIN);
    parts.push(text(MARGIN, 22, headerText(t), { class: 'nn-section nn-title' }), lg.svg);
    if (t.nonFinite) parts.push(text(MARGIN + lg.width + 30, 54, `⚠ ${t.nonFinite}`, { class: 'nn-error', 'font-size': SMALL + 1 }));
  }
  const height = top + body.height + MARGIN;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="nn-svg nn-level-${level}" data-level="${level}" data-model="${esc(t.model)}" ` +
    `width="${fix(width)}" height="${fix(height)}" viewBox="0 0 ${fix(width)} ${fix(height)}">` +
    (opts.style ?? true ? styleSheet() : '') +
    arrowDefs() +
    el('rect', { class: 'nn-bgrect', x: 0, y: 0, width, height, fill: '#ffffff' }) +
    parts.join('') +
    `<g transform="translate(${MARGIN},${top})">${body.svg}</g>` +
    `</svg>`
  );
}

interface Body {
  svg: string;
  width: number;
  height: number;
}

// ---------------------------------------------------------------------------------------------
// Neuron level

const R = 10;
const PITCH = 30;
const LAYER_HEAD = 34;
const NUM_W = 46;

interface Layer {
  node: TraceDataNode;
  units: number;
  box: Box;
  /** Weighted inputs into this layer (one per input layer). */
  bias: TraceDataNode | null;
  amp: TraceDataAmplifier | null;
}

interface Conn {
  from: string;
  to: string;
  kind: 'weights' | 'one' | 'all';
  param: TraceDataNode | null;
  /** Indices into t.edges that this connection draws. */
  edges: number[];
  label: string;
}

function neuronPicture(t: TraceData, s: Scales, withBackward: boolean): Body {
  const byName = new Map(t.nodes.map((n) => [n.name, n]));
  const layers = new Map<string, Layer>();
  const bad = badLines(t, 'neuron');
  for (const n of t.nodes) {
    if (n.kind === 'param') continue;
    const biasEdge = t.edges.find((e) => e.to === n.name && e.op === '+' && byName.get(e.from)?.kind === 'param');
    layers.set(n.name, {
      node: n,
      units: Math.max(1, sizeOf(n.shape)),
      box: { x: 0, y: 0, w: 0, h: 0 },
      bias: biasEdge ? byName.get(biasEdge.from)! : null,
      amp: t.amplifiers.find((a) => a.statement === n.name) ?? null,
    });
  }
  // connections between layers
  const conns = new Map<string, Conn>();
  t.edges.forEach((e, i) => {
    const from = byName.get(e.from)!;
    if (from.kind === 'param') {
      // a weight or bias edge belongs to the connection it weighs
      const w = t.weightUses.find((u) => u.param === e.from && u.statement === e.to);
      const key = w?.input.name ? `${w.input.name}→${e.to}` : null;
      if (key && conns.has(key)) conns.get(key)!.edges.push(i);
      return;
    }
    const key = `${e.from}→${e.to}`;
    const w = t.weightUses.find((u) => u.statement === e.to && u.input.name === e.from);
    const known = conns.get(key);
    if (known) {
      known.edges.push(i);
      return;
    }
    const a = layers.get(e.from)!;
    const b = layers.get(e.to)!;
    const param = w ? byName.get(w.param)! : null;
    conns.set(key, {
      from: e.from,
      to: e.to,
      kind: param ? 'weights' : a.units === b.units ? 'one' : 'all',
      param,
      edges: [i],
      label: param ? `${param.name} @ ${e.from}` : e.op,
    });
  });
  // weight and bias edges come after the input edge in trace order: attach them now
  t.edges.forEach((e, i) => {
    if (byName.get(e.from)?.kind !== 'param') return;
    if (layers.get(e.to)?.bias?.name === e.from) return; // drawn as the layer's bias squares
    const w = t.weightUses.find((u) => u.param === e.from && u.statement === e.to);
    const c = w?.input.name ? conns.get(`${w.input.name}→${e.to}`) : [...conns.values()].find((x) => x.to === e.to && x.kind === 'weights');
    if (c && !c.edges.includes(i)) c.edges.push(i);
  });

  // ---- layout ----
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', ranksep: 170, nodesep: 36, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const [name, l] of layers) {
    const head = Math.max(textWidth(`${name} [${l.node.shape.join(', ')}]`, FONT), textWidth(l.node.expr ? `= ${l.node.expr}` : l.node.kind, SMALL));
    const w = Math.max(2 * R + NUM_W, Math.min(head, 150));
    const h = LAYER_HEAD + l.units * PITCH + (bad.has(name) ? NOTE_H : 6);
    g.setNode(name, { width: w, height: h });
  }
  for (const c of conns.values()) g.setEdge(c.from, c.to);
  dagre.layout(g);
  let width = 0;
  let height = 0;
  for (const [name, l] of layers) {
    const n = g.node(name);
    l.box = { x: n.x! - n.width / 2, y: n.y! - n.height / 2, w: n.width, h: n.height };
    width = Math.max(width, l.box.x + l.box.w);
    height = Math.max(height, l.box.y + l.box.h);
  }
  const unitY = (l: Layer, i: number, dy: number) => dy + l.box.y + LAYER_HEAD + PITCH / 2 + i * PITCH;
  const unitX = (l: Layer) => l.box.x + R + 2;

  const section = (y: number, s1: string, s2: string) =>
    text(0, y, s1, { class: 'nn-section' }) + text(textWidth(s1, 13) + 12, y, s2, { class: 'nn-muted', 'font-size': SMALL + 1 });

  // ---- forward ----
  const fwdTop = 26;
  const fwd: string[] = [
    section(12, 'Forward pass: the values a', 'z = W a + b, a = σ(z); circles coloured by value, connections by weight'),
  ];
  const layerSvg = (l: Layer, dy: number, phase: 'forward' | 'backward'): string => {
    const n = l.node;
    const vals = phase === 'forward' ? n.value : n.grad;
    const scale = phase === 'forward' ? s.value : s.grad;
    const x = unitX(l);
    const parts: string[] = [
      el('rect', { class: 'nn-outline', x: l.box.x - 6, y: dy + l.box.y - 4, width: l.box.w + 12, height: l.box.h + 4, rx: 6 }),
      text(l.box.x, dy + l.box.y + 10, `${n.name} [${n.shape.join(', ')}]`, { class: 'nn-name' }),
      text(l.box.x, dy + l.box.y + 22, phase === 'forward' ? (n.expr ? `= ${n.expr}` : n.kind) : n.kind === 'loss' ? 'δ = ∂C/∂C = 1' : `δ = ∂C/∂${n.name}`, {
        class: 'nn-muted',
        'font-size': SMALL,
      }),
    ];
    for (let i = 0; i < l.units; i++) {
      const v = vals ? vals[i] : null;
      const y = unitY(l, i, dy);
      const what = phase === 'forward' ? `${n.name}${n.shape.length ? `[${i}]` : ''}` : `δ ${n.name}${n.shape.length ? `[${i}]` : ''} = ∂C/∂${n.name}${n.shape.length ? `[${i}]` : ''}`;
      parts.push(
        el('circle', { cx: x, cy: y, r: R, class: `nn-unit ${fillOf(v, scale).class}`, fill: fillOf(v, scale).fill, 'data-name': n.name, 'data-index': i, 'stroke-width': 1 }, title(`${what} = ${fmt(v)}`)),
        text(x + R + 4, y + 3.5, fmt(v), { class: 'nn-num', 'font-size': SMALL, 'data-name': n.name, 'data-index': i, 'data-value': v === null ? 'NaN' : String(v) }),
      );
    }
    const notes = bad.get(n.name);
    if (phase === 'backward' && notes) parts.push(lineNote(notes[0], l.box.x, dy + l.box.y + l.box.h - NOTE_H + 10, 'start'));
    return el('g', { class: `nn-node nn-layer${phase === 'backward' ? statusClass(notes) : ''}`, 'data-name': n.name, 'data-kind': n.kind, 'data-line': n.line, 'data-phase': phase }, ...parts);
  };

  const biasX = (l: Layer, phase: 'forward' | 'backward') => unitX(l) - R - (phase === 'backward' && l.amp && !l.amp.zName ? 30 : 11);
  const inX = (l: Layer, phase: 'forward' | 'backward') => (l.bias ? biasX(l, phase) - 1 : unitX(l) - R - (phase === 'backward' && l.amp && !l.amp.zName ? 19 : 0));

  const connSvg = (c: Conn, dy: number, phase: 'forward' | 'backward'): string => {
    const a = layers.get(c.from)!;
    const b = layers.get(c.to)!;
    const parts: string[] = [];
    const x1 = unitX(a) + R + (phase === 'forward' ? NUM_W - 8 : NUM_W - 8);
    const x2 = inX(b, phase);
    const idx = c.edges.join(' ');
    if (c.kind === 'weights' && c.param) {
      const W = c.param;
      const cols = W.shape[1] ?? 1;
      const wuse = t.weightUses.find((u) => u.param === W.name && u.statement === c.to)!;
      for (let i = 0; i < b.units; i++) {
        for (let j = 0; j < a.units; j++) {
          const k = i * cols + j;
          const w = W.value[k];
          const gw = W.grad ? W.grad[k] : null;
          const col = phase === 'forward' ? strokeOf(w, s.weight) : strokeOf(gw, s.paramGrad);
          const width = 0.6 + 3.4 * Math.min(1, Math.abs(w ?? 0) / s.weight);
          const aj = wuse.input.value[j];
          const di = wuse.delta.value[i];
          const tip =
            phase === 'forward'
              ? `${W.name}[${i}, ${j}] = ${fmt(w)}`
              : `∂C/∂${W.name}[${i}, ${j}] = ${wuse.input.text}[${j}] × δ[${i}] = ${fmt(aj)} × ${fmt(di)} = ${fmt(gw)}  (δ = ∂C/∂${wuse.delta.text})`;
          parts.push(
            el('line', { x1, y1: unitY(a, j, dy), x2, y2: unitY(b, i, dy), 'stroke-width': width, ...col, class: `nn-w ${col.class}`, 'data-param': W.name, 'data-index': k, 'data-i': i, 'data-j': j }, title(tip)),
          );
        }
      }
    } else {
      const pairs: [number, number][] = [];
      if (c.kind === 'one') for (let i = 0; i < b.units; i++) pairs.push([i, i]);
      else for (let i = 0; i < b.units; i++) for (let j = 0; j < a.units; j++) pairs.push([j, i]);
      const amp = phase === 'backward' && b.amp && b.amp.zName === c.from ? b.amp : null;
      for (const [j, i] of pairs) {
        const y1 = unitY(a, j, dy);
        const y2 = unitY(b, i, dy);
        parts.push(el('line', { x1, y1, x2, y2, class: 'nn-link', 'stroke-width': 1, 'marker-start': phase === 'backward' && c.kind === 'one' && !amp ? 'url(#nn-arrow)' : null }));
        if (amp) {
          const mx = (x1 + x2) / 2;
          parts.push(
            el('g', { class: 'nn-amp', 'data-name': b.node.name, 'data-index': i }, title(`${amp.fn}′(${amp.zName}[${i}]) = ${fmt(amp.slope[i])}: δ ${amp.zName}[${i}] = ${fmt(amp.slope[i])} × ${fmt(b.node.grad?.[i] ?? null)} = ${fmt(amp.zGrad[i])}`),
              ampTriangle(mx - 9, (y1 + y2) / 2, 18, 14),
              text(mx, (y1 + y2) / 2 - 9, fmt(amp.slope[i]), { class: 'nn-amp-text', 'font-size': SMALL - 0.5, 'text-anchor': 'middle' })),
          );
        }
      }
      if (amp) parts.push(text((x1 + x2) / 2, dy + b.box.y + 22, `${amp.fn}′(${amp.zName}) ▷`, { class: 'nn-amp-text', 'font-size': SMALL, 'text-anchor': 'middle' }));
    }
    // the op between the layers (backward: the amplifier's label takes its place)
    if (phase === 'backward' && b.amp && b.amp.zName === c.from) return el('g', { class: 'nn-edge nn-conn', 'data-edge': idx, 'data-from': c.from, 'data-to': c.to, 'data-phase': phase }, ...parts);
    const ly = dy + Math.min(a.box.y, b.box.y) + 10;
    parts.push(text((x1 + x2) / 2, ly, c.label, { class: 'nn-muted nn-op', 'font-size': SMALL, 'text-anchor': 'middle' }));
    return el('g', { class: 'nn-edge nn-conn', 'data-edge': idx, 'data-from': c.from, 'data-to': c.to, 'data-phase': phase }, ...parts);
  };

  const biasSvg = (l: Layer, dy: number, phase: 'forward' | 'backward'): string => {
    if (!l.bias) return '';
    const b = l.bias;
    const edge = t.edges.findIndex((e) => e.from === b.name && e.to === l.node.name);
    const parts: string[] = [];
    for (let i = 0; i < l.units; i++) {
      const v = phase === 'forward' ? b.value[i] : (b.grad?.[i] ?? null);
      const f = fillOf(v, phase === 'forward' ? s.weight : s.paramGrad);
      parts.push(el('rect', { x: biasX(l, phase), y: unitY(l, i, dy) - 3.5, width: 7, height: 7, ...f, class: `nn-bias ${f.class}`, 'data-param': b.name, 'data-index': i, stroke: '#9aa0a6', 'stroke-width': 0.5 },
        title(phase === 'forward' ? `${b.name}[${i}] = ${fmt(v)}` : `∂C/∂${b.name}[${i}] = δ[${i}] = ${fmt(v)}`)));
    }
    return el('g', { class: 'nn-edge nn-biases', 'data-edge': edge, 'data-from': b.name, 'data-to': l.node.name, 'data-phase': phase }, ...parts);
  };

  const innerAmp = (l: Layer, dy: number): string => {
    const amp = l.amp;
    if (!amp || amp.zName) return '';
    const x = unitX(l) - R - 19;
    const parts: string[] = [];
    for (let i = 0; i < l.units; i++) {
      const y = unitY(l, i, dy);
      parts.push(
        el('g', { class: 'nn-amp', 'data-name': l.node.name, 'data-index': i }, title(`${amp.fn}′(z[${i}]) = ${fmt(amp.slope[i])} with z = ${amp.zText}: ∂C/∂z[${i}] = ${fmt(amp.slope[i])} × ${fmt(l.node.grad?.[i] ?? null)} = ${fmt(amp.zGrad[i])}`),
          ampTriangle(x, y, 16, 13),
          text(x + 9, y - 8.5, fmt(amp.slope[i]), { class: 'nn-amp-text', 'font-size': SMALL - 1, 'text-anchor': 'middle' })),
      );
    }
    parts.push(text(x + 8, dy + l.box.y + LAYER_HEAD - 2, `${amp.fn}′(z) ▷`, { class: 'nn-amp-text', 'font-size': SMALL, 'text-anchor': 'middle' }));
    return el('g', { class: 'nn-amps', 'data-name': l.node.name }, ...parts);
  };

  for (const c of conns.values()) fwd.push(connSvg(c, fwdTop, 'forward'));
  for (const l of layers.values()) fwd.push(biasSvg(l, fwdTop, 'forward'));
  for (const l of layers.values()) fwd.push(layerSvg(l, fwdTop, 'forward'));
  let total = fwdTop + height;
  const out = [el('g', { class: 'nn-forward' }, ...fwd)];
  if (withBackward) {
    const bwdTop = total + 56;
    const bwd: string[] = [
      section(total + 40, 'Backward pass: δ = ∂Cⁿ/∂z, from C back', '◀ the reversed network; ▷ σ′(z) amplifies δ; a connection is coloured by ∂C/∂w = a × δ'),
    ];
    for (const c of conns.values()) {
      if (layers.get(c.from)!.node.kind === 'target') continue;
      bwd.push(connSvg(c, bwdTop, 'backward'));
    }
    for (const l of layers.values()) if (l.node.kind !== 'target') bwd.push(biasSvg(l, bwdTop, 'backward'), innerAmp(l, bwdTop));
    for (const l of layers.values()) if (l.node.kind !== 'target') bwd.push(layerSvg(l, bwdTop, 'backward'));
    out.push(el('g', { class: 'nn-backward' }, ...bwd));
    total = bwdTop + height;
  }
  return { svg: out.join(''), width: Math.max(width, 640), height: total };
}

// ---------------------------------------------------------------------------------------------
// Tensor level

const HEAT_W = 150;
const HEAT_H = 110;
const BLOCK_PAD = 8;

function tensorPicture(t: TraceData, s: Scales, withBackward: boolean): Body {
  const bad = badLines(t, 'tensor');
  const ampOf = new Map(t.amplifiers.map((a) => [a.statement, a]));
  interface Block {
    node: TraceDataNode;
    box: Box;
    heat: ReturnType<typeof heatmapLayout>;
    innerAmp: TraceDataAmplifier | null;
  }
  const blocks = new Map<string, Block>();
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', ranksep: 90, nodesep: 26, edgesep: 12, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of t.nodes) {
    const heat = heatmapLayout(n.shape, { maxWidth: HEAT_W, maxHeight: HEAT_H, maxCells: 64, maxCell: 12 });
    const amp = ampOf.get(n.name);
    const innerAmp = amp && !amp.zName ? amp : null;
    const label = `${n.name} [${n.shape.join(', ')}]`;
    const w = Math.max(heat.width, textWidth(label, FONT), 96) + 2 * BLOCK_PAD;
    let h = 18 + heat.height + 22;
    if (innerAmp) h += 34;
    if (bad.has(n.name)) h += NOTE_H;
    blocks.set(n.name, { node: n, box: { x: 0, y: 0, w, h }, heat, innerAmp });
    g.setNode(n.name, { width: w, height: h });
  }
  t.edges.forEach((e, i) => {
    const label = e.op;
    g.setEdge(e.from, e.to, { width: textWidth(label, SMALL) + 6, height: 12, labelpos: 'c' }, String(i));
  });
  dagre.layout(g);
  let width = 0;
  let height = 0;
  for (const [name, b] of blocks) {
    const n = g.node(name);
    b.box = { x: n.x! - n.width / 2, y: n.y! - n.height / 2, w: n.width, h: n.height };
    width = Math.max(width, b.box.x + b.box.w);
    height = Math.max(height, b.box.y + b.box.h);
  }
  const edgeGeo: { points?: { x: number; y: number }[]; x?: number; y?: number }[] = t.edges.map((e, i) => g.edge({ v: e.from, w: e.to, name: String(i) }));
  for (const eg of edgeGeo) for (const p of eg.points ?? []) height = Math.max(height, p.y + 8);

  const blockSvg = (b: Block, dy: number, phase: 'forward' | 'backward'): string => {
    const n = b.node;
    const vals = phase === 'forward' ? n.value : n.grad;
    // each heatmap on its own symmetric scale: a 16×16 input shows its digit, a small δ its pattern
    const scale = or1(maxAbs(vals));
    const { x, w } = b.box;
    const y = b.box.y + dy;
    const parts: string[] = [
      el('rect', { class: 'nn-box', x, y, width: w, height: b.box.h, rx: 5, fill: '#f8f9fa', stroke: '#c4c7c5' }),
      text(x + BLOCK_PAD, y + 14, phase === 'forward' ? `${n.name} [${n.shape.join(', ')}]` : `∂C/∂${n.name}`, { class: 'nn-name' }),
    ];
    const hx = x + (w - b.heat.width) / 2;
    const hy = y + 20;
    if (vals) parts.push(el('g', { class: 'nn-heat' }, heatmapCells(vals, n.shape, b.heat, hx, hy, scale, n.name, phase === 'forward' ? 'value' : '∂C/∂')));
    const size = vals?.length ?? 0;
    const stats =
      size <= 3
        ? (vals ?? []).map(fmt).join(', ')
        : `${fmt(Math.min(...(vals ?? []).map((v) => v ?? NaN)))} … ${fmt(Math.max(...(vals ?? []).map((v) => v ?? NaN)))}  (±${fmt(scale)})`;
    parts.push(
      text(x + w / 2, hy + b.heat.height + 13, stats, {
        class: 'nn-muted nn-num',
        'font-size': SMALL,
        'text-anchor': 'middle',
        'data-name': n.name,
        ...(size === 1 && vals ? { 'data-index': 0, 'data-value': vals[0] === null ? 'NaN' : String(vals[0]) } : {}),
      }),
    );
    let yy = hy + b.heat.height + 20;
    if (phase === 'backward' && b.innerAmp) {
      const a = b.innerAmp;
      const strip = [1, a.slope.length];
      const lay = heatmapLayout(strip, { maxWidth: w - 2 * BLOCK_PAD - 22, maxHeight: 12, maxCells: 64, maxCell: 6 });
      const lo = Math.min(...a.slope.map((v) => v ?? NaN));
      const hi = Math.max(...a.slope.map((v) => v ?? NaN));
      parts.push(
        el('g', { class: 'nn-amp', 'data-name': n.name }, title(`${a.fn}′(z) with z = ${a.zText}: ∂C/∂z = ${a.fn}′(z) ⊙ ∂C/∂${n.name}`),
          ampTriangle(x + BLOCK_PAD, yy + 7, 16, 13),
          heatmapCells(a.slope, strip, lay, x + BLOCK_PAD + 22, yy + 1, 1, `${a.fn}′`, 'σ′'),
          text(x + BLOCK_PAD, yy + 27, `${a.fn}′(z) ∈ [${fmt(lo)}, ${fmt(hi)}]`, { class: 'nn-amp-text', 'font-size': SMALL })),
      );
      yy += 34;
    }
    const notes = bad.get(n.name);
    if (phase === 'backward' && notes) parts.push(lineNote(notes[0], x + BLOCK_PAD, yy + 4, 'start'));
    return el('g', { class: `nn-node nn-block${phase === 'backward' ? statusClass(notes) : ''}`, 'data-name': n.name, 'data-kind': n.kind, 'data-line': n.line, 'data-phase': phase }, ...parts);
  };

  const edgeSvg = (i: number, dy: number, phase: 'forward' | 'backward'): string => {
    const e = t.edges[i];
    const geo = edgeGeo[i];
    const pts = (geo.points ?? []).map((p) => ({ x: p.x, y: p.y + dy }));
    const parts: string[] = [
      el('path', { d: pathThrough(pts), class: 'nn-link', 'stroke-width': 1.2, [phase === 'forward' ? 'marker-end' : 'marker-start']: 'url(#nn-arrow)' }),
    ];
    const amp = phase === 'backward' ? ampOf.get(e.to) : undefined;
    const lx = geo.x ?? pts[Math.floor(pts.length / 2)]?.x ?? 0;
    const ly = (geo.y ?? 0) + dy;
    if (amp && amp.zName === e.from) {
      const lo = Math.min(...amp.slope.map((v) => v ?? NaN));
      const hi = Math.max(...amp.slope.map((v) => v ?? NaN));
      parts.push(
        el('g', { class: 'nn-amp', 'data-name': e.to }, title(`${amp.fn}′(${amp.zName}): ∂C/∂${amp.zName} = ${amp.fn}′(${amp.zName}) ⊙ ∂C/∂${e.to}; values ${few(amp.slope, 8)}`),
          ampTriangle(lx - 10, ly, 20, 16),
          text(lx, ly - 12, `${amp.fn}′ ∈ [${fmt(lo)}, ${fmt(hi)}]`, { class: 'nn-amp-text', 'font-size': SMALL, 'text-anchor': 'middle' })),
      );
    } else {
      parts.push(text(lx, ly + 3, e.op, { class: 'nn-muted nn-op', 'font-size': SMALL, 'text-anchor': 'middle' }));
    }
    return el('g', { class: 'nn-edge', 'data-edge': i, 'data-from': e.from, 'data-to': e.to, 'data-phase': phase }, ...parts);
  };

  const section = (y: number, s1: string, s2: string) =>
    text(0, y, s1, { class: 'nn-section' }) + text(textWidth(s1, 13) + 12, y, s2, { class: 'nn-muted', 'font-size': SMALL + 1 });
  const fwdTop = 26;
  const fwd: string[] = [section(12, 'Forward pass: the values a', 'one block per tensor: its shape and a heatmap of its values')];
  t.edges.forEach((_, i) => fwd.push(edgeSvg(i, fwdTop, 'forward')));
  for (const b of blocks.values()) fwd.push(blockSvg(b, fwdTop, 'forward'));
  const out = [el('g', { class: 'nn-forward' }, ...fwd)];
  let total = fwdTop + height;
  if (withBackward) {
    const bwdTop = total + 56;
    const bwd: string[] = [
      section(total + 40, 'Backward pass: δ = ∂Cⁿ/∂X, from C back', '◀ the reversed network; ▷ σ′(z) amplifies δ; ∂C/∂W = δ aᵀ'),
    ];
    t.edges.forEach((e, i) => {
      if (blocks.get(e.from)?.node.kind !== 'target') bwd.push(edgeSvg(i, bwdTop, 'backward'));
    });
    for (const b of blocks.values()) if (b.node.kind !== 'target') bwd.push(blockSvg(b, bwdTop, 'backward'));
    out.push(el('g', { class: 'nn-backward' }, ...bwd));
    total = bwdTop + height;
  }
  return { svg: out.join(''), width: Math.max(width, 640), height: total };
}
