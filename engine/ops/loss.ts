/**
 * Losses, one scalar per example: cross_entropy, mse, binary_cross_entropy.
 *
 * Terms with zero weight are skipped (0 · log 0 = 0), so a one-hot target never turns an
 * underflowed probability of a wrong class into NaN.
 *
 * Fusion (see `Fusion` in ../types): when y = softmax(z), cross_entropy is computed from the
 * logits as −Σ t (z − logsumexp z) and its gradient (y·Σt − t) goes straight to z; when
 * y = sigmoid(z), binary_cross_entropy is mean(softplus(z) − t z) with gradient (y − t)/n to z.
 * y's own exact gradient (−t/y, …) is written to a separate buffer only when asked for.
 */
import { fmt } from '../format';
import { err, ok } from '../result';
import { softplus } from '../scalar';
import { fmtShape, formatIndex, sameShape, sizeOf } from '../shape';
import type { OpDef } from '../exec/types';
import { nIter, stride } from '../exec/types';
import type { NodeOp } from './names';
import { rowLogSumExp } from './reduce';
import { PY_PREC, type NodeEntry, type NonFiniteCtx } from './types';
import { reduceExample, xlogy } from './onnx';

function checkSizes(name: string, a: number, b: number): void {
  if (a !== b) throw new Error(`${name}: prediction and target sizes differ (${a} vs ${b})`);
}

const crossEntropyKernel: OpDef = {
  scratch(_node, args, out, B) {
    const y = args[0];
    const L = y.shape.length ? y.shape[y.shape.length - 1] : 1;
    return [(out.batched ? B : 1) * (y.size / L)];
  },
  bind(ctx) {
    const [y, t] = ctx.args;
    const { out, fusion } = ctx;
    const n = y.size;
    checkSizes('cross_entropy', n, t.size);
    const nb = nIter(ctx);
    const sy = stride(y);
    const st = stride(t);
    const L = y.shape.length ? y.shape[y.shape.length - 1] : 1;
    const rowsPer = n / L;
    const lse = ctx.scratch[0];

    if (fusion) {
      const z = fusion.z;
      let forward = () => {
        const Z = z.v;
        const T = t.v;
        for (let e = 0; e < nb; e++) {
          let c = 0;
          for (let r = 0; r < rowsPer; r++) {
            const oz = e * sy + r * L;
            const ot = e * st + r * L;
            const l = rowLogSumExp(Z, oz, L);
            lse[e * rowsPer + r] = l;
            for (let i = 0; i < L; i++) {
              const ti = T[ot + i];
              if (ti !== 0) c -= ti * (Z[oz + i] - l);
            }
          }
          out.v[e] = c;
        }
      };
      const gz = z.g;
      const gt = t.g;
      const yExt = fusion.yExt;
      if (ctx.backend.dtype === 'f32' && !gt) {
        // float32 training path: the softmax has just written y, so log(y) needs no exp; a row
        // whose y underflowed where t ≠ 0 takes the log-sum-exp form above. (The target's own
        // gradient, when wanted, needs the log-sum-exp of every row: the general forward.)
        const TINY = 1e-30;
        forward = () => {
          const Y = y.v;
          const Z = z.v;
          const T = t.v;
          for (let e = 0; e < nb; e++) {
            let c = 0;
            for (let r = 0; r < rowsPer; r++) {
              const oy = e * sy + r * L;
              const ot = e * st + r * L;
              let l = NaN;
              for (let i = 0; i < L; i++) {
                const ti = T[ot + i];
                if (ti === 0) continue;
                const yi = Y[oy + i];
                if (yi > TINY) {
                  c -= ti * Math.log(yi);
                  continue;
                }
                if (l !== l) {
                  l = rowLogSumExp(Z, oy, L);
                }
                c -= ti * (Z[oy + i] - l);
              }
            }
            out.v[e] = c;
          }
        };
        const be = ctx.backend;
        if (be.crossEntropyRows && rowsPer === 1 && y.batched && t.batched && out.batched) {
          // one row per example, laid out alike: the backend's row kernel, and the loop above
          // only when a row has an underflowed probability
          const rowsCe = be.crossEntropyRows.bind(be);
          const general = forward;
          forward = () => {
            if (rowsCe(nb, L, y.v, 0, t.v, 0, out.v, 0) >= 0) general();
          };
        }
      }
      let backward =
        out.g && (gz || gt || yExt)
          ? () => {
              const Y = y.v;
              const Z = z.v;
              const T = t.v;
              for (let e = 0; e < nb; e++) {
                const g = out.g![e];
                for (let r = 0; r < rowsPer; r++) {
                  const oy = e * sy + r * L;
                  const ot = e * st + r * L;
                  if (gz) {
                    let tsum = 0;
                    for (let i = 0; i < L; i++) tsum += T[ot + i];
                    for (let i = 0; i < L; i++) gz[oy + i] += g * (Y[oy + i] * tsum - T[ot + i]);
                  }
                  if (yExt) {
                    for (let i = 0; i < L; i++) {
                      const ti = T[ot + i];
                      if (ti !== 0) yExt[oy + i] -= (g * ti) / Y[oy + i];
                    }
                  }
                  if (gt) {
                    const l = lse[e * rowsPer + r];
                    for (let i = 0; i < L; i++) gt[ot + i] -= g * (Z[oy + i] - l);
                  }
                }
              }
            }
          : null;
      const be = ctx.backend;
      if (backward && gz && !gt && !yExt && be.dtype === 'f32' && be.crossEntropyBackward && rowsPer === 1 && y.batched && t.batched && out.batched) {
        // the float32 training path: only ∂L/∂z, by the backend's row kernel
        const rowsBack = be.crossEntropyBackward.bind(be);
        const go = out.g!;
        backward = () => rowsBack(nb, L, y.v, 0, t.v, 0, go, 0, gz, 0);
      }
      return { forward, backward };
    }

    const forward = () => {
      const Y = y.v;
      const T = t.v;
      for (let e = 0; e < nb; e++) {
        let c = 0;
        const oy = e * sy;
        const ot = e * st;
        for (let i = 0; i < n; i++) {
          const ti = T[ot + i];
          if (ti !== 0) c -= ti * Math.log(Y[oy + i]);
        }
        out.v[e] = c;
      }
    };
    const gy = y.g;
    const gt = t.g;
    const backward =
      out.g && (gy || gt)
        ? () => {
            const Y = y.v;
            const T = t.v;
            for (let e = 0; e < nb; e++) {
              const g = out.g![e];
              const oy = e * sy;
              const ot = e * st;
              for (let i = 0; i < n; i++) {
                const ti = T[ot + i];
                if (gy && ti !== 0) gy[oy + i] -= (g * ti) / Y[oy + i];
                if (gt) gt[ot + i] -= g * Math.log(Y[oy + i]);
              }
            }
          }
        : null;
    return { forward, backward };
  },
};

const mseKernel: OpDef = {
  bind(ctx) {
    const [y, t] = ctx.args;
    const { out } = ctx;
    const n = y.size;
    checkSizes('mse', n, t.size);
    const nb = nIter(ctx);
    const sy = stride(y);
    const st = stride(t);
    const forward = () => {
      const Y = y.v;
      const T = t.v;
      for (let e = 0; e < nb; e++) {
        let s = 0;
        const oy = e * sy;
        const ot = e * st;
        for (let i = 0; i < n; i++) {
          const d = Y[oy + i] - T[ot + i];
          s += d * d;
        }
        out.v[e] = s / n;
      }
    };
    const gy = y.g;
    const gt = t.g;
    const backward =
      out.g && (gy || gt)
        ? () => {
            const Y = y.v;
            const T = t.v;
            for (let e = 0; e < nb; e++) {
              const c = (2 * out.g![e]) / n;
              const oy = e * sy;
              const ot = e * st;
              for (let i = 0; i < n; i++) {
                const d = c * (Y[oy + i] - T[ot + i]);
                if (gy) gy[oy + i] += d;
                if (gt) gt[ot + i] -= d;
              }
            }
          }
        : null;
    return { forward, backward };
  },
};

const bceKernel: OpDef = {
  bind(ctx) {
    const [y, t] = ctx.args;
    const { out, fusion } = ctx;
    const n = y.size;
    checkSizes('binary_cross_entropy', n, t.size);
    const nb = nIter(ctx);
    const sy = stride(y);
    const st = stride(t);

    /** ∂/∂y of −(t log y + (1−t) log(1−y)), zero-weight terms skipped. */
    const dy = (yi: number, ti: number) => -((ti !== 0 ? ti / yi : 0) - (ti !== 1 ? (1 - ti) / (1 - yi) : 0));

    if (fusion) {
      const z = fusion.z;
      const forward = () => {
        const Z = z.v;
        const T = t.v;
        for (let e = 0; e < nb; e++) {
          let s = 0;
          const oz = e * sy;
          const ot = e * st;
          for (let i = 0; i < n; i++) {
            const zi = Z[oz + i];
            s += softplus(zi) - T[ot + i] * zi;
          }
          out.v[e] = s / n;
        }
      };
      const gz = z.g;
      const gt = t.g;
      const yExt = fusion.yExt;
      const backward =
        out.g && (gz || gt || yExt)
          ? () => {
              const Y = y.v;
              const Z = z.v;
              const T = t.v;
              for (let e = 0; e < nb; e++) {
                const c = out.g![e] / n;
                const oy = e * sy;
                const ot = e * st;
                for (let i = 0; i < n; i++) {
                  const ti = T[ot + i];
                  if (gz) gz[oy + i] += c * (Y[oy + i] - ti);
                  if (yExt) yExt[oy + i] += c * dy(Y[oy + i], ti);
                  if (gt) gt[ot + i] -= c * Z[oy + i];
                }
              }
            }
          : null;
      return { forward, backward };
    }

    const forward = () => {
      const Y = y.v;
      const T = t.v;
      for (let e = 0; e < nb; e++) {
        let s = 0;
        const oy = e * sy;
        const ot = e * st;
        for (let i = 0; i < n; i++) {
          const yi = Y[oy + i];
          const ti = T[ot + i];
          if (ti !== 0) s += ti * Math.log(yi);
          if (ti !== 1) s += (1 - ti) * Math.log(1 - yi);
        }
        out.v[e] = -s / n;
      }
    };
    const gy = y.g;
    const gt = t.g;
    const backward =
      out.g && (gy || gt)
        ? () => {
            const Y = y.v;
            const T = t.v;
            for (let e = 0; e < nb; e++) {
              const c = out.g![e] / n;
              const oy = e * sy;
              const ot = e * st;
              for (let i = 0; i < n; i++) {
                const yi = Y[oy + i];
                const ti = T[ot + i];
                if (gy) gy[oy + i] += c * dy(yi, ti);
                if (gt) gt[ot + i] -= c * (Math.log(yi) - Math.log(1 - yi));
              }
            }
          }
        : null;
    return { forward, backward };
  },
};

/** A loss of a prediction and a target of equal shapes. */
function equalShapes(name: string, y: readonly number[], t: readonly number[]) {
  return sameShape(y, t) ? ok([]) : err(`${name}(${fmtShape(y)}, ${fmtShape(t)}): shapes differ; rule: equal shapes -> []`);
}

/** log(y) of a probability y that is 0 (or not a number) where the target wants it. */
function badLog(c: NonFiniteCtx, name: string, withTarget: boolean): string | undefined {
  const y = c.operand(0);
  const t = c.operand(1);
  const yName = y.valueName ?? 'y';
  const tName = t.valueName ?? t.leafName ?? 't';
  const n = sizeOf(y.shape);
  for (let k = 0; k < n; k++) {
    const yk = y.values[y.offset + k];
    const tk = t.values[t.offset + k];
    const at = `${formatIndex(yName, y.shape, k)} = ${fmt(yk)}`;
    if (tk !== 0 && !(yk > 0)) {
      const where = withTarget ? ` where ${formatIndex(tName, t.shape, k)} = ${fmt(tk)}` : '';
      return `log(${yName}) with ${at}${where}: log(${fmt(yk)}) = ${yk === 0 ? '-Infinity' : 'NaN'}`;
    }
    if (name === 'binary_cross_entropy' && tk !== 1 && !(yk < 1))
      return `log(1 - ${yName}) with ${at}: log(${fmt(1 - yk)}) = ${yk === 1 ? '-Infinity' : 'NaN'}`;
  }
  return undefined;
}

export const LOSS = {
  cross_entropy: {
    name: 'cross_entropy',
    syntax: { kind: 'call' },
    params: [{ name: 'y' }, { name: 't' }],
    doc: '-Σ t·log(y) for probabilities y (numerically stable when y is a softmax).',
    rule: '[k], [k] -> []',
    shape([y, t]) {
      const head = `cross_entropy(${fmtShape(y)}, ${fmtShape(t)})`;
      if (y.length === 0 || t.length === 0) return err(`${head}: needs class vectors, got a scalar; rule [k], [k] -> []`);
      if (y.length !== 1 || t.length !== 1) {
        // §3: one probability per class, a vector; a column [k, 1] is the lecture's drawing of one
        const bad = y.length !== 1 ? y : t;
        const column = bad.length === 2 && bad[1] === 1;
        const why = column
          ? `${fmtShape(bad)} is a column (a matrix with one column), not a vector: per-example vectors are [${bad[0]}]`
          : `${fmtShape(bad)} has rank ${bad.length}, not a vector of class probabilities`;
        return err(`${head}: ${why}; rule [k], [k] -> []`);
      }
      if (!sameShape(y, t)) return err(`${head}: shapes differ; rule [k], [k] -> []`);
      return ok([]);
    },
    kernel: crossEntropyKernel,
    reduction: ([y]) => y.size,
    loss: { target: 'one-hot', fusedWith: 'softmax' },
    nonFinite: { forward: (c) => badLog(c, 'cross_entropy', true) ?? `cross_entropy overflows (${fmt(c.value)})` },
    pytorch(py, n) {
      const t = n.arg(1);
      if (n.logits) {
        // y = softmax(z): from the logits, as F.cross_entropy does with probability targets
        return py.neg(py.atom(`(${py.wrap(t, PY_PREC.mul)} * torch.log_softmax(${n.logits.code}, -1)).sum(-1)`));
      }
      return py.neg(py.atom(`torch.xlogy(${t.code}, ${n.arg(0).code}).sum(-1)`)); // 0 · log 0 = 0
    },
    onnx(b, [y, t], n) {
      const terms = n.logits
        ? b.node('Mul', [t, b.node('LogSoftmax', [n.logits], { axis: -1 })]) // from the logits, as the engine
        : xlogy(b, t, y);
      return b.node('Neg', [reduceExample(b, 'ReduceSum', terms, { shape: n.args[0].shape, batched: n.batchedOut })]);
    },
  },
  mse: {
    name: 'mse',
    syntax: { kind: 'call' },
    params: [{ name: 'y' }, { name: 't' }],
    doc: 'Mean squared error mean((y - t)²) over the example.',
    rule: 'equal shapes -> []',
    shape: ([y, t]) => equalShapes('mse', y, t),
    kernel: mseKernel,
    reduction: ([y]) => y.size,
    loss: { target: 'any' },
    pytorch: (py, n) =>
      py.reduce(py.atom(`(${py.binary('-', n.arg(0), n.arg(1)).code}).square()`), n.batchedOut, n.rank(0), 'mean'),
    onnx(b, [y, t], n) {
      const d = b.node('Sub', [y, t]);
      return reduceExample(b, 'ReduceMean', b.node('Mul', [d, d]), { shape: n.args[0].shape, batched: n.batchedOut });
    },
  },
  binary_cross_entropy: {
    name: 'binary_cross_entropy',
    syntax: { kind: 'call' },
    params: [{ name: 'y' }, { name: 't' }],
    doc: '-mean(t·log y + (1-t)·log(1-y)) for probabilities y.',
    rule: 'equal shapes -> []',
    shape: ([y, t]) => equalShapes('binary_cross_entropy', y, t),
    kernel: bceKernel,
    reduction: ([y]) => y.size,
    loss: { target: 'binary', fusedWith: 'sigmoid' },
    nonFinite: { forward: (c) => badLog(c, 'binary_cross_entropy', false) ?? `binary_cross_entropy overflows (${fmt(c.value)})` },
    pytorch(py, n) {
      const t = n.arg(1);
      const { mul, add } = PY_PREC;
      if (n.logits) {
        // y = sigmoid(z): softplus(z) - t z, the stable form of F.binary_cross_entropy_with_logits
        const z = n.logits;
        return py.reduce(py.atom(`(softplus(${z.code}) - ${py.wrap(t, mul)} * ${py.wrap(z, mul + 1)})`), n.batchedOut, n.rank(0), 'mean');
      }
      const y = n.arg(0);
      return py.reduce(
        py.neg(py.atom(`(torch.xlogy(${t.code}, ${y.code}) + torch.xlogy(1 - ${py.wrap(t, add + 1)}, 1 - ${py.wrap(y, add + 1)}))`)),
        n.batchedOut,
        n.rank(0),
        'mean',
      );
    },
    onnx(b, [y, t], n) {
      const terms = n.logits
        ? b.node('Sub', [b.node('Softplus', [n.logits]), b.node('Mul', [t, n.logits])]) // softplus(z) - t z: the stable form on sigmoid(z)
        : b.node('Add', [xlogy(b, t, y), xlogy(b, b.node('Sub', [b.constant(1), t]), b.node('Sub', [b.constant(1), y]))]);
      const mean = reduceExample(b, 'ReduceMean', terms, { shape: n.args[0].shape, batched: n.batchedOut });
      return n.logits ? mean : b.node('Neg', [mean]);
    },
  },
} satisfies Record<Extract<NodeOp, 'cross_entropy' | 'mse' | 'binary_cross_entropy'>, NodeEntry>;
