/**
 * How the debugger writes numbers and tensors: with six significant digits where a person reads
 * them (the Variables view, hovers, Watch, inline values), and in full precision — the shortest
 * text that reads back as the same float64 — where they are copied (`context: "clipboard"`).
 */

/**
 * Six significant digits: 0.0123457, -2.12550, 1.23457e-7; a number that is exactly shorter is
 * written as it is (0.5, 30, -2).
 */
export function fmt6(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const exact = String(x);
  if (significantDigits(exact) <= 6) return exact;
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-4) {
    const [m, e] = x.toExponential(5).split('e');
    return `${m}e${e}`;
  }
  return x.toPrecision(6);
}

function significantDigits(s: string): number {
  const mantissa = s.split(/e/i)[0].replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  return mantissa.length;
}

/** Full precision: the shortest decimal that reads back as the same float64. */
export function fmtFull(x: number): string {
  return String(x);
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * A tensor in one line for the Variables view: a scalar as its number; a vector as its first
 * numbers; a matrix as its first rows' first numbers. `…` marks what is left out.
 */
export function summary(value: ArrayLike<number>, shape: readonly number[], offset = 0, budget = 6): string {
  if (shape.length === 0) return fmt6(value[offset]);
  const [n, ...rest] = shape;
  const stride = product(rest);
  if (rest.length === 0) {
    const k = Math.min(n, budget);
    const parts: string[] = [];
    for (let i = 0; i < k; i++) parts.push(fmt6(value[offset + i]));
    if (n > k) parts.push('…');
    return `[${parts.join(', ')}]`;
  }
  const rows = Math.min(n, 2);
  const parts: string[] = [];
  for (let i = 0; i < rows; i++) parts.push(summary(value, rest, offset + i * stride, Math.max(2, Math.ceil(budget / 2))));
  if (n > rows) parts.push('…');
  return `[${parts.join(', ')}]`;
}

/** Every number, nested by the shape, in full precision (what "Copy Value" puts on the clipboard). */
export function nestedFull(value: ArrayLike<number>, shape: readonly number[], offset = 0): string {
  if (shape.length === 0) return fmtFull(value[offset]);
  const [n, ...rest] = shape;
  const stride = product(rest);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(nestedFull(value, rest, offset + i * stride));
  return `[${parts.join(', ')}]`;
}

/** The shape and a few numbers: what a hover, Watch or an inline value shows. */
export function withShape(value: ArrayLike<number>, shape: readonly number[], budget = 6): string {
  if (shape.length === 0) return fmt6(value[0]);
  return `${fmtShape(shape)} ${summary(value, shape, 0, budget)}`;
}

/** The smallest and largest number of a tensor (NaN when it holds a NaN). */
export function range(value: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (v !== v) return { min: NaN, max: NaN };
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}
