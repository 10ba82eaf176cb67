/**
 * Helpers for training on a Dataset: a seeded train/validation split, a seeded per-epoch shuffle
 * that allocates nothing per epoch, and a batch gatherer that copies rows into preallocated
 * (Float32Array or Float64Array, e.g. WebAssembly-backed) buffers.
 */
import { Rng } from '../rng';
import { DataError, type Dataset } from './types';

type FloatArray = Float64Array | Float32Array;

function prod(shape: number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

/** The rows `idx` of a dataset, in that order, as a new Dataset. */
export function subset(ds: Dataset, idx: ArrayLike<number>): Dataset {
  const dx = prod(ds.xShape);
  const dy = prod(ds.yShape);
  const n = idx.length;
  const x = new Float64Array(n * dx);
  const y = new Float64Array(n * dy);
  for (let i = 0; i < n; i++) {
    const r = idx[i];
    x.set(ds.x.subarray(r * dx, (r + 1) * dx), i * dx);
    y.set(ds.y.subarray(r * dy, (r + 1) * dy), i * dy);
  }
  return {
    xShape: ds.xShape.slice(),
    yShape: ds.yShape.slice(),
    n,
    oneHot: ds.oneHot,
    ...(ds.classNames ? { classNames: ds.classNames.slice() } : {}),
    x,
    y,
  };
}

export interface SplitData {
  train: Dataset;
  /** Null when `split` is 1 or leaves no example for validation. */
  validation: Dataset | null;
}

/**
 * Seeded split: a random permutation from `Rng(seed)` chooses round(n·split) examples (at least 1)
 * for training and the rest for validation; each part keeps the data set's original order.
 * `split` is the training fraction, in (0, 1].
 */
export function splitData(ds: Dataset, split: number, seed: number): SplitData {
  if (!(split > 0 && split <= 1)) {
    throw new DataError(`split must be a fraction in (0, 1], got ${split}`);
  }
  const nTrain = Math.min(ds.n, Math.max(1, Math.round(ds.n * split)));
  if (nTrain === ds.n) return { train: ds, validation: null };
  const perm = new Uint32Array(ds.n);
  for (let i = 0; i < ds.n; i++) perm[i] = i;
  new Rng(seed).shuffle(perm);
  const trainIdx = perm.slice(0, nTrain).sort();
  const valIdx = perm.slice(nTrain).sort();
  return { train: subset(ds, trainIdx), validation: subset(ds, valIdx) };
}

/**
 * A seeded per-epoch order of n examples. `next()` reshuffles the same Uint32Array in place
 * (Fisher–Yates over the previous order, from one Rng stream) and returns it: no allocation per
 * epoch. The k-th epoch's order depends only on (n, seed, k).
 */
export class EpochShuffler {
  readonly order: Uint32Array;
  private readonly rng: Rng;

  constructor(
    readonly n: number,
    seed: number,
  ) {
    this.order = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.rng = new Rng(seed);
  }

  /** Shuffles and returns the order for the next epoch (the same array every time). */
  next(): Uint32Array {
    this.rng.shuffle(this.order);
    return this.order;
  }
}

/**
 * Copies examples order[start], …, order[start+count-1] into `x` and `y` (row-major,
 * count × prod(xShape) from `xOff`, count × prod(yShape) from `yOff`), converting to the
 * buffers' type. Allocates nothing.
 */
export function gatherBatch(
  ds: Dataset,
  order: ArrayLike<number>,
  start: number,
  count: number,
  x: FloatArray,
  y: FloatArray,
  xOff = 0,
  yOff = 0,
): void {
  const dx = prod(ds.xShape);
  const dy = prod(ds.yShape);
  const sx = ds.x;
  const sy = ds.y;
  for (let i = 0; i < count; i++) {
    const r = order[start + i];
    const xs = r * dx;
    const xd = xOff + i * dx;
    for (let j = 0; j < dx; j++) x[xd + j] = sx[xs + j];
    const ys = r * dy;
    const yd = yOff + i * dy;
    for (let j = 0; j < dy; j++) y[yd + j] = sy[ys + j];
  }
}

/** Number of batches of size `batch` in an epoch of n examples (the last one may be smaller). */
export function batchesPerEpoch(n: number, batch: number): number {
  return Math.ceil(n / batch);
}
