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
import { err, ok } from '../result';
import { fmtShape } from '../shape';
import type { OpContext, OpDef, OpKernel } from '../exec/types';
import { nIter, stride } from '../exec/types';
import type { NodeOp } from './names';
import type { ShapeResult } from './rules';
import { PY_PREC, type NodeEntry, type PyEmit, type PyExpr, type PyNode } from './types';
import { onnxDot, onnxRank, squeeze, unsqueeze } from './onnx';

const MATMUL_RULES = '[m,n] @ [n] -> [m], [m,n] @ [n,k] -> [m,k], [n] @ [n,k] -> [k], [n] @ [n] -> []';

/** `A @ B`, the four forms of §3. */
function matmulRule(a: readonly number[], b: readonly number[]): ShapeResult {
  const head = `matmul ${fmtShape(a)} @ ${fmtShape(b)}`;
  if (a.length === 0 || b.length === 0) {
    return err(
      `${head}: a scalar cannot be matrix-multiplied (use * to scale); ` +
        `rule: both operands are vectors or matrices (${MATMUL_RULES})`,
    );
  }
  if (a.length > 2 || b.length > 2) {
    const which = a.length > 2 ? `left operand has rank ${a.length}` : `right operand has rank ${b.length}`;
    return err(`${head}: ${which}; rule: both operands are vectors or matrices (${MATMUL_RULES})`);
  }
  const inner = (x: number, y: number, form: string, out: number[]): ShapeResult =>
    x === y ? ok(out) : err(`${head}: inner dimensions differ (${x} vs ${y}); rule ${form}`);
  if (a.length === 2 && b.length === 1) return inner(a[1], b[0], '[m,n] @ [n] -> [m]', [a[0]]);
  if (a.length === 2 && b.length === 2) return inner(a[1], b[0], '[m,n] @ [n,k] -> [m,k]', [a[0], b[1]]);
  if (a.length === 1 && b.length === 2) return inner(a[0], b[0], '[n] @ [n,k] -> [k]', [b[1]]);
  return inner(a[0], b[0], '[n] @ [n] -> []', []);
}

const matmulKernel: OpDef = {
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
    // the gradient of an unbatched operand is one product over the whole operand (not in 'loop'
    // mode): when this is its first write of the pass, it stores (the pass then skips zeroing it —
    // W2's 784×128 weight gradient is 400 KB a step)
    const first = ctx.firstGradWrite;
    const storeA = !!(ga && first?.[0] && mode !== 'loop' && !a.batched && a !== b);
    const storeB = !!(gb && first?.[1] && mode !== 'loop' && !b.batched && a !== b);
    const addA = !storeA;
    const addB = !storeB;
    if (go && (ga || gb)) {
      switch (mode) {
        case 'single':
          backward = () => {
            if (ga) gemm(false, true, M, K, N, go, 0, b.v, 0, ga, 0, addA);
            if (gb) gemm(true, false, K, N, M, a.v, 0, go, 0, gb, 0, addB);
          };
          break;
        case 'foldA':
          backward = () => {
            if (ga) gemm(false, true, B * M, K, N, go, 0, b.v, 0, ga, 0, addA);
            if (gb) gemm(true, false, K, N, B * M, a.v, 0, go, 0, gb, 0, addB);
          };
          break;
        case 'foldB':
          // O[B, M] = X[B, K] · Aᵀ:  ∂X = ∂O · A,  ∂A = ∂Oᵀ · X
          backward = () => {
            if (gb) gemm(false, false, B, K, M, go, 0, a.v, 0, gb, 0, addB);
            if (ga) gemm(true, false, M, K, B, go, 0, b.v, 0, ga, 0, addA);
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
    return { forward, backward, perturbed, storesGrad: backward && (storeA || storeB) ? [storeA, storeB] : undefined };
  },
};

const transposeKernel: OpDef = {
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

const outerKernel: OpDef = {
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

const dotKernel: OpDef = {
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

export const LINALG = {
  matmul: {
    name: 'matmul',
    syntax: { kind: 'infix', symbol: '@', verb: 'matmul' },
    params: [{ name: 'A' }, { name: 'B' }],
    doc: 'Matrix product (matrix-vector, matrix-matrix, vector-matrix, or the inner product of two vectors).',
    rule: '[m,n] @ [n] → [m] · [m,n] @ [n,k] → [m,k] · [n] @ [n,k] → [k] · [n] @ [n] → []',
    shape: ([a, b]) => matmulRule(a, b),
    kernel: matmulKernel,
    reduction: ([a]) => a.shape[a.shape.length - 1],
    pytorch(py, n) {
      const [ex, ey] = [n.arg(0), n.arg(1)];
      const [bx, by] = [n.batched(0), n.batched(1)];
      const [rx, ry] = [n.rank(0), n.rank(1)];
      const mm = (l: PyExpr, r: PyExpr) => py.binary('@', l, r);
      const es = (spec: string) => py.einsum(spec, ex, ey);
      if (rx === 2 && ry === 1) {
        if (bx && by) return es('bij,bj->bi');
        if (!bx && by) return mm(ey, py.transposed(ex)); // the lecture's W @ x, batch-first: x @ W.T
        return mm(ex, ey);
      }
      if (rx === 2) return mm(ex, ey); // [m,n] @ [n,k]: torch.matmul broadcasts the batch axis
      if (ry === 2) return bx && by ? es('bi,bij->bj') : mm(ex, ey);
      if (bx && by) return es('bi,bi->b');
      return !bx && by ? mm(ey, ex) : mm(ex, ey); // [n] @ [n]: a dot product, either order
    },
    onnx(b, [x, y], n) {
      const [a, c] = n.args;
      const [rx, ry] = [a.shape.length, c.shape.length];
      if (rx === 2 && ry === 1) {
        // the lecture's W @ x with a batch of x: x @ Wᵀ, one Gemm (the exporter folds a bias into it)
        if (!a.batched && c.batched) return b.node('Gemm', [y, x], { transB: 1 });
        // a matrix (batched or not) @ a column: [.., m, n] @ [.., n, 1], then drop the 1 (see onnxDot)
        const column = unsqueeze(b, y, [c.batched ? 2 : 1]);
        return squeeze(b, b.node('MatMul', [x, column]), [a.batched || c.batched ? 2 : 1]);
      }
      if (rx === 2) return b.node('MatMul', [x, y]); // [m,n] @ [n,k]: MatMul broadcasts the batch axis
      if (ry === 2) {
        // [n] @ [n,k]: a batch of rows is a matrix already; otherwise a row [.., 1, n], then drop the 1
        if (a.batched && !c.batched) return b.node('MatMul', [x, y]);
        return squeeze(b, b.node('MatMul', [unsqueeze(b, x, [a.batched ? 1 : 0]), y]), [a.batched || c.batched ? 1 : 0]);
      }
      return onnxDot(b, [x, y], [a, c]);
    },
  },
  transpose: {
    name: 'transpose',
    syntax: { kind: 'call' },
    params: [{ name: 'A' }],
    doc: 'Matrix transpose.',
    rule: '[m,n] -> [n,m]',
    shape: ([a]) =>
      a.length === 2 ? ok([a[1], a[0]]) : err(`transpose ${fmtShape(a)}: needs a matrix, got rank ${a.length}; rule [m,n] -> [n,m]`),
    kernel: transposeKernel,
    pytorch: (py, n) => (n.batchedOut ? py.atom(`${py.wrap(n.arg(0), PY_PREC.atom)}.transpose(1, 2)`) : py.transposed(n.arg(0))),
    onnx: (b, [x], n) => b.node('Transpose', [x], { perm: n.batchedOut ? [0, 2, 1] : [1, 0] }),
  },
  outer: {
    name: 'outer',
    syntax: { kind: 'call' },
    params: [{ name: 'u' }, { name: 'v' }],
    doc: 'Outer product u vᵀ.',
    rule: '[m], [n] -> [m,n]',
    shape([u, v]) {
      if (u.length === 1 && v.length === 1) return ok([u[0], v[0]]);
      const bad = u.length !== 1 ? `first argument has rank ${u.length}` : `second argument has rank ${v.length}`;
      return err(`outer(${fmtShape(u)}, ${fmtShape(v)}): needs two vectors, ${bad}; rule [m], [n] -> [m,n]`);
    },
    kernel: outerKernel,
    pytorch: (py, n) => vectorPair(py, n, 'outer'),
    // u as a column times v as a row
    onnx: (b, [u, v], n) => b.node('Mul', [unsqueeze(b, u, [onnxRank(n.args[0])]), n.args[1].batched ? unsqueeze(b, v, [1]) : v]),
  },
  dot: {
    name: 'dot',
    syntax: { kind: 'call' },
    params: [{ name: 'u' }, { name: 'v' }],
    doc: 'Inner product Σ u·v.',
    rule: '[n], [n] -> []',
    shape([u, v]) {
      const head = `dot(${fmtShape(u)}, ${fmtShape(v)})`;
      if (u.length !== 1 || v.length !== 1) {
        const bad = u.length !== 1 ? `first argument has rank ${u.length}` : `second argument has rank ${v.length}`;
        return err(`${head}: needs two vectors, ${bad}; rule [n], [n] -> []`);
      }
      if (u[0] !== v[0]) return err(`${head}: sizes differ (${u[0]} vs ${v[0]}); rule [n], [n] -> []`);
      return ok([]);
    },
    kernel: dotKernel,
    reduction: ([u]) => u.size,
    pytorch: (py, n) => vectorPair(py, n, 'dot'),
    onnx: (b, inputs, n) => onnxDot(b, inputs, n.args),
  },
} satisfies Record<Extract<NodeOp, 'matmul' | 'transpose' | 'outer' | 'dot'>, NodeEntry>;

/** outer / dot of two vectors, each with or without a batch axis. */
function vectorPair(py: PyEmit, n: PyNode, op: 'outer' | 'dot'): PyExpr {
  const [bx, by] = [n.batched(0), n.batched(1)];
  if (!bx && !by) return py.atom(`torch.${op}(${n.arg(0).code}, ${n.arg(1).code})`);
  const spec = `${bx ? 'b' : ''}i,${by ? 'b' : ''}${op === 'outer' ? 'j' : 'i'}->b${op === 'outer' ? 'ij' : ''}`;
  return py.einsum(spec, n.arg(0), n.arg(1));
}
