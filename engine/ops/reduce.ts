/**
 * Reductions over all axes of one example (sum, mean, max) and the last-axis normalisations
 * (softmax, log_softmax).
 *
 * max: the gradient goes to the FIRST maximal element (like `torch.max(x, dim)` and
 * `argmax`; note that PyTorch's full reduction `torch.max(x)` instead splits it evenly among
 * ties). A NaN anywhere makes the max NaN.
 */
import { err, ok } from '../result';
import { fmtShape } from '../shape';
import type { OpDef, OpKernel } from '../exec/types';
import { nIter, stride } from '../exec/types';
import type { NodeOp } from './names';
import { scalarResult, type ShapeResult } from './rules';
import type { NodeEntry, OnnxEmitter, PyEmitter } from './types';
import { reduceExample } from './onnx';

/** Σ (sum) or Σ/n (mean) over all elements of each example. */
function sumOver(mean: boolean): OpDef {
  return {
    bind(ctx) {
      const [a] = ctx.args;
      const { out } = ctx;
      const nb = nIter(ctx);
      const n = a.size;
      const sa = stride(a);
      const forward = () => {
        const A = a.v;
        for (let e = 0; e < nb; e++) {
          let s = 0;
          const o = e * sa;
          for (let i = 0; i < n; i++) s += A[o + i];
          out.v[e] = mean ? s / n : s;
        }
      };
      // ∂a_i = g (sum), g / n (mean)
      const backward =
        out.g && a.g
          ? () => {
              const GA = a.g!;
              for (let e = 0; e < nb; e++) {
                const g = mean ? out.g![e] / n : out.g![e];
                const o = e * sa;
                for (let i = 0; i < n; i++) GA[o + i] += g;
              }
            }
          : null;
      return { forward, backward };
    },
  };
}


const maxKernel: OpDef = {
  bind(ctx) {
    const [a] = ctx.args;
    const { out } = ctx;
    const nb = nIter(ctx);
    const n = a.size;
    const sa = stride(a);
    const argmax = new Int32Array(nb);
    const forward = () => {
      const A = a.v;
      for (let e = 0; e < nb; e++) {
        const o = e * sa;
        let m = A[o];
        let k = 0;
        for (let i = 1; i < n; i++) {
          const x = A[o + i];
          if (x > m || x !== x) {
            m = x;
            k = i;
            if (x !== x) break;
          }
        }
        out.v[e] = m;
        argmax[e] = k;
      }
    };
    const backward =
      out.g && a.g
        ? () => {
            const GA = a.g!;
            for (let e = 0; e < nb; e++) GA[e * sa + argmax[e]] += out.g![e];
          }
        : null;
    const k: OpKernel = {
      forward,
      backward,
      kink: {
        size: nb,
        write(codes) {
          codes.set(argmax);
        },
      },
    };
    return k;
  },
};

/**
 * The shift that keeps exp from overflowing in a softmax row Z[o … o+L): the row's largest
 * value, or 0 when that is ±Infinity or NaN (so Inf/NaN propagate as NaN, not as Inf − Inf).
 */
function rowShift(Z: ArrayLike<number>, o: number, L: number): number {
  let m = -Infinity;
  for (let i = 0; i < L; i++) if (Z[o + i] > m) m = Z[o + i];
  return m === Infinity || m !== m ? 0 : m;
}

/** log Σ exp(Z[o … o+L)), computed stably. */
export function rowLogSumExp(Z: ArrayLike<number>, o: number, L: number): number {
  const m = rowShift(Z, o, L);
  let s = 0;
  for (let i = 0; i < L; i++) s += Math.exp(Z[o + i] - m);
  return m + Math.log(s);
}

/** Softmax over the last axis. */
const softmaxKernel: OpDef = {
  bind(ctx) {
    const [z] = ctx.args;
    const { out } = ctx;
    const L = z.shape.length ? z.shape[z.shape.length - 1] : 1;
    const rows = (nIter(ctx) * out.size) / L;
    let forward = () => {
      const Z = z.v;
      const Y = out.v;
      for (let r = 0; r < rows; r++) {
        const o = r * L;
        const m = rowShift(Z, o, L);
        let s = 0;
        for (let i = 0; i < L; i++) {
          const e = Math.exp(Z[o + i] - m);
          Y[o + i] = e;
          s += e;
        }
        for (let i = 0; i < L; i++) Y[o + i] /= s;
      }
    };
    const be = ctx.backend;
    if (be.dtype === 'f32' && be.softmaxRows) {
      // float32 training path: the backend's row softmax (in WebAssembly: one SIMD exp over the
      // whole block between a shift pass and a scale pass)
      const softmaxRows = be.softmaxRows.bind(be);
      forward = () => softmaxRows(rows, L, z.v, 0, out.v, 0);
    }
    // ∂z_i = y_i (g_i − Σ_j g_j y_j)
    const backward =
      out.g && z.g
        ? () => {
            const Y = out.v;
            const G = out.g!;
            const GZ = z.g!;
            for (let r = 0; r < rows; r++) {
              const o = r * L;
              let s = 0;
              for (let i = 0; i < L; i++) s += G[o + i] * Y[o + i];
              for (let i = 0; i < L; i++) GZ[o + i] += Y[o + i] * (G[o + i] - s);
            }
          }
        : null;
    return { forward, backward };
  },
};

/** log_softmax over the last axis: z − max − log Σ exp(z − max). */
const logSoftmaxKernel: OpDef = {
  bind(ctx) {
    const [z] = ctx.args;
    const { out } = ctx;
    const L = z.shape.length ? z.shape[z.shape.length - 1] : 1;
    const rows = (nIter(ctx) * out.size) / L;
    const forward = () => {
      const Z = z.v;
      const Y = out.v;
      for (let r = 0; r < rows; r++) {
        const o = r * L;
        const lse = rowLogSumExp(Z, o, L);
        for (let i = 0; i < L; i++) Y[o + i] = Z[o + i] - lse;
      }
    };
    // ∂z_i = g_i − softmax_i Σ_j g_j, softmax_i = exp(y_i)
    const backward =
      out.g && z.g
        ? () => {
            const Y = out.v;
            const G = out.g!;
            const GZ = z.g!;
            for (let r = 0; r < rows; r++) {
              const o = r * L;
              let s = 0;
              for (let i = 0; i < L; i++) s += G[o + i];
              for (let i = 0; i < L; i++) GZ[o + i] += G[o + i] - Math.exp(Y[o + i]) * s;
            }
          }
        : null;
    return { forward, backward };
  },
};

/** softmax, log_softmax: over the last axis. */
function lastAxisRule(name: string, a: readonly number[]): ShapeResult {
  if (a.length >= 1) return ok(a.slice());
  return err(`${name} ${fmtShape(a)}: works over the last axis and a scalar has none; rule: rank >= 1, same shape`);
}

const reduceOnnx =
  (how: 'ReduceSum' | 'ReduceMean' | 'ReduceMax'): OnnxEmitter =>
  (b, [x], n) =>
    reduceExample(b, how, x, { shape: n.args[0].shape, batched: n.batchedOut });

const reducePy =
  (how: 'sum' | 'mean' | 'max'): PyEmitter =>
  (py, n) =>
    py.reduce(n.arg(0), n.batchedOut, n.rank(0), how);

export const REDUCE = {
  sum: {
    name: 'sum',
    syntax: { kind: 'call' },
    params: [{ name: 'a' }],
    doc: 'Sum of all elements of one example.',
    rule: '[...] -> []',
    shape: scalarResult,
    kernel: sumOver(false),
    reduction: ([a]) => a.size,
    pytorch: reducePy('sum'),
    onnx: reduceOnnx('ReduceSum'),
  },
  mean: {
    name: 'mean',
    syntax: { kind: 'call' },
    params: [{ name: 'a' }],
    doc: 'Mean of all elements of one example.',
    rule: '[...] -> []',
    shape: scalarResult,
    kernel: sumOver(true),
    reduction: ([a]) => a.size,
    pytorch: reducePy('mean'),
    onnx: reduceOnnx('ReduceMean'),
  },
  max: {
    name: 'max',
    syntax: { kind: 'call' },
    params: [{ name: 'a' }],
    doc: 'Largest element of one example.',
    rule: '[...] -> []',
    shape: scalarResult,
    kernel: maxKernel,
    kink: { explain: () => 'max has a tie within the step (its gradient goes to the first maximal element)' },
    pytorch: reducePy('max'),
    onnx: reduceOnnx('ReduceMax'),
  },
  softmax: {
    name: 'softmax',
    syntax: { kind: 'call' },
    params: [{ name: 'a' }],
    doc: 'Softmax over the last axis: e^a / Σ e^a.',
    rule: 'same shape, rank >= 1',
    shape: ([a]) => lastAxisRule('softmax', a),
    kernel: softmaxKernel,
    activation: true,
    reduction: ([a]) => a.shape[a.shape.length - 1],
    pytorch: (py, n) => py.call('torch.softmax', [n.arg(0)], ['-1']),
    onnx: (b, [x]) => b.node('Softmax', [x], { axis: -1 }),
  },
  log_softmax: {
    name: 'log_softmax',
    syntax: { kind: 'call' },
    params: [{ name: 'a' }],
    doc: 'log(softmax(a)) over the last axis, computed stably.',
    rule: 'same shape, rank >= 1',
    shape: ([a]) => lastAxisRule('log_softmax', a),
    kernel: logSoftmaxKernel,
    activation: true,
    reduction: ([a]) => a.shape[a.shape.length - 1],
    pytorch: (py, n) => py.call('torch.log_softmax', [n.arg(0)], ['-1']),
    onnx: (b, [x]) => b.node('LogSoftmax', [x], { axis: -1 }),
  },
} satisfies Record<Extract<NodeOp, 'sum' | 'mean' | 'max' | 'softmax' | 'log_softmax'>, NodeEntry>;
