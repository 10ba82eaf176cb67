/**
 * Linear algebra: matmul (all four forms), transpose, outer, dot.
 *
 * matmul views each operand per example as a matrix — A as M×K (a vector [n] on the left is
 * 1×n), B as K×N (a vector [n] on the right is n×1) — so the per-example product is always
 * O = A·B (M×N), and the batch axis is folded into a single gemm wherever the layout allows:
 *
 * | A         | B          | how                                                        |
 * |-----------|------------|------------------------------------------------------------|
 * | unbatched | unbatched  | one gemm                                                   |
 * | batched   | unbatched  | one gemm, rows of A stacked: [B·M, K] · [K, N]             |
 * | unbatched | batched, N=1 | one gemm, `W @ x` as X[B,K] · Wᵀ → [B, M]                |
 * | unbatched | batched, N>1 | one gemm per example                                     |
 * | batched   | batched    | one gemm per example                                       |
 *
 * Backward: ∂A = ∂O · Bᵀ, ∂B = Aᵀ · ∂O, folded the same way (an unbatched operand's gradient
 * accumulates the sum over the batch in the same gemm).
 */
import type { OpContext, OpDef, OpKernel } from '../types';
import { nIter, stride } from '../types';

export const matmul: OpDef = {
  bind(ctx: OpContext): OpKernel {
    const [a, b] = ctx.args;
    const { out, backend: be, B } = ctx;
    const M = a.shape.length === 2 ? a.shape[0] : 1;
    const K = a.shape.length === 2 ? a.shape[1] : a.shape[0];
    const N = b.shape.length === 2 ? b.shape[1] : 1;
    const Kb = b.shape[0];
    if (a.shape.length < 1 || a.shape.length > 2 || b.shape.length < 1 || b.shape.length > 2 || K !== Kb)
      throw new Error(`matmul: bad shapes [${a.shape}] @ [${b.shape}]`);
    const gemm = be.gemm.bind(be);
    const mode: 'single' | 'foldA' | 'foldB' | 'loop' = !a.batched
      ? !b.batched
        ? 'single'
        : N === 1
          ? 'foldB'
          : 'loop'
      : !b.batched
        ? 'foldA'
        : 'loop';
    const sa = stride(a);
    const sb = stride(b);
    const so = stride(out);
    const nb = nIter(ctx);
    let forward: () => void;
    switch (mode) {
      case 'single':
        forward = () => gemm(false, false, M, N, K, a.v, 0, b.v, 0, out.v, 0, false);
        break;
      case 'foldA':
        forward = () => gemm(false, false, B * M, N, K, a.v, 0, b.v, 0, out.v, 0, false);
        break;
      case 'foldB':
        forward = () => gemm(false, true, B, M, K, b.v, 0, a.v, 0, out.v, 0, false);
        break;
      case 'loop':
        forward = () => {
          for (let n = 0; n < nb; n++) gemm(false, false, M, N, K, a.v, n * sa, b.v, n * sb, out.v, n * so, false);
        };
        break;
    }
    let backward: (() => void) | null = null;
    const ga = a.g;
    const gb = b.g;
    const go = out.g;
    if (go && (ga || gb)) {
      switch (mode) {
        case 'single':
          backward = () => {
            if (ga) gemm(false, true, M, K, N, go, 0, b.v, 0, ga, 0, true);
            if (gb) gemm(true, false, K, N, M, a.v, 0, go, 0, gb, 0, true);
          };
          break;
        case 'foldA':
          backward = () => {
            if (ga) gemm(false, true, B * M, K, N, go, 0, b.v, 0, ga, 0, true);
            if (gb) gemm(true, false, K, N, B * M, a.v, 0, go, 0, gb, 0, true);
          };
          break;
        case 'foldB':
          // O[B, M] = X[B, K] · Aᵀ:  ∂X = ∂O · A,  ∂A = ∂Oᵀ · X
          backward = () => {
            if (gb) gemm(false, false, B, K, M, go, 0, a.v, 0, gb, 0, true);
            if (ga) gemm(true, false, M, K, B, go, 0, b.v, 0, ga, 0, true);
          };
          break;
        case 'loop':
          backward = () => {
            for (let n = 0; n < nb; n++) {
              if (ga) gemm(false, true, M, K, N, go, n * so, b.v, n * sb, ga, n * sa, true);
              if (gb) gemm(true, false, K, N, M, a.v, n * sa, go, n * so, gb, n * sb, true);
            }
          };
          break;
      }
    }
    // One element of an unbatched operand changed: recompute the row (of A) or column (of B)
    // of every example's product it feeds, summing over k in the order the gemm kernels do.
    const perturbed = (arg: number, index: number) => {
      const A = a.v;
      const Bv = b.v;
      const O = out.v;
      // per-example strides in the M×K / K×N / M×N views
      const oa = a.batched ? M * K : 0;
      const ob = b.batched ? K * N : 0;
      const oo = out.batched ? M * N : 0;
      if (arg === 0) {
        const i = Math.floor(index / K);
        for (let n = 0; n < nb; n++)
          for (let j = 0; j < N; j++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += A[n * oa + i * K + k] * Bv[n * ob + k * N + j];
            O[n * oo + i * N + j] = s;
          }
      } else {
        const j = index % N;
        for (let n = 0; n < nb; n++)
          for (let i = 0; i < M; i++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += A[n * oa + i * K + k] * Bv[n * ob + k * N + j];
            O[n * oo + i * N + j] = s;
          }
      }
    };
    return { forward, backward, perturbed };
  },
};

export const transpose: OpDef = {
  bind(ctx) {
    const [a] = ctx.args;
    const { out } = ctx;
    if (a.shape.length !== 2) throw new Error(`transpose: expected a matrix, got [${a.shape}]`);
    const [m, n] = a.shape;
    const nb = nIter(ctx);
    const sa = stride(a);
    const so = stride(out);
    const forward = () => {
      const A = a.v;
      const O = out.v;
      for (let e = 0; e < nb; e++) {
        const oa = e * sa;
        const oo = e * so;
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) O[oo + j * m + i] = A[oa + i * n + j];
      }
    };
    const backward =
      out.g && a.g
        ? () => {
            const G = out.g!;
            const GA = a.g!;
            for (let e = 0; e < nb; e++) {
              const oa = e * sa;
              const oo = e * so;
              for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) GA[oa + i * n + j] += G[oo + j * m + i];
            }
          }
        : null;
    return { forward, backward };
  },
};

export const outer: OpDef = {
  bind(ctx) {
    const [u, v] = ctx.args;
    const { out } = ctx;
    const m = u.size;
    const n = v.size;
    const nb = nIter(ctx);
    const su = stride(u);
    const sv = stride(v);
    const so = stride(out);
    const forward = () => {
      const U = u.v;
      const V = v.v;
      const O = out.v;
      for (let e = 0; e < nb; e++) {
        const ou = e * su;
        const ov = e * sv;
        const oo = e * so;
        for (let i = 0; i < m; i++) {
          const ui = U[ou + i];
          const r = oo + i * n;
          for (let j = 0; j < n; j++) O[r + j] = ui * V[ov + j];
        }
      }
    };
    let backward: (() => void) | null = null;
    if (out.g && (u.g || v.g)) {
      backward = () => {
        const G = out.g!;
        const U = u.v;
        const V = v.v;
        const GU = u.g;
        const GV = v.g;
        for (let e = 0; e < nb; e++) {
          const ou = e * su;
          const ov = e * sv;
          const oo = e * so;
          for (let i = 0; i < m; i++) {
            const r = oo + i * n;
            if (GU) {
              let s = 0;
              for (let j = 0; j < n; j++) s += G[r + j] * V[ov + j];
              GU[ou + i] += s;
            }
            if (GV) {
              const ui = U[ou + i];
              for (let j = 0; j < n; j++) GV[ov + j] += G[r + j] * ui;
            }
          }
        }
      };
    }
    return { forward, backward };
  },
};

export const dot: OpDef = {
  bind(ctx) {
    const [u, v] = ctx.args;
    const { out } = ctx;
    const n = u.size;
    if (v.size !== n) throw new Error(`dot: sizes ${u.size} and ${v.size} differ`);
    const nb = nIter(ctx);
    const su = stride(u);
    const sv = stride(v);
    const so = stride(out);
    const forward = () => {
      const U = u.v;
      const V = v.v;
      for (let e = 0; e < nb; e++) {
        let s = 0;
        const ou = e * su;
        const ov = e * sv;
        for (let i = 0; i < n; i++) s += U[ou + i] * V[ov + i];
        out.v[e * so] = s;
      }
    };
    let backward: (() => void) | null = null;
    if (out.g && (u.g || v.g)) {
      backward = () => {
        const U = u.v;
        const V = v.v;
        const GU = u.g;
        const GV = v.g;
        for (let e = 0; e < nb; e++) {
          const g = out.g![e * so];
          const ou = e * su;
          const ov = e * sv;
          if (GU) for (let i = 0; i < n; i++) GU[ou + i] += g * V[ov + i];
          if (GV) for (let i = 0; i < n; i++) GV[ov + i] += g * U[ou + i];
        }
      };
    }
    return { forward, backward };
  },
};
