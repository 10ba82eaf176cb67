/**
 * Comparing a derivative someone wrote (or computed) with the truth: relative error with a
 * floor, the worst element, and the pattern of a mismatch ("off by a factor 2.00", "off by a
 * factor 1/256 (0.0039)", "the sign is flipped", "transposed", "a missing path"), with the
 * checker's own candidates ("missing σ′(z1) = a1 ⊙ (1 − a1)", "uses W2 where transpose(W2) is
 * needed": ./patterns.ts) and what a factor stands for (the mean over the outputs, the number
 * of examples, the batch size).
 */

/** |a − b| / max(|a|, |b|, floor); NaN/±Infinity on either side (but not both equal) is Infinity. */
export function relError(a: number, b: number, floor: number): number {
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
}

export interface Worst {
  /** Flat index of the worst element (over all examples for per-example arrays). */
  index: number;
  relError: number;
  a: number;
  b: number;
}

/** The element with the largest relative error; index −1 (error 0) for empty arrays. */
export function worstOf(a: ArrayLike<number>, b: ArrayLike<number>, floor: number, skip?: (i: number) => boolean): Worst {
  let w: Worst = { index: -1, relError: 0, a: 0, b: 0 };
  for (let i = 0; i < a.length; i++) {
    if (skip?.(i)) continue;
    const r = relError(a[i], b[i], floor);
    if (w.index < 0 || r > w.relError || (Number.isNaN(r) && !Number.isNaN(w.relError))) w = { index: i, relError: r, a: a[i], b: b[i] };
  }
  return w;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs(a[i]);
    if (x > m) m = x;
  }
  return m;
}

/**
 * Names the pattern of a mismatch between `u` (what the user's derivative gives) and `t` (the
 * truth), or null when there is none. `matrix` is the per-example shape [m, m] of a square
 * matrix when a transposition is possible; `examples` the number of per-example blocks.
 */
/** A pattern the checker knows how to test for a line: its message, and whether the line fits it. */
export interface PatternCandidate {
  readonly text: string;
  /** True when every element of the line fits the pattern (within the tolerance). */
  matches(u: ArrayLike<number>, t: ArrayLike<number>, floor: number, tol: number): boolean;
}

/** A number a wrong factor may be (or be the reciprocal of), and what it stands for. */
export interface FactorMeaning {
  readonly value: number;
  /** Said when the line is `value` times too large ("the line is missing …"). */
  readonly times?: string;
  /** Said when the line is 1/`value` of the truth. */
  readonly over?: string;
}

/**
 * A factor as a person reads it: 2.00, 0.50, 1000, and a fraction 1/k of an integer k as
 * "1/256 (0.0039)" — never "0.00".
 */
export function fmtFactor(c: number): string {
  const a = Math.abs(c);
  const sign = c < 0 ? '−' : '';
  const near = (x: number) => Math.abs(x - Math.round(x)) <= 1e-6 * Math.max(1, Math.abs(x));
  if (a >= 1) {
    if (a >= 10 && near(a)) return `${sign}${Math.round(a)}`;
    return c.toFixed(2);
  }
  if (a > 0 && near(1 / a) && Math.round(1 / a) >= 2) {
    const k = Math.round(1 / a);
    return k === 2 || k === 4 ? `${c.toFixed(2)}` : `${sign}1/${k} (${fmtNum(a)})`;
  }
  return a >= 0.01 ? c.toFixed(2) : `${sign}${fmtNum(a)}`;
}

/** What a factor c stands for, from the candidates (the first that fits), or ''. */
function factorMeaning(c: number, meanings: readonly FactorMeaning[]): string {
  const eq = (x: number, y: number) => Math.abs(x - y) <= 1e-6 * Math.max(Math.abs(x), Math.abs(y));
  for (const m of meanings) {
    if (m.value < 2) continue;
    if (m.times && eq(c, m.value)) return `: ${m.times}`;
    if (m.over && eq(c, 1 / m.value)) return `: ${m.over}`;
  }
  return '';
}

export function describePattern(
  u: ArrayLike<number>,
  t: ArrayLike<number>,
  floor: number,
  tol: number,
  opts: {
    square?: number;
    examples?: number;
    worst?: number;
    zeroWording?: string;
    /** Patterns the caller can test (missing σ′, W for Wᵀ), tried after the factor and the sign. */
    candidates?: readonly PatternCandidate[];
    /** What a wrong factor may stand for. */
    factors?: readonly FactorMeaning[];
  } = {},
): string | null {
  const n = u.length;
  if (n === 0) return null;
  const close = (f: (i: number) => number) => {
    for (let i = 0; i < n; i++) if (!(relError(u[i], f(i), floor) <= tol)) return false;
    return true;
  };
  let tt = 0;
  let ut = 0;
  let uu = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(u[i]) || !Number.isFinite(t[i])) return null;
    tt += t[i] * t[i];
    ut += u[i] * t[i];
    uu += u[i] * u[i];
  }
  const zero = opts.zeroWording ?? 'the line gives 0 where the true gradient is not: a missing path';
  if (uu === 0 && tt > 0) return zero;
  if (tt > 0) {
    const c = ut / tt;
    if (Math.abs(c + 1) < 1e-3 && close((i) => -t[i])) return 'the sign is flipped';
    if (Math.abs(c - 1) > 1e-3 && c !== 0 && close((i) => c * t[i]))
      return `off by a factor ${fmtFactor(c)}${factorMeaning(c, opts.factors ?? [])}`;
  }
  for (const p of opts.candidates ?? []) if (p.matches(u, t, floor, tol)) return p.text;
  if (opts.square && opts.square > 1) {
    const m = opts.square;
    const per = m * m;
    const ex = opts.examples ?? 1;
    if (per * ex === n) {
      const tr = (i: number) => {
        const e = Math.floor(i / per);
        const k = i % per;
        const r = Math.floor(k / m);
        const c = k % m;
        return t[e * per + c * m + r];
      };
      if (close(tr)) return 'transposed';
    }
  }
  if (opts.worst !== undefined && opts.worst >= 0 && u[opts.worst] === 0 && t[opts.worst] !== 0) return zero;
  return null;
}

/** 4 significant digits, scientific outside [1e-3, 1e5). */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(4)));
  return v.toExponential(3).replace(/\.?0+e/, 'e');
}

/** A relative error: 2 significant digits ("1.0", "3.2e-7"). */
export function fmtErr(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v >= 1e-2) return v.toPrecision(2);
  return v.toExponential(1);
}

/** A tolerance or step as written by users: 1e-6, 0.001 → 1e-3. */
export function fmtTol(v: number): string {
  if (v !== 0 && Math.abs(v) < 1e-2) {
    const [m, e] = v.toExponential().split('e');
    return `${Number(m)}e${Number(e)}`;
  }
  return String(v);
}
