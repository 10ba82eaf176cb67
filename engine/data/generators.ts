/**
 * Synthetic 2-D data sets: `xor()`, and the TensorFlow Playground's `circle`, `gauss` and
 * `spiral` (generalised to any number of arms), plus inline `table` rows.
 *
 * Geometry (as in the Playground, coordinates roughly in [-6, 6]²):
 * - circle: class 1 inside radius 2.5 (r uniform in [0, 2.5]), class 0 on a ring r ∈ [3.5, 5];
 *   angles uniform. `noise` perturbs the point by uniform(-5, 5)·noise in x and y *before the
 *   label is decided* (the stored point is the clean one), so noise flips labels near the edge —
 *   exactly the Playground's behaviour.
 * - gauss: two Gaussian blobs, class 1 around (2, 2) and class 0 around (-2, -2); the variance
 *   grows linearly with noise, 0.5 at noise 0 and 4 at noise 0.5 (variance = 0.5 + 7·noise).
 * - spiral: `classes` arms; arm c of m points has r = 5·i/m and angle t = 3.5π·i/m + 2πc/classes,
 *   point (r·sin t, r·cos t) + uniform(-1, 1)·noise in each coordinate. Two arms reproduce the
 *   Playground's spiral. Labels are one-hot [classes].
 *
 * Points are emitted class by class (class 0 first); training shuffles and splits with its own
 * seed. Every number comes from `Rng(seed)`, so a (kind, n, noise, seed) always gives the same set.
 */
import type { DataSpec } from '../ir';
import { Rng } from '../rng';
import { DataError, type Dataset } from './types';

/** Defaults the language fills in for omitted arguments (documented in docs/data.md). */
export const DATA_DEFAULTS = {
  n: 200,
  noise: 0,
  seed: 0,
  classes: 2,
  /** digits16: how many digits (all of them). */
  limit: 10000,
} as const;

type Gen2D = Extract<DataSpec, { kind: 'circle' | 'gauss' | 'spiral' }>;

/** The four XOR points: [0,0]→0, [0,1]→1, [1,0]→1, [1,1]→0. */
export function xor(): Dataset {
  return {
    xShape: [2],
    yShape: [1],
    n: 4,
    oneHot: false,
    x: Float64Array.from([0, 0, 0, 1, 1, 0, 1, 1]),
    y: Float64Array.from([0, 1, 1, 0]),
  };
}

/** Validates a generator's arguments; throws DataError naming the argument. */
export function checkGeneratorArgs(spec: Gen2D): void {
  const { kind } = spec;
  if (!Number.isInteger(spec.n) || spec.n < 1) {
    throw new DataError(`${kind}: n must be a positive integer, got ${spec.n}`);
  }
  if (spec.n > 10_000_000) {
    throw new DataError(`${kind}: n must be at most 10000000, got ${spec.n}`);
  }
  if (!Number.isFinite(spec.noise) || spec.noise < 0) {
    throw new DataError(`${kind}: noise must be a number ≥ 0, got ${spec.noise}`);
  }
  if (!Number.isFinite(spec.seed)) {
    throw new DataError(`${kind}: seed must be a number, got ${spec.seed}`);
  }
  if (spec.kind === 'spiral') {
    if (!Number.isInteger(spec.classes) || spec.classes < 2) {
      throw new DataError(`spiral: classes must be an integer ≥ 2, got ${spec.classes}`);
    }
    if (spec.classes > spec.n) {
      throw new DataError(`spiral: classes (${spec.classes}) must not exceed n (${spec.n})`);
    }
  }
}

/** How many of n points class c of k gets: as equal as possible, earlier classes first. */
function classCount(n: number, k: number, c: number): number {
  return Math.floor(n / k) + (c < n % k ? 1 : 0);
}

export function circle(n: number, noise: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const radius = 5;
  const x = new Float64Array(2 * n);
  const y = new Float64Array(n);
  let i = 0;
  for (const label of [1, 0]) {
    const count = classCount(n, 2, label === 1 ? 0 : 1);
    const [rLo, rHi] = label === 1 ? [0, radius * 0.5] : [radius * 0.7, radius];
    for (let j = 0; j < count; j++, i++) {
      const r = rng.range(rLo, rHi);
      const angle = rng.range(0, 2 * Math.PI);
      const px = r * Math.sin(angle);
      const py = r * Math.cos(angle);
      const nx = rng.range(-radius, radius) * noise;
      const ny = rng.range(-radius, radius) * noise;
      x[2 * i] = px;
      x[2 * i + 1] = py;
      y[i] = Math.hypot(px + nx, py + ny) < radius * 0.5 ? 1 : 0;
    }
  }
  return { xShape: [2], yShape: [1], n, oneHot: false, x, y };
}

export function gauss(n: number, noise: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const std = Math.sqrt(0.5 + 7 * noise);
  const x = new Float64Array(2 * n);
  const y = new Float64Array(n);
  let i = 0;
  for (const [c, cx, label] of [
    [0, 2, 1],
    [1, -2, 0],
  ] as const) {
    const count = classCount(n, 2, c);
    for (let j = 0; j < count; j++, i++) {
      x[2 * i] = rng.normal(cx, std);
      x[2 * i + 1] = rng.normal(cx, std);
      y[i] = label;
    }
  }
  return { xShape: [2], yShape: [1], n, oneHot: false, x, y };
}

export function spiral(n: number, classes: number, noise: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float64Array(2 * n);
  const y = new Float64Array(n * classes);
  let i = 0;
  for (let c = 0; c < classes; c++) {
    const m = classCount(n, classes, c);
    const delta = (2 * Math.PI * c) / classes;
    for (let j = 0; j < m; j++, i++) {
      const r = (j / m) * 5;
      const t = ((1.75 * j) / m) * 2 * Math.PI + delta;
      x[2 * i] = r * Math.sin(t) + rng.range(-1, 1) * noise;
      x[2 * i + 1] = r * Math.cos(t) + rng.range(-1, 1) * noise;
      y[i * classes + c] = 1;
    }
  }
  return { xShape: [2], yShape: [classes], n, oneHot: true, x, y };
}

export function generate(spec: Gen2D): Dataset {
  checkGeneratorArgs(spec);
  switch (spec.kind) {
    case 'circle':
      return circle(spec.n, spec.noise, spec.seed);
    case 'gauss':
      return gauss(spec.n, spec.noise, spec.seed);
    case 'spiral':
      return spiral(spec.n, spec.classes, spec.noise, spec.seed);
  }
}

type TableRows = Extract<DataSpec, { kind: 'table' }>['rows'];

/** True when every label row has ≥ 2 entries and is a one-hot vector. */
function looksOneHot(rows: TableRows): boolean {
  if (rows[0].y.length < 2) return false;
  return rows.every((r) => {
    let ones = 0;
    for (const v of r.y) {
      if (v === 1) ones++;
      else if (v !== 0) return false;
    }
    return ones === 1;
  });
}

/** Checks a table's rows (1-based row numbers in errors). */
export function checkTable(rows: TableRows): void {
  if (rows.length === 0) throw new DataError('table: no rows');
  const dx = rows[0].x.length;
  const dy = rows[0].y.length;
  if (dx === 0) throw new DataError('table: row 1 has no features', 1);
  if (dy === 0) throw new DataError('table: row 1 has no label', 1);
  for (let r = 0; r < rows.length; r++) {
    const { x, y } = rows[r];
    if (x.length !== dx) {
      throw new DataError(
        `table: row ${r + 1} has ${x.length} feature${x.length === 1 ? '' : 's'}, row 1 has ${dx}`,
        r + 1,
      );
    }
    if (y.length !== dy) {
      throw new DataError(
        `table: row ${r + 1} has a label of ${y.length} value${y.length === 1 ? '' : 's'}, row 1 has ${dy}`,
        r + 1,
      );
    }
    const bad = [...x, ...y].findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new DataError(`table: row ${r + 1} holds a value that is not a finite number`, r + 1, bad + 1);
    }
  }
}

export function table(rows: TableRows): Dataset {
  checkTable(rows);
  const n = rows.length;
  const dx = rows[0].x.length;
  const dy = rows[0].y.length;
  const x = new Float64Array(n * dx);
  const y = new Float64Array(n * dy);
  rows.forEach((r, i) => {
    x.set(r.x, i * dx);
    y.set(r.y, i * dy);
  });
  return { xShape: [dx], yShape: [dy], n, oneHot: looksOneHot(rows), x, y };
}

export function tableOneHot(rows: TableRows): boolean {
  return looksOneHot(rows);
}
