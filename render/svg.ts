/** A few helpers to write SVG as text (no DOM). */

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export type Attrs = Record<string, string | number | null | undefined | false>;

function attrs(a: Attrs): string {
  let s = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === null || v === undefined || v === false) continue;
    s += ` ${k}="${typeof v === 'number' ? fix(v) : esc(v)}"`;
  }
  return s;
}

/** A number for an attribute: at most two decimals. */
export function fix(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 100) / 100) : '0';
}

/** `<tag a="…">children</tag>`, or self-closing without children. */
export function el(tag: string, a: Attrs, ...children: string[]): string {
  const inner = children.join('');
  return inner ? `<${tag}${attrs(a)}>${inner}</${tag}>` : `<${tag}${attrs(a)}/>`;
}

export function text(x: number, y: number, s: string, a: Attrs = {}): string {
  return `<text${attrs({ x, y, ...a })}>${esc(s)}</text>`;
}

export function title(s: string): string {
  return `<title>${esc(s)}</title>`;
}

/** Rough width of a text in px (no DOM to measure): ~0.6 em per character. */
export function textWidth(s: string, fontSize: number): number {
  return [...s].length * fontSize * 0.6;
}

/** A number with 3 significant digits, as the picture shows it. */
export function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return v === null ? 'NaN' : String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e4) return String(Number(v.toPrecision(3)));
  return v.toExponential(2);
}

/** A smooth path through dagre's edge points. */
export function pathThrough(points: { x: number; y: number }[]): string {
  if (points.length === 0) return '';
  if (points.length === 2) return `M${fix(points[0].x)},${fix(points[0].y)}L${fix(points[1].x)},${fix(points[1].y)}`;
  let d = `M${fix(points[0].x)},${fix(points[0].y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i];
    const q = points[i + 1];
    const mx = i === points.length - 2 ? q.x : (p.x + q.x) / 2;
    const my = i === points.length - 2 ? q.y : (p.y + q.y) / 2;
    d += `Q${fix(p.x)},${fix(p.y)} ${fix(mx)},${fix(my)}`;
  }
  return d;
}
