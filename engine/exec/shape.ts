/** Shape helpers: sizes, per-example NumPy broadcasting, index formatting. */
import type { Shape } from '../ir';

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The NumPy broadcast of per-example shapes, or null when they do not broadcast. */
export function broadcastShapes(shapes: Shape[]): Shape | null {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    let d = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + k] ?? 1;
      if (e === 1) continue;
      if (d !== 1 && d !== e) return null;
      d = e;
    }
    out.push(d);
  }
  return out;
}

/**
 * For an operand of shape `a` broadcast to `out`: the operand's flat index for every flat
 * index of `out`. Null when `a` equals `out` (the identity).
 */
export function broadcastMap(out: Shape, a: Shape): Int32Array | null {
  if (sameShape(out, a)) return null;
  const n = sizeOf(out);
  const map = new Int32Array(n);
  const rank = out.length;
  // strides of `a` aligned to the right of `out`, 0 where `a` has 1 or no axis
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let k = a.length - 1; k >= 0; k--) {
    const ok = rank - a.length + k;
    if (a[k] !== 1) strides[ok] = s;
    else if (out[ok] !== 1) strides[ok] = 0;
    s *= a[k];
  }
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let k = 0; k < rank; k++) f += idx[k] * strides[k];
    map[i] = f;
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
  return map;
}

/** Multi-index of a flat row-major index. */
export function unravel(shape: Shape, flat: number): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = flat % shape[k];
    flat = Math.floor(flat / shape[k]);
  }
  return idx;
}

/** `W1[3,0]`, `b[2]`, or just `C` for a scalar. */
export function formatIndex(name: string, shape: Shape, flat: number): string {
  if (shape.length === 0) return name;
  return `${name}[${unravel(shape, flat).join(',')}]`;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/**
 * The per-example result shape of an op, or a message saying why the operands do not fit.
 * The language layer has checked shapes already; the engine checks again so that a hand-built
 * or stale IR fails loudly instead of reading out of bounds.
 */
export function inferShape(op: string, args: Shape[]): Shape | string {
  const [a, b] = args;
  const show = () => args.map(formatShape).join(', ');
  switch (op) {
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
    case 'call':
      return broadcastShapes(args) ?? `operands ${show()} do not broadcast`;
    case 'neg':
    case 'pow':
    case 'unary':
    case 'leaky_relu':
    case 'softmax':
    case 'log_softmax':
      return a;
    case 'matmul': {
      const bad = `matmul needs [m,n]@[n], [m,n]@[n,k], [n]@[n,k] or [n]@[n]; got ${show()}`;
      if (a.length < 1 || a.length > 2 || b.length < 1 || b.length > 2) return bad;
      const K = a[a.length - 1];
      if (b[0] !== K) return bad;
      const out: number[] = [];
      if (a.length === 2) out.push(a[0]);
      if (b.length === 2) out.push(b[1]);
      return out;
    }
    case 'transpose':
      return a.length === 2 ? [a[1], a[0]] : `transpose needs a matrix, got ${show()}`;
    case 'outer':
      return a.length === 1 && b.length === 1 ? [a[0], b[0]] : `outer needs two vectors, got ${show()}`;
    case 'dot':
      return a.length === 1 && b.length === 1 && a[0] === b[0] ? [] : `dot needs two vectors of one length, got ${show()}`;
    case 'sum':
    case 'mean':
    case 'max':
      return [];
    case 'cross_entropy':
    case 'mse':
    case 'binary_cross_entropy':
      return sameShape(a, b) ? [] : `${op} needs equal shapes, got ${show()}`;
    default:
      return `unknown op '${op}'`;
  }
}
