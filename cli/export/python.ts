/** Python source helpers for the exporter: literals, identifiers and embedded tensors. */
import { deflateSync } from 'node:zlib';

/** A float literal that Python reads back as exactly the same float64 (JS's shortest round-trip form). */
export function pyFloat(v: number): string {
  if (Number.isNaN(v)) return "float('nan')";
  if (v === Infinity) return "float('inf')";
  if (v === -Infinity) return "-float('inf')";
  if (Object.is(v, -0)) return '-0.0';
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

export function pyString(s: string): string {
  return JSON.stringify(s); // a JSON string is a valid Python string literal (\uXXXX escapes included)
}

/** Nested Python lists of float literals (row-major `data` of the given shape). */
export function pyNested(data: ArrayLike<number>, shape: readonly number[], offset = 0): string {
  if (shape.length === 0) return pyFloat(data[offset]);
  const [n, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(pyNested(data, rest, offset + i * stride));
  return `[${parts.join(', ')}]`;
}

/** float64 little-endian bytes, zlib-compressed, base64: exact and compact. */
export function packFloat64(data: ArrayLike<number>): string {
  const a = Float64Array.from(data);
  const bytes = new Uint8Array(a.buffer);
  if (new Uint16Array(new Uint8Array([1, 0]).buffer)[0] !== 1) {
    // big-endian host: swap to little-endian
    for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse();
  }
  return deflateSync(bytes, { level: 9 }).toString('base64');
}

/** A long string literal split over lines of at most `width` characters (Python joins adjacent literals). */
export function pyLongString(s: string, indent: string, width = 100): string {
  if (s.length <= width) return pyString(s);
  const lines: string[] = [];
  for (let i = 0; i < s.length; i += width) lines.push(`${indent}${pyString(s.slice(i, i + width))}`);
  return `(\n${lines.join('\n')}\n${indent.slice(4)})`;
}

export const PY_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from global if ' +
    'import in is lambda nonlocal not or pass raise return try while with yield match case'
  ).split(' '),
);

/** Builtins the script itself calls: a user name must not shadow them at module level. */
export const PY_BUILTINS = new Set(
  (
    'abs all any bool dict enumerate float getattr int isinstance len list map max min object open print range ' +
    'round set sorted str sum super tuple zip id iter next hash repr format input type vars dir ' +
    'Exception RuntimeError SystemExit ValueError TypeError KeyError'
  ).split(' '),
);

/**
 * Hands out Python identifiers for .nn names: the name itself when it is a valid identifier that
 * is free, else a variant (`h.W` → `h_W`, `lambda` → `lambda_`, a clash → `name_2`).
 */
export class Names {
  private readonly used: Set<string>;
  private readonly given = new Map<string, string>();

  constructor(reserved: Iterable<string>) {
    this.used = new Set([...PY_KEYWORDS, ...PY_BUILTINS, ...reserved]);
  }

  /** The identifier for `key` (the same one every time), derived from `hint`. */
  get(key: string, hint: string = key): string {
    const had = this.given.get(key);
    if (had !== undefined) return had;
    // Python 3 identifiers may hold letters of any script (§9: σ, δ2, ŷ); it reads them NFKC-normalised
    let base = hint.normalize('NFKC').replace(/[^\p{L}\p{M}\p{N}_]/gu, '_');
    if (!/^[\p{L}_]/u.test(base)) base = `_${base}`;
    if (PY_KEYWORDS.has(base) || PY_BUILTINS.has(base)) base = `${base}_`;
    let name = base;
    for (let i = 2; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    this.given.set(key, name);
    return name;
  }

  reserve(name: string): void {
    this.used.add(name);
  }
}
