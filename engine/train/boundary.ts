/**
 * The decision boundary (TF Playground's other picture): for a model whose input is a point of
 * the plane (`input x: [2]`: xor, circle, spiral, gauss, a 2-column csv), its output over a
 * SIZE × SIZE grid covering the data, computed by the training worker with the current weights
 * and sent with the progress reports (`TrainProgress.boundary`).
 *
 * A second program of the same model, in float64 JS, compiled once with a batch of SIZE² grid points
 * whose inputs are written once; each picture copies the weights into it and runs one forward pass
 * (no allocation but the array the picture is sent in). Cheap for a small model; `pictureDue`
 * spaces the pictures of a wide one by their cost.
 */
import type { Dataset } from '../data/types';
import { compileModel, type CompiledModel } from '../exec/program';
import type { IRModel, IRProgram } from '../ir';
import { jsBackend } from '../kernels/js';
import type { FloatArray } from '../kernels/backend';
import { outputNodeOf } from './metrics';
import type { DecisionBoundary } from './types';

/** Cells per side of the grid. */
export const BOUNDARY_SIZE = 40;
/** At most this many data points travel with each picture. */
export const BOUNDARY_POINTS = 300;

/** A stopped run's last report carries a picture only when one took at most this long. */
export const STOP_PICTURE_MS = 50;
/** Pictures take at most about 1 / (1 + this) of a run's time. */
export const PICTURE_SPACING = 9;

/**
 * Whether a progress report carries a picture. Cheap for a small model, a picture is a forward pass
 * over SIZE² points in float64 JS: for a 2-512-512-1 network about 0.5 s, the time of 800
 * training steps, so a fixed interval would leave training all but stalled. A picture is therefore
 * due at the first report; then once `interval` ms have passed and PICTURE_SPACING times the last
 * picture's cost since it ended; always after the last epoch; and at a stop (the weights kept) when
 * pictures are cheap, so the stop stays prompt.
 */
export function pictureDue(s: {
  /** ms, the clock of `lastEnd` */
  now: number;
  /** when the last picture was finished (-Infinity: none yet) */
  lastEnd: number;
  /** how long it took, ms */
  lastCost: number;
  interval: number;
  lastEpoch: boolean;
  stop: boolean;
}): boolean {
  if (s.lastEnd === -Infinity || s.lastEpoch) return true;
  if (s.stop) return s.lastCost <= STOP_PICTURE_MS;
  return s.now - s.lastEnd >= Math.max(s.interval, PICTURE_SPACING * s.lastCost);
}

/** Whether a model's input is a point of the plane. */
export function hasPlaneInput(model: IRModel): boolean {
  return model.inputs.length === 1 && model.inputs[0].shape.length === 1 && model.inputs[0].shape[0] === 2;
}

export class BoundaryGrid {
  private readonly program: CompiledModel;
  private readonly out: number;
  private readonly k: number;
  readonly x: [number, number];
  readonly y: [number, number];
  private readonly points: DecisionBoundary['points'];
  private readonly kind: DecisionBoundary['kind'];

  private constructor(
    irProgram: IRProgram,
    private readonly model: IRModel,
    ds: Dataset,
    out: number,
    readonly size: number,
  ) {
    this.out = out;
    // the range of the data, 10% wider on each side (a square cell grid over a non-square plane is fine)
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < ds.n; i++) {
      const a = ds.x[2 * i];
      const b = ds.x[2 * i + 1];
      if (a < x0) x0 = a;
      if (a > x1) x1 = a;
      if (b < y0) y0 = b;
      if (b > y1) y1 = b;
    }
    const pad = (lo: number, hi: number): [number, number] => {
      const w = hi - lo || 1;
      return [lo - 0.1 * w, hi + 0.1 * w];
    };
    this.x = pad(x0, x1);
    this.y = pad(y0, y1);

    // a float64 JS program of its own (the trainer's lives in WebAssembly memory)
    this.program = compileModel(irProgram, model, jsBackend('f64'), { grads: 'params' });
    this.program.setBatchSize(size * size);
    const slot = this.program.slot(out);
    this.k = slot.size;
    const xs = this.program.data[model.inputs[0].name];
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const c = i * size + j;
        xs[2 * c] = this.x[0] + ((j + 0.5) / size) * (this.x[1] - this.x[0]);
        xs[2 * c + 1] = this.y[0] + ((i + 0.5) / size) * (this.y[1] - this.y[0]);
      }
    }
    // targets stay 0: the loss is computed but not used

    const dy = ds.y.length / ds.n;
    this.kind = ds.oneHot && dy >= 2 && this.k === dy ? 'classes' : this.k === 1 && isBinary(ds) ? 'binary' : 'values';
    const step = Math.max(1, Math.ceil(ds.n / BOUNDARY_POINTS));
    this.points = [];
    for (let i = 0; i < ds.n; i += step) {
      let label = ds.y[i * dy];
      if (this.kind === 'classes') {
        let best = 0;
        for (let c = 1; c < dy; c++) if (ds.y[i * dy + c] > ds.y[i * dy + best]) best = c;
        label = best;
      }
      this.points.push({ x: ds.x[2 * i], y: ds.x[2 * i + 1], label });
    }
  }

  /** A grid for a model with a plane input and an output value, else null. */
  static for(program: IRProgram, model: IRModel, ds: Dataset, size = BOUNDARY_SIZE): BoundaryGrid | null {
    if (!hasPlaneInput(model) || ds.n < 1 || ds.x.length !== 2 * ds.n) return null;
    const out = outputNodeOf(model);
    if (out === null) return null;
    const n = model.nodes.find((x) => x.id === out);
    if (!n || !n.batched) return null;
    return new BoundaryGrid(program, model, ds, out, size);
  }

  /** The picture at the given weights (by param name, e.g. the trainer's live buffers). */
  compute(params: Readonly<Record<string, ArrayLike<number>>>, step: number, epoch: number): DecisionBoundary {
    for (const q of this.model.params) (this.program.params[q.name] as FloatArray).set(params[q.name]);
    this.program.forward();
    const v = this.program.value(this.out);
    const n = this.size * this.size * this.k;
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) values[i] = Number.isFinite(v[i]) ? Math.round(v[i] * 1e5) / 1e5 : NaN;
    return {
      x: [this.x[0], this.x[1]],
      y: [this.y[0], this.y[1]],
      size: this.size,
      outputs: this.k,
      kind: this.kind,
      values,
      points: this.points,
      step,
      epoch,
    };
  }
}

function isBinary(ds: Dataset): boolean {
  for (let i = 0; i < ds.y.length; i++) if (ds.y[i] !== 0 && ds.y[i] !== 1) return false;
  return true;
}
