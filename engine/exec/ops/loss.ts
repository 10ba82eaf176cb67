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
import type { OpDef } from '../types';
import { nIter, stride } from '../types';
import { softplus } from '../../scalar';
import { rowLogSumExp } from './reduce';

function checkSizes(name: string, a: number, b: number): void {
  if (a !== b) throw new Error(`${name}: prediction and target sizes differ (${a} vs ${b})`);
}

export const crossEntropy: OpDef = {
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

export const mse: OpDef = {
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

export const binaryCrossEntropy: OpDef = {
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
