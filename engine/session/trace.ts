/**
 * The trace of one example (§10): the forward and backward pass of a model on ONE example in
 * float64 — every named tensor's value and its per-example gradient ∂Cⁿ/∂X, the model's
 * hand-written `backward` lines with the user's and the true values, the edges between the
 * named tensors with their op — plus what a picture or a debugger needs beyond that: each
 * statement's expression, the order of the forward and backward steps, the local derivative
 * σ′(z) of each elementwise activation (the lecture's "amplifier"), and for every `W @ a` the
 * forward part a and backward part δ of ∂C/∂W[i,j] = a[j] × δ[i].
 *
 * One engine function serves `nnlens trace`/`nnlens graph`, the `nnlens/trace` LSP request (the
 * Backprop view) and the debugger:
 *
 *   const r = traceModel({ program, model: 'Digits', example: 3, ctx });
 *   if (!r.ok) → r.error.message (unknown model, example out of range)
 *   r.value: Trace — Float64Arrays, for code that computes with the numbers (a debugger)
 *   traceJson(r.value)  — exactly the `nnlens trace --json` object of §10
 *   traceData(r.value)  — everything, as plain JSON data (what the LSP request and the renderer use)
 *
 * Example N (1-based) is row N of the data set the model's `check` block (else its `train`
 * block) uses, in the data set's own order; without one, the N-th example of the seeded random
 * check data (§7), of which there are as many as the check uses (`examples`, default 4).
 * Gradients are those backpropagation computes (a user function's `grad` line is used where it
 * has one); the backward lines' true values use the true derivatives, as the gradient check does.
 */
import {
  DEFAULT_CHECK_OPTIONS,
  type DataSpec,
  type IRModel,
  type IRProgram,
  type Range,
  type Shape,
} from '../ir';
import { err, ok, type Result } from '../result';
import { compileModel, type Batch, type CompiledModel } from '../exec/program';
import { findNonFiniteForward } from '../exec/nonfinite';
import { compileFunctions, type FunctionLib } from '../functions';
import { initParams } from '../init';
import { jsBackend } from '../kernels/js';
import { loadData } from '../data/index';
import type { DataContext, Dataset } from '../data/types';
import { randomBatch } from '../check/batch';
import { checkModel, type BackwardLineDetail } from '../check/check';
import { evalScalarDerivative, isScalarEntry, nodeAttr, tryNodeEntry } from '../ops/index';
import { checkDataOf, trainSeedOf, type DataLoader } from './pipeline';
import { modelGraph, type GraphStatement, type ModelGraph, type TraceKind } from './trace-graph';

export type { TraceKind } from './trace-graph';

// ---------------------------------------------------------------------------------------------
// Types

/** A tensor's numbers, row-major (one example: no batch axis). */
export type Tensor = Float64Array;

export interface TraceNode {
  name: string;
  kind: TraceKind;
  /** 1-based line of its declaration (a `dense` param: of the `dense(...)` call). */
  line: number;
  /** 0-based: the name span (a `dense` param: the `dense(...)` call). */
  range: Range;
  /** 0-based: the whole statement of a value or the loss, else null. */
  stmtRange: Range | null;
  shape: Shape;
  /** The IR node holding its value. */
  node: number;
  value: Tensor;
  /** ∂Cⁿ/∂X for this example (the loss: 1); null for a target. */
  grad: Tensor | null;
  /** Values and the loss: the defining expression, printed from the IR (`W1 @ x + b1`). */
  expr: string | null;
  /** Values and the loss: the index of the forward step that computes it; else -1. */
  step: number;
  /** The index of the backward step after which its gradient is complete; -1 for a target. */
  gradStep: number;
  dense?: { value: string; role: 'W' | 'b' };
}

export interface TraceEdge {
  from: string;
  to: string;
  /** '@', '+', '-', '*', '/', '^', 'sigmoid', 'dense'… as written; '=' for `y = z`. */
  op: string;
  /** The IR node of the op. */
  opNode: number;
}

/** An elementwise activation a = σ(z): its σ′(z) amplifies δ on its way back, δz = σ′(z) ⊙ δa. */
export interface TraceAmplifier {
  /** The statement a. */
  statement: string;
  /** 'sigmoid', 'tanh', 'relu', 'leaky_relu', or a user function's name. */
  fn: string;
  /** z: its name when it is a named tensor (`a1 = sigmoid(z1)`), else null; its text. */
  zName: string | null;
  zText: string;
  z: Tensor;
  /** σ′(z), elementwise. */
  slope: Tensor;
  /** δ = ∂Cⁿ/∂z. */
  zGrad: Tensor;
}

/** A named tensor or an unnamed subexpression, with its numbers. */
export interface TraceRef {
  name: string | null;
  text: string;
  shape: Shape;
  value: Tensor;
}

/**
 * A param used as the matrix of a product in a statement. With side 'left' (W @ a, W [m, n]),
 * ∂Cⁿ/∂W[i,j] = input[j] × delta[i]; with side 'right' (a @ W, W [n, k]), ∂Cⁿ/∂W[j,k] = input[j] × delta[k].
 * `delta.value` holds δ = ∂Cⁿ/∂(the product), `input.value` the layer's input a.
 */
export interface TraceWeightUse {
  param: string;
  statement: string;
  side: 'left' | 'right';
  input: TraceRef;
  delta: TraceRef;
}

export interface TraceStep {
  index: number;
  phase: 'forward' | 'backward';
  /** The statement the step runs: forward, it computes its value; backward, it sends ∂C/∂statement to its operands. */
  statement: string;
  /** 1-based line of the statement. */
  line: number;
  /** 0-based range of the whole statement. */
  range: Range;
  /** `forward: z1 = W1 @ x + b1` or `backward: grad z1 → W1, x, b1`. */
  label: string;
  /** Names whose value (forward) or complete gradient (backward) becomes known at this step. */
  reveals: string[];
  /** Indices into `edges` the step runs along (the edges into the statement; backward, reversed). */
  edges: number[];
}

export interface TraceLine {
  /** 1-based line. */
  line: number;
  /** 0-based range of the whole `grad X = …` line. */
  range: Range;
  /** X of `grad X`. */
  name: string;
  targetKind: 'param' | 'value';
  shape: Shape;
  /** The line as written (with the user's own earlier lines for `grad Y`); null when it cannot be evaluated. */
  user: Tensor | null;
  /** The true ∂Cⁿ/∂X. */
  truth: Tensor;
  /** The line given the true gradients of the `grad Y` it uses. */
  givenTrue: Tensor;
  /** The gradient check's verdict on this example: wrong on its own, wrong only through `dependsOn`, or right. */
  status: BackwardLineDetail['status'];
  /** The wrong lines (their X) a dependent line uses. */
  dependsOn: string[];
  /** The `grad Y` it uses. */
  uses: string[];
  message: string;
}

export interface Trace {
  model: string;
  /** 1-based. */
  example: number;
  /** How many examples there are to pick from, and where they come from (a data set's name, or 'random'). */
  examples: { count: number; source: string };
  /** 'the initial weights', or what the caller called them ('the weights trained by run 3'). */
  weights: string;
  /** Cⁿ, this example's loss. */
  loss: number;
  /** Inputs, targets, params (declaration order), then the values and the loss (statement order). */
  nodes: TraceNode[];
  edges: TraceEdge[];
  /** The forward steps (one per statement, in order), then the backward steps (the loss first). */
  steps: TraceStep[];
  amplifiers: TraceAmplifier[];
  weightUses: TraceWeightUse[];
  /** The `backward` block's lines, in order (empty without one). */
  backward: TraceLine[];
  /** Where NaN or Infinity first appears in the forward pass, if it does. */
  nonFinite: string | null;
}

// ---- the §10 JSON -------------------------------------------------------------------------

/** Nested arrays of numbers (null for NaN/±Infinity, as JSON writes them). */
export type NestedNumbers = number | null | NestedNumbers[];

export interface TraceJson {
  model: string;
  example: number;
  loss: number | null;
  nodes: { name: string; kind: TraceKind; line: number; shape: number[]; value: NestedNumbers; grad: NestedNumbers | null }[];
  edges: { from: string; to: string; op: string }[];
  backward: { line: number; name: string; user: NestedNumbers | null; true: NestedNumbers }[];
}

// ---- everything, as plain data --------------------------------------------------------------

/** Numbers as JSON carries them: null for NaN/±Infinity. */
export type DataNumbers = (number | null)[];

export interface TraceDataNode extends Omit<TraceNode, 'value' | 'grad'> {
  value: DataNumbers;
  grad: DataNumbers | null;
}
export interface TraceDataAmplifier extends Omit<TraceAmplifier, 'z' | 'slope' | 'zGrad'> {
  z: DataNumbers;
  slope: DataNumbers;
  zGrad: DataNumbers;
}
export interface TraceDataRef extends Omit<TraceRef, 'value'> {
  value: DataNumbers;
}
export interface TraceDataWeightUse extends Omit<TraceWeightUse, 'input' | 'delta'> {
  input: TraceDataRef;
  delta: TraceDataRef;
}
export interface TraceDataLine extends Omit<TraceLine, 'user' | 'truth' | 'givenTrue'> {
  user: DataNumbers | null;
  truth: DataNumbers;
  givenTrue: DataNumbers;
}
export interface TraceData extends Omit<Trace, 'loss' | 'nodes' | 'amplifiers' | 'weightUses' | 'backward'> {
  loss: number | null;
  nodes: TraceDataNode[];
  amplifiers: TraceDataAmplifier[];
  weightUses: TraceDataWeightUse[];
  backward: TraceDataLine[];
}

export interface TraceError {
  kind: 'no-model' | 'bad-example' | 'bad-weights';
  message: string;
}

export interface TraceRequest {
  program: IRProgram;
  model: string;
  /** 1-based; default 1. */
  example?: number;
  /** Where data files are resolved. */
  ctx: DataContext;
  /** Weights by param name (flat, row-major); default: the initial weights from the train seed. */
  params?: Readonly<Record<string, ArrayLike<number>>>;
  /** How to call `params` (default 'the initial weights', or 'the given weights'). */
  weightsLabel?: string;
  /** How data sets are loaded (default: the engine's loadData). */
  load?: (spec: DataSpec, ctx: DataContext) => Dataset;
}

// ---------------------------------------------------------------------------------------------
// Examples

export interface ExampleChoice {
  /** The example's inputs and targets (a batch of one). */
  batch: Batch;
  count: number;
  source: string;
}

/**
 * How many examples a model can be traced on, and where they come from — without loading more
 * than needed (the picker of the Backprop view).
 */
export function exampleSource(
  program: IRProgram,
  model: IRModel,
  ctx: DataContext,
  load: DataLoader = loadData,
): { count: number; source: string; data: Dataset | null } {
  const found = checkDataOf(program, model, ctx, load);
  if (found && found.ds.n > 0) return { count: found.ds.n, source: found.name, data: found.ds };
  const examples = program.checks.find((c) => c.model === model.name)?.options.examples ?? DEFAULT_CHECK_OPTIONS.examples;
  return { count: examples, source: 'random', data: null };
}

/** Example N (1-based) of a model, as described at the top. */
export function exampleOf(
  program: IRProgram,
  model: IRModel,
  ctx: DataContext,
  n: number,
  load?: DataLoader,
): Result<ExampleChoice, TraceError> {
  const src = exampleSource(program, model, ctx, load);
  if (!Number.isInteger(n) || n < 1 || n > src.count) {
    const what = src.source === 'random' ? `the random check data of ${model.name} has ${src.count}` : `data ${src.source} has ${src.count}`;
    return err({ kind: 'bad-example', message: `example ${n} is out of range: ${what} example${src.count === 1 ? '' : 's'} (1–${src.count})` });
  }
  if (src.data) {
    const ds = src.data;
    const xs = ds.x.length / ds.n;
    const ys = ds.y.length / ds.n;
    const data: Batch['data'] = { [model.inputs[0].name]: ds.x.slice((n - 1) * xs, n * xs) };
    if (model.targets.length === 1) data[model.targets[0].name] = ds.y.slice((n - 1) * ys, n * ys);
    return ok({ batch: { n: 1, data }, count: src.count, source: src.source });
  }
  const all = randomBatch(program, model, n, trainSeedOf(program, model.name));
  const data: Batch['data'] = {};
  for (const d of [...model.inputs, ...model.targets]) {
    const size = d.shape.reduce((a, b) => a * b, 1);
    data[d.name] = (all.data[d.name] as Float64Array).slice((n - 1) * size, n * size);
  }
  return ok({ batch: { n: 1, data }, count: src.count, source: 'random' });
}

// ---------------------------------------------------------------------------------------------
// The trace

/** The trace of one example of a model (see the top of this file). */
export function traceModel(req: TraceRequest): Result<Trace, TraceError> {
  const model = req.program.models.find((m) => m.name === req.model);
  if (!model) {
    const names = req.program.models.map((m) => m.name);
    return err({ kind: 'no-model', message: `no model ${req.model}${names.length ? ` (models: ${names.join(', ')})` : ''}` });
  }
  const n = req.example ?? 1;
  const ex = exampleOf(req.program, model, req.ctx, n, req.load);
  if (!ex.ok) return ex;
  const params = req.params ?? initParams(model, trainSeedOf(req.program, model.name));
  for (const p of model.params) {
    const v = params[p.name];
    if (!v) return err({ kind: 'bad-weights', message: `the weights have no value for param ${p.name}` });
    if (v.length !== p.size) return err({ kind: 'bad-weights', message: `the weights of ${p.name} have ${v.length} numbers for shape [${p.shape.join(', ')}]` });
  }
  const trace = traceOn(req.program, model, params, ex.value.batch, {
    example: n,
    examples: { count: ex.value.count, source: ex.value.source },
    weights: req.weightsLabel ?? (req.params ? 'the given weights' : 'the initial weights'),
  });
  return ok(trace);
}

/**
 * The trace of a model on a given example (a batch of one) at given weights — for callers that
 * choose the example themselves.
 */
export function traceOn(
  program: IRProgram,
  model: IRModel,
  params: Readonly<Record<string, ArrayLike<number>>>,
  example: Batch,
  about: { example: number; examples: { count: number; source: string }; weights: string },
): Trace {
  if (example.n !== 1) throw new Error(`a trace runs on one example, not ${example.n}`);
  const graph = modelGraph(model);
  const lib = compileFunctions(program.functions);
  const p = compileModel(program, model, jsBackend('f64'), { grads: 'all', fuse: true, functionGrads: 'user', lib });
  p.setBatch(example);
  p.setParams(params);
  const loss = p.forward();
  const nf = findNonFiniteForward(p);
  p.backward();

  const copy = (id: number): Tensor => Float64Array.from(p.slot(id).v.subarray(0, p.slot(id).size));
  const gradOf = (id: number): Tensor => {
    const g = p.grad(id);
    const size = p.slot(id).size;
    return g ? Float64Array.from(g.subarray(0, size)) : new Float64Array(size); // not on the loss's path: 0
  };

  const stmtIndex = new Map(graph.statements.map((s, i) => [s.name, i]));
  const F = graph.statements.length;
  const gradStep = new Map<string, number>();
  graph.steps.forEach((s, i) => {
    if (s.phase === 'backward') for (const r of s.reveals) gradStep.set(r, i);
  });
  const nodes: TraceNode[] = graph.names.map((g) => {
    const st = stmtIndex.get(g.name);
    return {
      name: g.name,
      kind: g.kind,
      line: g.range.start.line + 1,
      range: g.range,
      stmtRange: g.stmtRange,
      shape: g.shape.slice(),
      node: g.node,
      value: copy(g.node),
      grad: g.kind === 'target' ? null : gradOf(g.node),
      expr: st === undefined ? null : graph.statements[st].text,
      step: st ?? -1,
      gradStep: g.kind === 'target' ? -1 : (gradStep.get(g.name) ?? F),
      ...(g.dense ? { dense: { ...g.dense } } : {}),
    };
  });
  const byName = new Map(nodes.map((x) => [x.name, x]));

  const steps: TraceStep[] = graph.steps.map((s, i) => {
    const st = graph.statements[stmtIndex.get(s.statement)!];
    const operands = [...new Set(s.edges.map((e) => graph.edges[e].from))].filter((f) => byName.get(f)?.kind !== 'target');
    return {
      index: i,
      phase: s.phase,
      statement: s.statement,
      line: st.stmtRange.start.line + 1,
      range: st.stmtRange,
      label:
        s.phase === 'forward'
          ? `forward: ${st.name} = ${st.text}`
          : `backward: grad ${st.name}${operands.length ? ` → ${operands.join(', ')}` : ''}`,
      reveals: s.reveals.slice(),
      edges: s.edges.slice(),
    };
  });

  const amplifiers = graph.statements.flatMap((s) => (s.activation ? [amplifier(p, lib, s)] : []));
  const ref = (r: { node: number; name: string | null; text: string }): TraceRef => ({
    name: r.name,
    text: r.text,
    shape: p.slot(r.node).shape.slice(),
    value: copy(r.node),
  });
  const weightUses: TraceWeightUse[] = graph.weightUses.map((w) => ({
    param: w.param,
    statement: w.statement,
    side: w.side,
    input: ref(w.input),
    delta: { ...ref(w.delta), value: gradOf(w.delta.node) },
  }));

  return {
    model: model.name,
    example: about.example,
    examples: { ...about.examples },
    weights: about.weights,
    loss,
    nodes,
    edges: graph.edges.map((e) => ({ from: e.from, to: e.to, op: e.op, opNode: e.opNode })),
    steps,
    amplifiers,
    weightUses,
    backward: backwardLines(program, model, p, params, example, graph),
    nonFinite: nf ? nf.message : null,
  };
}

/** σ′(z) of an activation statement, from its forward values. */
function amplifier(p: CompiledModel, lib: FunctionLib, s: GraphStatement): TraceAmplifier {
  const act = s.activation!;
  const size = p.slot(act.z).size;
  const z = Float64Array.from(p.slot(act.z).v.subarray(0, size));
  const a = p.slot(act.node).v;
  const slope = new Float64Array(size);
  const root = p.nodes[act.node];
  const entry = root.op === 'call' ? undefined : tryNodeEntry(root);
  if (entry && isScalarEntry(entry)) {
    const attr = nodeAttr(root, entry);
    for (let i = 0; i < size; i++) slope[i] = evalScalarDerivative(entry, 0, [z[i]], a[i], attr);
  } else {
    const d = lib.get(root.fn!).dUsed[0];
    for (let i = 0; i < size; i++) slope[i] = d(z[i]);
  }
  const g = p.grad(act.z);
  return {
    statement: s.name,
    fn: act.fn,
    zName: act.zName,
    zText: act.zText,
    z,
    slope,
    zGrad: g ? Float64Array.from(g.subarray(0, size)) : new Float64Array(size),
  };
}

/** The backward block's lines on this example: as written, the truth, and the check's verdict. */
function backwardLines(
  program: IRProgram,
  model: IRModel,
  p: CompiledModel,
  params: Readonly<Record<string, ArrayLike<number>>>,
  example: Batch,
  graph: ModelGraph,
): TraceLine[] {
  const lines = model.backward ?? [];
  if (!lines.length) return [];
  // the truths use the true derivatives of user functions, as the gradient check does
  const truthOf = new Map<string, Tensor>();
  p.setFunctionGrads('true');
  p.forward();
  p.backward();
  const nodeOf = (name: string) => graph.names.find((g) => g.name === name)?.node;
  for (const l of lines) {
    for (const x of [l.target, ...l.uses]) {
      const id = nodeOf(x);
      if (id === undefined || truthOf.has(x)) continue;
      const g = p.grad(id);
      const size = p.slot(id).size;
      truthOf.set(x, g ? Float64Array.from(g.subarray(0, size)) : new Float64Array(size));
    }
  }
  p.evalBackwardBlock((name, out) => {
    const t = truthOf.get(name);
    if (t) out.set(t);
    else out.fill(NaN);
  });
  const lineValue = (id: number) => Float64Array.from(p.slot(id).v.subarray(0, p.slot(id).size));
  const givenTrue = lines.map((l) => lineValue(l.node));
  let written: Tensor[] | null;
  try {
    p.evalBackwardBlock('written');
    written = lines.map((l) => lineValue(l.node));
  } catch {
    written = null;
  }
  p.setFunctionGrads('user');
  p.forward();
  p.backward();

  const check = checkModel(program, model, params, example, {
    mode: 'fast',
    tolerance: program.checks.find((c) => c.model === model.name)?.options.tolerance ?? DEFAULT_CHECK_OPTIONS.tolerance,
    seed: trainSeedOf(program, model.name),
  });
  return lines.map((l, i) => {
    const d = check.backwardLines[i];
    const truth = truthOf.get(l.target) ?? new Float64Array(givenTrue[i].length).fill(NaN);
    return {
      line: l.range.start.line + 1,
      range: l.range,
      name: l.target,
      targetKind: l.targetKind,
      shape: p.slot(nodeOf(l.target) ?? l.node).shape.slice(),
      user: written ? written[i] : null,
      truth,
      givenTrue: givenTrue[i],
      status: d?.status ?? 'unchecked',
      dependsOn: d?.dependsOn.slice() ?? [],
      uses: l.uses.slice(),
      message: (d?.message ?? '').replace(' (example 0)', ''),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Output forms

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

function nested(data: ArrayLike<number>, shape: Shape, offset = 0): NestedNumbers {
  if (shape.length === 0) return num(data[offset]);
  const [n, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  const out: NestedNumbers[] = [];
  for (let i = 0; i < n; i++) out.push(nested(data, rest, offset + i * stride));
  return out;
}

/** Exactly the `nnlens trace --json` object of §10. */
export function traceJson(t: Trace): TraceJson {
  return {
    model: t.model,
    example: t.example,
    loss: num(t.loss),
    nodes: t.nodes.map((x) => ({
      name: x.name,
      kind: x.kind,
      line: x.line,
      shape: x.shape.slice(),
      value: nested(x.value, x.shape),
      grad: x.grad ? nested(x.grad, x.shape) : null,
    })),
    edges: t.edges.map((e) => ({ from: e.from, to: e.to, op: e.op })),
    backward: t.backward.map((l) => ({
      line: l.line,
      name: l.name,
      user: l.user ? nested(l.user, l.shape) : null,
      true: nested(l.truth, l.shape),
    })),
  };
}

const data = (a: ArrayLike<number>): DataNumbers => Array.from(a, num);

/** The whole trace as plain JSON data (tensors flat, row-major; null for NaN/±Infinity). */
export function traceData(t: Trace): TraceData {
  return {
    ...t,
    loss: num(t.loss),
    nodes: t.nodes.map((x) => ({ ...x, value: data(x.value), grad: x.grad ? data(x.grad) : null })),
    amplifiers: t.amplifiers.map((a) => ({ ...a, z: data(a.z), slope: data(a.slope), zGrad: data(a.zGrad) })),
    weightUses: t.weightUses.map((w) => ({
      ...w,
      input: { ...w.input, value: data(w.input.value) },
      delta: { ...w.delta, value: data(w.delta.value) },
    })),
    backward: t.backward.map((l) => ({
      ...l,
      user: l.user ? data(l.user) : null,
      truth: data(l.truth),
      givenTrue: data(l.givenTrue),
    })),
  };
}
