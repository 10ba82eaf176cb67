/**
 * The patterns behind a wrong backward line that only the model can tell (./compare.ts tests
 * them): students' first mistakes in backpropagation, named on the line.
 *
 * - **missing σ′**: `grad z1 = grad a1` where `a1 = σ(z1)` — the line is the truth divided by
 *   σ′(z1) (sigmoid, tanh, relu, or a one-argument user function on the path): "missing
 *   σ′(z1) = a1 ⊙ (1 − a1)".
 * - **W where Wᵀ is needed**: `grad a1 = W2 @ grad z2` where `z2 = W2 @ a1` — the line is the
 *   truth computed with the transposed weight (which only the numbers show when W2 is square):
 *   "uses W2 where transpose(W2) is needed".
 * - **what a factor stands for**: the mean over a loss's outputs (missing or extra), the number
 *   of examples, the train block's batch size.
 */
import type { IRModel, IRProgram } from '../ir';
import type { CompiledModel } from '../exec/program';
import { perExampleValues } from '../exec/examples';
import type { FunctionLib } from '../functions';
import { relError, type FactorMeaning, type PatternCandidate } from './compare';

/** How messages name a node: its value's, param's or data's name, else undefined. */
function nameOf(p: CompiledModel, model: IRModel, id: number): string | undefined {
  const v = model.values.find((x) => x.node === id) ?? (model.loss.node === id ? model.loss : undefined);
  if (v) return v.name;
  const n = p.nodes[id];
  if (n.op === 'param' || n.op === 'input' || n.op === 'target') return n.name;
  return undefined;
}

/** The forward nodes that read node `id`, with the operand position. */
function consumers(p: CompiledModel, id: number): { node: number; arg: number }[] {
  const out: { node: number; arg: number }[] = [];
  for (const k of p.forwardOrder) p.nodes[k].args.forEach((a, j) => a === id && out.push({ node: k, arg: j }));
  return out;
}

/** The matmul nodes `W @ X` or `X @ W` with W a square param and X (node `id`) a vector. */
export function squareMatmulsOf(p: CompiledModel, id: number): { node: number; weight: number; weightLeft: boolean }[] {
  const out: { node: number; weight: number; weightLeft: boolean }[] = [];
  if (p.slot(id).shape.length !== 1) return out;
  for (const c of consumers(p, id)) {
    const n = p.nodes[c.node];
    if (n.op !== 'matmul') continue;
    const w = n.args[1 - c.arg];
    const s = p.slot(w).shape;
    if (p.nodes[w].op !== 'param' || s.length !== 2 || s[0] !== s[1] || n.args[0] === n.args[1]) continue;
    out.push({ node: c.node, weight: w, weightLeft: c.arg === 1 });
  }
  return out;
}

/**
 * Candidates for the line of value X (node `target`), per example ([B, …shape] arrays).
 * `matmulGrads` holds ∂Cⁿ/∂(W @ X) per example for the nodes of `squareMatmulsOf`.
 */
export function valueLineCandidates(
  p: CompiledModel,
  model: IRModel,
  lib: FunctionLib,
  target: number,
  matmulGrads: ReadonlyMap<number, Float64Array>,
): PatternCandidate[] {
  const out: PatternCandidate[] = [];
  const slot = p.slot(target);
  if (!slot.batched) return out;
  const size = slot.size;
  const B = p.batchSize;
  const zName = nameOf(p, model, target) ?? 'z';
  const uses = consumers(p, target);

  // missing σ′: the only use of X is an activation a = σ(X), and line ⊙ σ′(X) = truth
  if (uses.length === 1) {
    const n = p.nodes[uses[0].node];
    let deriv: Float64Array | null = null;
    let text = '';
    const a = nameOf(p, model, n.id);
    if (n.op === 'unary' && (n.fn === 'sigmoid' || n.fn === 'tanh')) {
      const y = perExampleValues(p, n.id);
      deriv = y.map((v) => (n.fn === 'sigmoid' ? v * (1 - v) : 1 - v * v));
      const an = a ?? `${n.fn}(${zName})`;
      text = n.fn === 'sigmoid' ? `missing σ′(${zName}) = ${an} ⊙ (1 − ${an})` : `missing tanh′(${zName}) = 1 − ${an}²`;
    } else if (n.op === 'unary' && n.fn === 'relu') {
      deriv = perExampleValues(p, target).map((z) => (z > 0 ? 1 : 0));
      text = `missing relu′(${zName}) = (${zName} > 0)`;
    } else if (n.op === 'call' && n.args.length === 1 && n.fn && lib.has(n.fn)) {
      const d = lib.get(n.fn).dTrue[0];
      deriv = perExampleValues(p, target).map((z) => d(z));
      text = `missing ${n.fn}′(${zName}), the derivative of ${a ?? `${n.fn}(${zName})`}`;
    }
    if (deriv && deriv.length === B * size) {
      const s = deriv;
      out.push({
        text,
        matches: (u, t, floor, tol) => {
          if (u.length !== s.length) return false;
          for (let i = 0; i < u.length; i++) if (!(relError(u[i] * s[i], t[i], floor) <= tol)) return false;
          return true;
        },
      });
    }
  }

  // W where Wᵀ is needed: line = truth + (W − Wᵀ) g for `W @ X` (+ (Wᵀ − W) g for `X @ W`)
  for (const m of squareMatmulsOf(p, target)) {
    const g = matmulGrads.get(m.node);
    if (!g) continue;
    const W = p.value(m.weight);
    const k = p.slot(m.weight).shape[0];
    if (k !== size) continue;
    const wName = nameOf(p, model, m.weight) ?? 'W';
    const sign = m.weightLeft ? 1 : -1;
    out.push({
      text: m.weightLeft ? `uses ${wName} where transpose(${wName}) is needed` : `uses transpose(${wName}) where ${wName} is needed`,
      matches: (u, t, floor, tol) => {
        if (u.length !== B * size) return false;
        for (let e = 0; e < B; e++)
          for (let i = 0; i < k; i++) {
            let d = 0;
            for (let j = 0; j < k; j++) d += (W[i * k + j] - W[j * k + i]) * g[e * k + j];
            if (!(relError(u[e * k + i], t[e * k + i] + sign * d, floor) <= tol)) return false;
          }
        return true;
      },
    });
  }
  return out;
}

/** What a wrong factor of a backward line may stand for, in this model and program. */
export function factorMeanings(p: CompiledModel, model: IRModel, program: IRProgram): FactorMeaning[] {
  const out: FactorMeaning[] = [];
  const label = (id: number) => {
    const n = p.nodes[id];
    const args = n.args.map((a) => nameOf(p, model, a) ?? '…').join(', ');
    return `${n.op}(${args})`;
  };
  for (const id of p.forwardOrder) {
    if (!p.lossAncestor[id]) continue;
    const n = p.nodes[id];
    const k = n.args.length ? p.slot(n.args[0]).size : 0;
    if (k < 2) continue;
    if (n.op === 'mse' || n.op === 'binary_cross_entropy' || n.op === 'mean') {
      out.push({
        value: k,
        times: `the line is missing the mean over the ${k} outputs of ${label(id)}, which divides by ${k}`,
      });
    } else if (n.op === 'cross_entropy' || n.op === 'sum') {
      out.push({
        value: k,
        over: `an extra mean over the ${k} outputs: ${label(id)} sums over them, it does not divide by ${k}`,
      });
    }
  }
  const per = 'a backward line is the gradient of one example’s loss Cⁿ';
  const B = p.batchSize;
  out.push({
    value: B,
    times: `${B} is the number of examples: ${per}, not a sum over the examples`,
    over: `${B} is the number of examples: ${per}; the mean over the examples is taken for you`,
  });
  const batch = program.trains.find((t) => t.model === model.name)?.options.batch;
  if (batch !== undefined && batch !== B) {
    out.push({
      value: batch,
      times: `${batch} is the batch size of the train block: ${per}, not a sum over the batch`,
      over: `${batch} is the batch size of the train block: ${per}; the mean over the batch is taken for you`,
    });
  }
  return out;
}
