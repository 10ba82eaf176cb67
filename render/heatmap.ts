/**
 * Heatmaps of tensors: a matrix as rows × columns of cells, a vector wrapped into rows (a
 * square when its length is a square ≥ 16, e.g. a 16×16 image), a scalar as one cell. Large
 * tensors are shown downsampled (each cell the mean of a block) unless `full` is asked for,
 * which draws one cell per element with its own tooltip (the Backprop view's detail pane).
 */
import { fillOf } from './colors';
import { el, fmt, title } from './svg';

export interface HeatmapLayout {
  rows: number;
  cols: number;
  /** Elements per cell along each axis (1 when every element has its own cell). */
  rowBlock: number;
  colBlock: number;
  cell: number;
  width: number;
  height: number;
}

/** The grid a shape is drawn as, before downsampling. */
export function gridOf(shape: readonly number[]): { rows: number; cols: number } {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length === 0) return { rows: 1, cols: 1 };
  if (shape.length === 1) {
    const n = shape[0];
    const r = Math.round(Math.sqrt(n));
    if (n >= 16 && r * r === n) return { rows: r, cols: r };
    const cols = Math.min(n, 16);
    return { rows: Math.ceil(n / cols), cols };
  }
  const cols = shape[shape.length - 1];
  return { rows: size / cols, cols };
}

/** How a shape fits into at most maxW × maxH pixels with at most maxCells per axis. */
export function heatmapLayout(
  shape: readonly number[],
  opts: { maxWidth: number; maxHeight: number; maxCells?: number; minCell?: number; maxCell?: number },
): HeatmapLayout {
  const g = gridOf(shape);
  const maxCells = opts.maxCells ?? 64;
  const colBlock = Math.max(1, Math.ceil(g.cols / maxCells));
  const rowBlock = Math.max(1, Math.ceil(g.rows / maxCells));
  const cols = Math.ceil(g.cols / colBlock);
  const rows = Math.ceil(g.rows / rowBlock);
  const cell = Math.max(
    opts.minCell ?? 2,
    Math.min(opts.maxCell ?? 14, Math.floor(opts.maxWidth / cols), Math.floor(opts.maxHeight / rows)),
  );
  return { rows, cols, rowBlock, colBlock, cell, width: cols * cell, height: rows * cell };
}

/** The index text of element k of a tensor: `W1[2, 3]`. */
export function indexText(name: string, shape: readonly number[], k: number): string {
  if (shape.length === 0) return name;
  const idx: number[] = [];
  let r = k;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(r % shape[d]);
    r = Math.floor(r / shape[d]);
  }
  return `${name}[${idx.join(', ')}]`;
}

/**
 * The cells of a heatmap at (x, y). With blocks, each cell is the mean of its block (a NaN in
 * it makes the cell NaN); its tooltip names the block's range.
 */
export function heatmapCells(
  values: readonly (number | null)[],
  shape: readonly number[],
  lay: HeatmapLayout,
  x: number,
  y: number,
  scale: number,
  label: string,
  what: string,
): string {
  const g = gridOf(shape);
  const out: string[] = [];
  for (let r = 0; r < lay.rows; r++) {
    for (let c = 0; c < lay.cols; c++) {
      let sum = 0;
      let n = 0;
      let bad = false;
      let first = -1;
      for (let rr = r * lay.rowBlock; rr < Math.min(g.rows, (r + 1) * lay.rowBlock); rr++) {
        for (let cc = c * lay.colBlock; cc < Math.min(g.cols, (c + 1) * lay.colBlock); cc++) {
          const k = rr * g.cols + cc;
          if (k >= values.length) continue;
          if (first < 0) first = k;
          const v = values[k];
          if (v === null || !Number.isFinite(v)) bad = true;
          else sum += v;
          n++;
        }
      }
      if (n === 0) continue;
      const v = bad ? null : sum / n;
      const single = lay.rowBlock === 1 && lay.colBlock === 1;
      const tip = single
        ? `${what} ${indexText(label, shape, first)} = ${fmt(v)}`
        : `${what} ${label}: mean of ${n} elements from ${indexText(label, shape, first)} = ${fmt(v)}`;
      out.push(
        el(
          'rect',
          {
            x: x + c * lay.cell,
            y: y + r * lay.cell,
            width: lay.cell,
            height: lay.cell,
            ...fillOf(v, scale),
            'data-index': single ? first : null,
          },
          title(tip),
        ),
      );
    }
  }
  return out.join('');
}
