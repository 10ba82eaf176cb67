/**
 * The numbers hovers show, computed in the engine worker from one float64 evaluation at the
 * check's weights and batch: per param ∂C/∂param (statistics, backprop against a central
 * difference for its largest element, and that element worked out as forward part × backward
 * part), per named value its values and δ = ∂C/∂value, and the checker's verdict on each
 * hand-written `grad` line.
 */
import {
  formatIndex,
  relError,
  sizeOf,
  type CheckReport,
  type Evaluation,
  type IRModel,
  type IRNode,
} from '../index';
import type {
  FunctionLineNumbers,
  LineNumbers,
  ModelNumbers,
  ParamNumbers,
  Stats,
  ValueNumbers,
  WorkedElement,
} from './types';

/** Examples whose terms a worked element lists one by one (the mean covers all of them). */
export const WORKED_TERMS = 4;
/**
 * Time (ms) a job may spend on central differences of single elements for hovers; params beyond
 * it (in large models) show the checker's comparison only.
 */
export const ELEMENT_BUDGET_MS = 150;

export function stats(a: ArrayLike<number>): Stats {
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  let abs = 0;
  let nonFinite = 0;
  let finite = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (!Number.isFinite(x)) {
      nonFinite++;
      continue;
    }
    finite++;
    sq += x * x;
    abs += Math.abs(x);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return {
    count: a.length,
    norm: Math.sqrt(sq),
    min: finite ? min : NaN,
    max: finite ? max : NaN,
    meanAbs: finite ? abs / finite : NaN,
    nonFinite,
  };
}

function argmaxAbs(a: ArrayLike<number>): number {
  let best = -1;
  let v = -1;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs(a[i]);
    if (Number.isFinite(x) && x > v) {
      v = x;
      best = i;
    }
  }
  return best;
}

/** The last node id of the forward graph (the backward block's nodes come after it). */
export function forwardEnd(model: IRModel): number {
  let end = model.loss.node;
  for (const v of model.values) end = Math.max(end, v.node);
  return end;
}

/** Forward nodes that read `id`. */
export function consumers(model: IRModel, id: number): IRNode[] {
  const end = forwardEnd(model);
  const out: IRNode[] = [];
  for (const n of model.nodes) if (n.id <= end && n.args.includes(id)) out.push(n);
  return out;
}

function nameOfNode(model: IRModel, id: number): string | null {
  const v = model.values.find((x) => x.node === id);
  if (v) return v.name;
  if (model.loss.node === id) return model.loss.name;
  const n = model.nodes[id];
  if (n && (n.op === 'input' || n.op === 'target' || n.op === 'param') && n.name) return n.name;
  return null;
}

/**
 * The node whose gradient is δ for a matmul/bias at `id`: the named value it is (or, through an
 * `add` whose operands have the same shape, the named value of that sum).
 */
function deltaNode(model: IRModel, id: number): IRNode {
  const self = model.nodes[id];
  if (nameOfNode(model, id)) return self;
  const cs = consumers(model, id);
  if (cs.length === 1 && (cs[0].op === 'add' || cs[0].op === 'sub') && sizeOf(cs[0].shape) === sizeOf(self.shape)) {
    const other = cs[0].args.find((a) => a !== id);
    const ok = cs[0].op === 'add' || cs[0].args[0] === id;
    if (ok && other !== undefined && sizeOf(model.nodes[other].shape) === sizeOf(self.shape)) return cs[0];
  }
  return self;
}

/** Per-example row `e` of a node's value (unbatched values are the same for every example). */
function row(v: Float64Array, size: number, batched: boolean, e: number): Float64Array {
  return batched ? v.subarray(e * size, (e + 1) * size) : v.subarray(0, size);
}

/**
 * δ's name for the worked element: the node's own, or for the unnamed pre-activation of a dense
 * layer `h` (params `h.W`, `h.b`), `h.z` — the layer's z, not `dense(…)` as a whole.
 */
function deltaLabel(model: IRModel, dn: IRNode, param: string): { name: string | null; note?: string } {
  const own = nameOfNode(model, dn.id);
  if (own) return { name: own };
  const dot = param.lastIndexOf('.');
  if (dot > 0) {
    const h = param.slice(0, dot);
    return { name: `${h}.z`, note: `${h}.z = ${h}.W @ … + ${h}.b is the layer's z, before its activation` };
  }
  return { name: null };
}

function workedElement(
  ev: Evaluation,
  model: IRModel,
  name: string,
  paramNode: number,
  flat: number,
  rows?: readonly number[],
): WorkedElement | null {
  const exampleNo = (e: number) => rows?.[e] ?? e + 1;
  const param = model.params.find((p) => p.name === name);
  if (!param) return null;
  const uses = consumers(model, paramNode);
  const B = ev.batchSize;
  const grad = ev.grads[name][flat];
  for (const use of uses) {
    if (use.op === 'matmul' && use.shape.length === 1) {
      const [A, X] = use.args;
      const left = A === paramNode; // W @ a: W [m, n], a [n], out [m]
      const right = X === paramNode && model.nodes[A].shape.length === 1; // a @ W: a [n], W [n, m]
      if (!(left && model.nodes[X].shape.length === 1 && param.shape.length === 2) && !(right && param.shape.length === 2)) continue;
      const inputId = left ? X : A;
      const cols = param.shape[1];
      const [i, j] = left ? [Math.floor(flat / cols), flat % cols] : [flat % cols, Math.floor(flat / cols)];
      // i: output unit, j: input unit
      const inNode = ev.node(inputId);
      const inSize = sizeOf(model.nodes[inputId].shape);
      const inBatched = inNode.value.length > inSize;
      const dn = deltaNode(model, use.id);
      const d = ev.node(dn.id);
      const per = d.perExampleGrad;
      if (!per) continue;
      const outSize = sizeOf(dn.shape);
      const terms: WorkedElement['terms'] = [];
      let sum = 0;
      for (let e = 0; e < B; e++) {
        const a = row(inNode.value, inSize, inBatched, e)[j];
        const dd = per[e * outSize + i];
        sum += a * dd;
        if (e < WORKED_TERMS) terms.push({ example: exampleNo(e), a, d: dd });
      }
      const inputName = nameOfNode(model, inputId);
      const delta = deltaLabel(model, dn, name);
      return {
        kind: 'matmul',
        flat,
        where: formatIndex(name, param.shape, flat),
        input: {
          name: inputName,
          range: model.nodes[inputId].range,
          index: `[${j}]`,
        },
        delta: { ...delta, range: dn.range, index: `[${i}]` },
        terms,
        examples: B,
        term: sum / B,
        grad,
        uses: uses.length,
      };
    }
    if (use.op === 'add') {
      // z = W a + b: ∂C/∂b[i] = mean over n of δⁿ[i]
      if (sizeOf(use.shape) !== param.size) continue;
      const dn = deltaNode(model, use.id);
      const d = ev.node(dn.id);
      const per = d.perExampleGrad;
      if (!per) continue;
      const size = sizeOf(dn.shape);
      const terms: WorkedElement['terms'] = [];
      let sum = 0;
      for (let e = 0; e < B; e++) {
        const dd = per[e * size + flat];
        sum += dd;
        if (e < WORKED_TERMS) terms.push({ example: exampleNo(e), a: null, d: dd });
      }
      return {
        kind: 'bias',
        flat,
        where: formatIndex(name, param.shape, flat),
        input: null,
        delta: { ...deltaLabel(model, dn, name), range: dn.range, index: `[${flat}]` },
        terms,
        examples: B,
        term: sum / B,
        grad,
        uses: uses.length,
      };
    }
  }
  return null;
}

export interface NumbersContext {
  report: CheckReport;
  /** The examples' numbers (rows of the data set), as the check batch says. */
  rows?: readonly number[];
  source: string;
  weights: string;
  eps: number;
}

/** Everything a hover may show about a model, from an evaluation at the check's point. */
export function modelNumbers(ev: Evaluation, model: IRModel, ctx: NumbersContext): ModelNumbers {
  const { report } = ctx;
  const params: Record<string, ParamNumbers> = {};
  const values: Record<string, ValueNumbers> = {};
  const started = Date.now();
  for (const [name, info] of ev.values) {
    if (info.kind === 'param') {
      const g = ev.grads[name] ?? info.grad;
      if (!g) continue;
      const c = report.params[name];
      const flat = argmaxAbs(g);
      let element: ParamNumbers['element'] = null;
      if (flat >= 0 && Date.now() - started < ELEMENT_BUDGET_MS) {
        const numeric = ev.numericGrad(name, flat, ctx.eps);
        element = {
          flat,
          where: formatIndex(name, info.shape, flat),
          analytic: g[flat],
          numeric,
          relError: relError(g[flat], numeric, 1e-300),
        };
      }
      params[name] = {
        name,
        shape: info.shape,
        size: sizeOf(info.shape),
        value: stats(info.value),
        grad: stats(g),
        check: c
          ? { maxRelError: c.maxRelError, status: c.status, worst: c.worst, comparisons: c.comparisons }
          : null,
        element,
        worked: flat >= 0 ? workedElement(ev, model, name, info.node, flat, ctx.rows) : null,
      };
    } else {
      values[name] = {
        name,
        kind: info.kind,
        shape: info.shape,
        batched: info.batched,
        value: stats(info.value),
        grad: info.grad ? stats(info.grad) : null,
        perExample: info.perExampleGrad ? stats(info.perExampleGrad) : null,
      };
    }
  }
  const lines: LineNumbers[] = report.backwardLines.map((l, index) => ({
    index,
    target: l.target,
    status: l.status,
    relError: l.relError,
    relErrorAsWritten: l.relErrorAsWritten,
    worst: l.worst,
    pattern: l.pattern,
    dependsOn: l.dependsOn,
    message: l.message,
  }));
  const functionLines: FunctionLineNumbers[] = report.functionLines.map((f) => ({
    function: f.function,
    arg: f.arg,
    status: f.status,
    relError: f.relError,
    points: f.points,
    skipped: f.skipped,
    worst: f.worst,
    message: f.message,
  }));
  return {
    model: model.name,
    loss: ev.loss,
    examples: ev.batchSize,
    source: ctx.source,
    weights: ctx.weights,
    mode: report.options.mode,
    eps: report.options.eps,
    tolerance: report.options.tolerance,
    params,
    values,
    lines,
    functionLines,
    nonFinite: ev.nonFinite?.message ?? null,
  };
}
