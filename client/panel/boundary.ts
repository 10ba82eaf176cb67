/**
 * The decision boundary beside the loss curves (TF Playground's other picture): for a model
 * whose input is a point of the plane, its output over the plane as a heatmap with the data
 * points, redrawn whenever a progress notification brings a new one (every 250 ms while a small
 * model trains, and once more at its end or stop; see engine/train/boundary.ts `pictureDue`).
 *
 * Colours (blended over the editor background, so the pixel of a cell says its value):
 * - 'binary' (one probability): orange below 0.5, blue above, opacity |v − 0.5| · 2 · 0.85;
 * - 'classes': the colour of the most likely class, opacity (p − 1/k)/(1 − 1/k) · 0.85;
 * - 'values': orange below 0, blue above, opacity |v|/max|v| · 0.85.
 */
import type { PanelBoundary } from './messages';

export const BOUNDARY_PX = 240;
export const MAX_ALPHA = 0.85;

export interface BoundaryProbe {
  readonly runId: string | null;
  readonly draws: number;
  readonly epoch: number | null;
  /** The canvas pixel (RGBA) at an input point, or null outside the plane / without a picture. */
  pixelAt(x: number, y: number): number[] | null;
  /** The output numbers of the cell drawn at an input point. */
  valuesAt(x: number, y: number): (number | null)[] | null;
  /** The background and class colours used (RGB). */
  colours(): { background: number[]; palette: number[][] };
}

export interface BoundaryView {
  update(runId: string, b: PanelBoundary): void;
  forget(runIds: readonly string[]): void;
  readonly probe: BoundaryProbe;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A CSS colour as RGB (resolving variables through a probe element). */
function rgbOf(css: string): number[] {
  const probe = el('span');
  probe.style.color = css;
  probe.style.display = 'none';
  document.body.append(probe);
  const c = getComputedStyle(probe).color;
  probe.remove();
  const m = c.match(/[\d.]+/g) ?? ['0', '0', '0'];
  const v = m.slice(0, 3).map(Number);
  return c.startsWith('color(') ? v.map((x) => Math.round(x * 255)) : v;
}

/** Puts the boundary box beside the chart (in a row with it) and returns its view. */
export function mountBoundary(chartBox: HTMLElement): BoundaryView {
  const row = el('div', 'nn-chart-row');
  chartBox.replaceWith(row);
  const box = el('div', 'nn-boundary');
  box.hidden = true;
  const head = el('div', 'nn-boundary-title', 'Decision boundary');
  const stack = el('div', 'nn-boundary-stack');
  const heat = el('canvas', 'nn-boundary-heat');
  heat.width = BOUNDARY_PX;
  heat.height = BOUNDARY_PX;
  heat.id = 'boundary';
  const dots = el('canvas', 'nn-boundary-points');
  dots.width = BOUNDARY_PX;
  dots.height = BOUNDARY_PX;
  stack.append(heat, dots);
  const axes = el('div', 'nn-boundary-axes');
  const legend = el('div', 'nn-boundary-legend');
  box.append(head, stack, axes, legend);
  row.append(chartBox, box);

  const latest = new Map<string, PanelBoundary>();
  let shown: string | null = null;
  let draws = 0;

  const colours = () => {
    const background = rgbOf('var(--vscode-editor-background, #1e1e1e)');
    const palette = [
      rgbOf('var(--vscode-charts-orange, #d18616)'),
      rgbOf('var(--vscode-charts-blue, #3794ff)'),
      rgbOf('var(--vscode-charts-green, #89d185)'),
      rgbOf('var(--vscode-charts-purple, #b180d7)'),
      rgbOf('var(--vscode-charts-red, #f14c4c)'),
      rgbOf('var(--vscode-charts-yellow, #cca700)'),
    ];
    return { background, palette };
  };

  const blend = (bg: number[], c: number[], a: number) => bg.map((b, i) => Math.round(b + (c[i] - b) * a));

  /** The colour of a cell's outputs. */
  const cellColour = (b: PanelBoundary, out: (number | null)[], scale: number, pal: ReturnType<typeof colours>): number[] => {
    const { background: bg, palette } = pal;
    if (out.some((v) => v === null || !Number.isFinite(v))) return bg;
    const v = out as number[];
    if (b.kind === 'classes') {
      let best = 0;
      for (let c = 1; c < v.length; c++) if (v[c] > v[best]) best = c;
      const k = v.length;
      const conf = Math.max(0, Math.min(1, (v[best] - 1 / k) / (1 - 1 / k)));
      return blend(bg, palette[(best + 1) % palette.length], conf * MAX_ALPHA);
    }
    const t = b.kind === 'binary' ? (v[0] - 0.5) * 2 : v[0] / scale;
    const a = Math.min(1, Math.abs(t)) * MAX_ALPHA;
    return blend(bg, t >= 0 ? palette[1] : palette[0], a);
  };

  const toPx = (b: PanelBoundary, x: number, y: number) => ({
    px: ((x - b.x[0]) / (b.x[1] - b.x[0])) * BOUNDARY_PX,
    py: BOUNDARY_PX - ((y - b.y[0]) / (b.y[1] - b.y[0])) * BOUNDARY_PX,
  });

  const draw = (b: PanelBoundary) => {
    draws++;
    const pal = colours();
    const ctx = heat.getContext('2d');
    const pctx = dots.getContext('2d');
    if (!ctx || !pctx) return;
    const n = b.size;
    const k = b.outputs;
    let scale = 0;
    if (b.kind === 'values') for (const v of b.values) if (v !== null && Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
    scale ||= 1;
    const img = ctx.createImageData(BOUNDARY_PX, BOUNDARY_PX);
    for (let py = 0; py < BOUNDARY_PX; py++) {
      const i = Math.min(n - 1, Math.floor(((BOUNDARY_PX - 1 - py + 0.5) / BOUNDARY_PX) * n));
      for (let px = 0; px < BOUNDARY_PX; px++) {
        const j = Math.min(n - 1, Math.floor(((px + 0.5) / BOUNDARY_PX) * n));
        const c = (i * n + j) * k;
        const rgb = cellColour(b, b.values.slice(c, c + k), scale, pal);
        const o = (py * BOUNDARY_PX + px) * 4;
        img.data[o] = rgb[0];
        img.data[o + 1] = rgb[1];
        img.data[o + 2] = rgb[2];
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    pctx.clearRect(0, 0, BOUNDARY_PX, BOUNDARY_PX);
    for (const p of b.points) {
      const { px, py } = toPx(b, p.x, p.y);
      const cls = b.kind === 'classes' ? (p.label + 1) % pal.palette.length : b.kind === 'binary' ? (p.label >= 0.5 ? 1 : 0) : p.label >= 0 ? 1 : 0;
      pctx.beginPath();
      pctx.arc(px, py, 3, 0, 2 * Math.PI);
      pctx.fillStyle = `rgb(${pal.palette[cls].join(',')})`;
      pctx.fill();
      pctx.lineWidth = 1;
      pctx.strokeStyle = `rgb(${pal.background.map((v) => 255 - v).join(',')})`;
      pctx.stroke();
    }
    head.textContent = `Decision boundary — epoch ${b.epoch.toLocaleString('en-US')}, step ${b.step.toLocaleString('en-US')}`;
    const f = (v: number) => String(Number(v.toPrecision(3)));
    axes.textContent = `x₁ ∈ [${f(b.x[0])}, ${f(b.x[1])}] across · x₂ ∈ [${f(b.y[0])}, ${f(b.y[1])}] up`;
    legend.textContent =
      b.kind === 'binary'
        ? 'output: orange < 0.5 < blue (deeper: surer); dots: the data'
        : b.kind === 'classes'
          ? `the likeliest of ${k} classes (deeper: surer); dots: the data`
          : `output: orange < 0 < blue, ±${f(scale)}; dots: the data`;
  };

  const view: BoundaryView = {
    update(runId, b) {
      latest.set(runId, b);
      shown = runId;
      box.hidden = false;
      draw(b);
    },
    forget(runIds) {
      for (const id of runIds) latest.delete(id);
      if (shown && !latest.has(shown)) {
        const next = [...latest.keys()].pop() ?? null;
        shown = next;
        if (next) draw(latest.get(next)!);
        else box.hidden = true;
      }
    },
    probe: {
      get runId() {
        return shown;
      },
      get draws() {
        return draws;
      },
      get epoch() {
        return shown ? (latest.get(shown)?.epoch ?? null) : null;
      },
      pixelAt(x, y) {
        const b = shown ? latest.get(shown) : undefined;
        if (!b) return null;
        const { px, py } = toPx(b, x, y);
        if (px < 0 || py < 0 || px >= BOUNDARY_PX || py >= BOUNDARY_PX) return null;
        const d = heat.getContext('2d')!.getImageData(Math.floor(px), Math.floor(py), 1, 1).data;
        return Array.from(d);
      },
      valuesAt(x, y) {
        const b = shown ? latest.get(shown) : undefined;
        if (!b) return null;
        const { px, py } = toPx(b, x, y);
        const n = b.size;
        const i = Math.min(n - 1, Math.floor(((BOUNDARY_PX - 1 - Math.floor(py) + 0.5) / BOUNDARY_PX) * n));
        const j = Math.min(n - 1, Math.floor(((Math.floor(px) + 0.5) / BOUNDARY_PX) * n));
        const c = (i * n + j) * b.outputs;
        return b.values.slice(c, c + b.outputs);
      },
      colours,
    },
  };
  return view;
}
