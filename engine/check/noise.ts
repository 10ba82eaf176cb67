/**
 * How precisely can a central difference resolve a gradient of this model?
 *
 * A float64 evaluation of the loss L carries a rounding error δ. To first order every rounded
 * operation contributes ε_mach · |its result| · |∂L/∂result|, and a reduction over K terms
 * (matmul, dot, sum, a loss over K elements, a softmax row) up to K times that. So
 *
 *   δ ≈ ε_mach · (|L| + Σ_nodes w_node · Σ_i |v_i · ∂L/∂v_i|),  w = reduction length (else 1),
 *
 * computed from one forward and one backward pass. A central difference with step eps then has
 * an error of about δ / eps. The checker uses the floor
 *
 *   floor = κ · δ / (eps · tolerance),   κ = 4,
 *
 * in |analytic − numeric| / max(|analytic|, |numeric|, floor): rounding alone can then never
 * exceed the tolerance, while any mistake larger than the resolution κ·δ/eps is caught.
 */
import type { CompiledModel } from '../exec/program';
import { nodeEntry } from '../ops/index';

export const EPS_MACH = 2.220446049250313e-16;
export const NOISE_SAFETY = 4;

/** How many terms one output of a node sums (the catalog's `reduction`; 1 for most ops). */
function reductionLength(p: CompiledModel, id: number): number {
  const n = p.nodes[id];
  return nodeEntry(n).reduction?.(n.args.map((a) => p.slot(a))) ?? 1;
}

/**
 * δ, the rounding error of one evaluation of the loss, estimated after a forward and a backward
 * pass of a program compiled with grads: 'all'.
 */
export function lossRoundoff(p: CompiledModel): number {
  const B = p.batchSize;
  let s = Math.abs(p.loss());
  for (const id of p.forwardOrder) {
    if (!p.lossAncestor[id]) continue;
    const g = p.grad(id);
    if (!g) continue;
    const v = p.value(id);
    const n = p.slot(id).size * (p.batched[id] ? B : 1);
    let t = 0;
    for (let i = 0; i < n; i++) t += Math.abs(v[i] * g[i]);
    s += Math.sqrt(reductionLength(p, id)) * t;
  }
  // the params themselves (perturbed values are rounded too)
  for (const [name, v] of Object.entries(p.params)) {
    const g = p.grads[name];
    let t = 0;
    for (let i = 0; i < v.length; i++) t += Math.abs(v[i] * g[i]);
    s += t;
  }
  return EPS_MACH * s;
}

/** The floor of the relative error for a central difference of step eps. */
export function numericFloor(roundoff: number, eps: number, tolerance: number): number {
  return (NOISE_SAFETY * roundoff) / (eps * tolerance);
}
