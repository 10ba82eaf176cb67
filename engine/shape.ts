/**
 * Shape utilities, the one copy NN Lens has: element counts, equality, NumPy broadcasting (and
 * the index map an elementwise kernel reads its operands through), index and shape formatting.
 *
 * Shapes are per example (spec §2): `[]` is a scalar, `[256]` a vector, `[10, 30]` a matrix.
 */
import type { Shape } from './ir';

/** Number of elements: the product of the dimensions (a float, so absurd shapes give huge or infinite counts, never an allocation). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `[30, 256]`, `[]` for a scalar. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The NumPy broadcast of shapes (dimensions aligned from the right must be equal or 1), or undefined when they do not broadcast. */
export function broadcastShapes(...shapes: readonly (readonly number[])[]): Shape | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    let d = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + k] ?? 1;
      if (e === 1) continue;
      if (d !== 1 && d !== e) return undefined;
      d = e;
    }
    out.push(d);
  }
  return out;
}

/** The first pair of right-aligned dimensions of two shapes that do not broadcast ([0, 0] when they do). */
export function broadcastConflict(a: readonly number[], b: readonly number[]): [number, number] {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return [da, db];
  }
  return [0, 0];
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
