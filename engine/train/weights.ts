/**
 * The weights file (`P.json`, what `nnlens grad --params` reads and `nnlens train` and the editor
 * write): `{"W1": nested arrays, …}`, one param per line, dense params as "h.W", each number the
 * shortest decimal that reads back as the same float32 (training is float32), printed as
 * JavaScript prints that number (`JSON.stringify`).
 *
 * Written fast — 110,000 weights in ~25 ms (warm; ~90 cold), where `toPrecision` and
 * `JSON.stringify` per number took ~120–140 ms: a number is found by rounding |v|·10^k to an integer for 6, 7, 8, then 9
 * significant digits and keeping the first that reads back as the same float32 (`Math.fround`);
 * its digits (trailing zeros dropped) are exactly those of JavaScript's shortest form of that
 * number, and they are written as bytes into one buffer.
 */

/** 10^k for k in [-45, 45] (exact for |k| ≤ 22). */
const POW10 = Array.from({ length: 91 }, (_, i) => Number(`1e${i - 45}`));

/** shortestDigits' result (module state: no object per number). */
let outDigits = 0;
let outScale = 0;

/**
 * The float32 a > 0 as its shortest decimal: the integer `outDigits` (no trailing zeros) and the
 * power of ten it is scaled by (`a = outDigits · 10^-outScale`); false for a value that needs the
 * exact (slow) way: subnormal, or beyond steps of 10^±22.
 */
function shortestDigits(a: number): boolean {
  let e = Math.floor(Math.log10(a));
  // log10 can be one off next to a power of ten
  if (a >= POW10[e + 1 + 45]) e++;
  else if (a < POW10[e + 45]) e--;
  for (let p = 6; p <= 9; p++) {
    const k = p - 1 - e; // a·10^k has p digits before the point
    let r: number;
    let c: number;
    if (k >= 0 && k <= 22) {
      r = Math.round(a * POW10[k + 45]);
      c = r / POW10[k + 45];
    } else if (k < 0 && k >= -22) {
      r = Math.round(a / POW10[-k + 45]);
      c = r * POW10[-k + 45];
    } else return false;
    if (Math.fround(c) === a) {
      let scale = k;
      while (r % 10 === 0) {
        r /= 10;
        scale--;
      }
      outDigits = r;
      outScale = scale;
      return true;
    }
  }
  return false;
}

/** The shortest decimal (at least 6 significant digits' worth) that reads back as the float32 of v. */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const f = Math.fround(v);
  const a = Math.abs(f);
  let c: number;
  if (!shortestDigits(a)) c = slowShortest(a);
  else if (outScale >= 0 && outScale <= 22) c = outDigits / POW10[outScale + 45];
  else if (outScale < 0 && outScale >= -22) c = outDigits * POW10[-outScale + 45];
  else c = Number(`${outDigits}e${-outScale}`); // correctly rounded where 10^k is not exact
  return f < 0 ? -c : c;
}

function slowShortest(a: number): number {
  for (let p = 6; p < 9; p++) {
    const s = Number(a.toPrecision(p));
    if (Math.fround(s) === a) return s;
  }
  return Number(a.toPrecision(9));
}

/** A growing byte buffer of ASCII text. */
class Text {
  buf = new Uint8Array(1 << 16);
  n = 0;
  room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }
  str(s: string): void {
    this.room(s.length * 3);
    this.n += Buffer.from(this.buf.buffer, this.buf.byteOffset + this.n, this.buf.length - this.n).write(s, 'utf8');
  }
  byte(c: number): void {
    this.room(1);
    this.buf[this.n++] = c;
  }
  toString(): string {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.n).toString('utf8');
  }
}

const ZERO = 48;
const digitScratch = new Uint8Array(24);

/** Writes the float32 of v as `JSON.stringify(shortestFloat32(v))` would (null when not finite). */
function writeNumber(t: Text, v: number): void {
  if (!Number.isFinite(v)) {
    t.str('null');
    return;
  }
  const f = Math.fround(v);
  if (f === 0) {
    t.byte(ZERO);
    return;
  }
  const a = Math.abs(f);
  if (!shortestDigits(a)) {
    t.str(String(f < 0 ? -slowShortest(a) : slowShortest(a)));
    return;
  }
  // the digits, least significant first
  let r = outDigits;
  let k = 0;
  while (r > 0) {
    const q = Math.floor(r / 10);
    digitScratch[k++] = ZERO + (r - 10 * q);
    r = q;
  }
  const n = k - outScale; // value = 0.d1d2…dk · 10^n (ECMAScript Number::toString)
  t.room(k + 30);
  const b = t.buf;
  let at = t.n;
  if (f < 0) b[at++] = 45; // -
  if (k <= n && n <= 21) {
    for (let i = k - 1; i >= 0; i--) b[at++] = digitScratch[i];
    for (let i = 0; i < n - k; i++) b[at++] = ZERO;
  } else if (0 < n && n <= 21) {
    for (let i = k - 1; i >= 0; i--) {
      b[at++] = digitScratch[i];
      if (k - 1 - i === n - 1) b[at++] = 46; // .
    }
  } else if (-6 < n && n <= 0) {
    b[at++] = ZERO;
    b[at++] = 46;
    for (let i = 0; i < -n; i++) b[at++] = ZERO;
    for (let i = k - 1; i >= 0; i--) b[at++] = digitScratch[i];
  } else {
    b[at++] = digitScratch[k - 1];
    if (k > 1) {
      b[at++] = 46;
      for (let i = k - 2; i >= 0; i--) b[at++] = digitScratch[i];
    }
    b[at++] = 101; // e
    const x = n - 1;
    b[at++] = x >= 0 ? 43 : 45;
    const s = String(Math.abs(x));
    for (let i = 0; i < s.length; i++) b[at++] = s.charCodeAt(i);
  }
  t.n = at;
}

/** Nested arrays of a flat row-major array. */
function writeNested(t: Text, v: ArrayLike<number>, shape: readonly number[], dim: number, offset: number): void {
  if (dim === shape.length) {
    writeNumber(t, v[offset]);
    return;
  }
  const n = shape[dim];
  if (dim === shape.length - 1) {
    t.byte(91);
    for (let i = 0; i < n; i++) {
      if (i > 0) t.byte(44);
      writeNumber(t, v[offset + i]);
    }
    t.byte(93);
    return;
  }
  let stride = 1;
  for (let d = dim + 1; d < shape.length; d++) stride *= shape[d];
  t.byte(91); // [
  for (let i = 0; i < n; i++) {
    if (i > 0) t.byte(44); // ,
    writeNested(t, v, shape, dim + 1, offset + i * stride);
  }
  t.byte(93); // ]
}

/** The text of a weights file: `{"W1": nested arrays, …}`, one param per line. */
export function weightsJson(params: readonly { name: string; shape: readonly number[] }[], values: Record<string, ArrayLike<number>>): string {
  const t = new Text();
  t.str('{\n');
  params.forEach((p, i) => {
    t.str(`  ${JSON.stringify(p.name)}: `);
    writeNested(t, values[p.name], p.shape, 0, 0);
    t.str(i + 1 < params.length ? ',\n' : '\n');
  });
  t.str('}\n');
  return t.toString();
}
