/**
 * Loss curves drawn in a terminal with braille characters: each character cell holds 2×4 dots,
 * so a chart of W × H cells has 2W × 4H dots. Consecutive points are joined by lines. The y axis
 * is logarithmic when every value is positive and they span more than a factor 30 (a loss that
 * falls from 0.7 to 0.001 stays readable), linear otherwise.
 */

export interface Series {
  /** (x, y) points in x order; non-finite y values are skipped. */
  points: readonly (readonly [number, number])[];
  /** ANSI colour code (e.g. 36 cyan), used when colour is on. */
  colour: number;
  /** Draw points only, not the lines between them. */
  dotsOnly?: boolean;
}

export interface ChartOptions {
  /** Plot area in character cells (the y labels and the axis come on top of it). */
  width: number;
  height: number;
  colour: boolean;
  /** Label of the x axis's right end, e.g. "step 1,140". */
  xLabel?: string;
  /** Start the x axis here (e.g. 0 for steps) instead of at the first point. */
  xMin?: number;
  /** End the x axis here (e.g. the run's last step) instead of at the last point. */
  xMax?: number;
}

// Dot (dx, dy) of a cell → bit of the braille code point (U+2800 + bits).
const DOT_BITS = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
];

export function fmtAxis(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/** The chart's lines (y labels, plot, x axis); an empty array when there is nothing to draw. */
export function brailleChart(series: readonly Series[], opts: ChartOptions): string[] {
  const W = Math.max(4, Math.floor(opts.width));
  const H = Math.max(2, Math.floor(opts.height));
  const pts = series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  if (pts.length === 0) return [];
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const [x, y] of pts) {
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  const log = y0 > 0 && y1 / y0 > 30;
  const fy = (y: number) => (log ? Math.log10(y) : y);
  let ly0 = fy(y0);
  let ly1 = fy(y1);
  if (ly1 - ly0 < 1e-12) {
    const pad = Math.abs(ly0) * 0.05 || 1;
    ly0 -= pad;
    ly1 += pad;
  }
  if (opts.xMin !== undefined && opts.xMin < x0) x0 = opts.xMin;
  if (opts.xMax !== undefined && opts.xMax > x1) x1 = opts.xMax;
  if (x1 === x0) x1 = x0 + 1;
  const DW = 2 * W;
  const DH = 4 * H;
  const toDot = (x: number, y: number): [number, number] => [
    Math.round(((x - x0) / (x1 - x0)) * (DW - 1)),
    Math.round(((ly1 - fy(y)) / (ly1 - ly0)) * (DH - 1)),
  ];
  // one bit grid per series; later series win the colour of a shared cell
  const owner = new Int16Array(W * H).fill(-1);
  const bits = new Uint8Array(W * H);
  series.forEach((s, si) => {
    const set = (dx: number, dy: number) => {
      if (dx < 0 || dy < 0 || dx >= DW || dy >= DH) return;
      const c = (dy >> 2) * W + (dx >> 1);
      bits[c] |= DOT_BITS[dy & 3][dx & 1];
      owner[c] = si;
    };
    let prev: [number, number] | null = null;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        prev = null;
        continue;
      }
      const d = toDot(x, y);
      if (prev && !s.dotsOnly) {
        const steps = Math.max(Math.abs(d[0] - prev[0]), Math.abs(d[1] - prev[1]), 1);
        for (let k = 0; k <= steps; k++)
          set(Math.round(prev[0] + ((d[0] - prev[0]) * k) / steps), Math.round(prev[1] + ((d[1] - prev[1]) * k) / steps));
      } else set(d[0], d[1]);
      prev = d;
    }
  });
  const top = fmtAxis(log ? 10 ** ly1 : ly1);
  const bottom = fmtAxis(log ? 10 ** ly0 : ly0);
  const labelW = Math.max(top.length, bottom.length);
  const lines: string[] = [];
  for (let r = 0; r < H; r++) {
    const label = r === 0 ? top : r === H - 1 ? bottom : '';
    let row = `${label.padStart(labelW)} ${r === 0 || r === H - 1 ? '┤' : '│'}`;
    let current = -1;
    for (let c = 0; c < W; c++) {
      const i = r * W + c;
      const ch = bits[i] ? String.fromCharCode(0x2800 + bits[i]) : ' ';
      if (opts.colour) {
        const want = bits[i] ? series[owner[i]].colour : -1;
        if (want !== current) {
          row += want < 0 ? '\x1b[0m' : `\x1b[${want}m`;
          current = want;
        }
      }
      row += ch;
    }
    if (opts.colour && current >= 0) row += '\x1b[0m';
    lines.push(row.trimEnd());
  }
  const right = opts.xLabel ?? fmtAxis(x1);
  const axis = '─'.repeat(W);
  lines.push(`${' '.repeat(labelW)} └${axis}`);
  const left = fmtAxis(x0);
  lines.push(`${' '.repeat(labelW + 2)}${left}${right.padStart(Math.max(1, W - left.length))}${log ? '  (log scale)' : ''}`);
  return lines;
}

/**
 * The points of a curve, kept up to a cap: past it, neighbouring pairs are merged (their x the
 * later one's, their y the mean), so a long run keeps its whole shape in at most `cap` points.
 */
export class CurvePoints {
  private xs: number[] = [];
  private ys: number[] = [];

  constructor(private readonly cap: number) {}

  get length(): number {
    return this.xs.length;
  }

  /** Adds a point (a non-finite y is kept: the chart skips it). */
  push(x: number, y: number): void {
    this.xs.push(x);
    this.ys.push(y);
    if (this.xs.length <= this.cap) return;
    const n = this.xs.length >> 1;
    const xs: number[] = new Array(n);
    const ys: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = this.xs[2 * i + 1];
      const a = this.ys[2 * i];
      const b = this.ys[2 * i + 1];
      ys[i] = Number.isFinite(a) && Number.isFinite(b) ? (a + b) / 2 : Number.isFinite(b) ? b : a;
    }
    if (this.xs.length % 2) {
      xs.push(this.xs[this.xs.length - 1]);
      ys.push(this.ys[this.ys.length - 1]);
    }
    this.xs = xs;
    this.ys = ys;
  }

  points(): [number, number][] {
    return this.xs.map((x, i) => [x, this.ys[i]]);
  }
}
