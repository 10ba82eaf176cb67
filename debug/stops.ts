/**
 * Where the debugger stops when it steps through one example (§11), from the trace of that
 * example (engine/session/trace.ts), and what each stop knows:
 *
 *   entry                       on the model's line: the inputs, targets and params
 *   forward: z1 = W1 @ x + b1   one stop per statement, in source order, after it ran: its value is known
 *   backward: grad z1 → …       then one stop per statement in reverse order, after its gradient was
 *                               sent back to its operands (without a backward block: the chain rule);
 *   backward: grad z1           or, with a `backward` block, one stop per line of it, in order, after it ran.
 *
 * A stop's scope: Values (inputs, targets and the named values computed so far), Params (all of
 * them), Gradients (`grad X` known so far: complete ∂Cⁿ/∂X from backpropagation, or the user's
 * lines as written). The run is deterministic, so stepping back is moving back in this list.
 */
import type { Trace, TraceNode } from '../engine/session/trace';
import type { EnvTensor, EvalEnv } from './evaluator';

export interface ScopeTensor {
  /** As the Variables view names it: `z1`, `grad z1`, `true grad z1`. */
  name: string;
  /** What `evaluate` takes to get it again (none for what is not an expression). */
  evaluateName?: string;
  shape: number[];
  value: Float64Array;
  /** A short remark shown with it (a wrong backward line). */
  note?: string;
}

export interface Stop {
  index: number;
  phase: 'entry' | 'forward' | 'backward';
  /** 1-based line and column, and the end of the statement's range. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** The frame's name: `forward: z1 = W1 @ x + b1`, `backward: grad z1 → W1, x, b1`. */
  label: string;
  /** Names whose values are known (inputs, targets, params, values so far). */
  values: ReadonlySet<string>;
  /** X of every `grad X` known. */
  grads: ReadonlySet<string>;
  /** The statement (value or loss) or the backward line's X this stop is about. */
  subject: string | null;
  /** Something to tell at this stop (a backward line that is wrong). */
  description?: string;
}

export interface StopPlan {
  stops: Stop[];
  /** 'auto': the chain rule; 'block': the model's backward block. */
  backward: 'auto' | 'block';
  /** The model's first and last lines (1-based): breakpoints outside are not this model's. */
  firstLine: number;
  lastLine: number;
}

const isLeafValue = (n: TraceNode) => n.kind === 'input' || n.kind === 'target';

/** The stops of a trace. `modelRange`: the model declaration's lines (1-based, inclusive). */
export function planStops(t: Trace, modelRange: { line: number; endLine: number; nameColumn: number }): StopPlan {
  const stops: Stop[] = [];
  const params = t.nodes.filter((n) => n.kind === 'param').map((n) => n.name);
  const leaves = t.nodes.filter(isLeafValue).map((n) => n.name);
  let values = new Set<string>([...leaves, ...params]);
  const empty = new Set<string>();
  stops.push({
    index: 0,
    phase: 'entry',
    line: modelRange.line,
    column: modelRange.nameColumn,
    endLine: modelRange.line,
    endColumn: modelRange.nameColumn,
    label: `entry: ${t.model}, example ${t.example} of ${t.examples.count} (${t.examples.source === 'random' ? 'random check data' : `data ${t.examples.source}`}), ${t.weights}`,
    values,
    grads: empty,
    subject: null,
  });
  const at = (s: { line: number; range: { start: { character: number }; end: { line: number; character: number } } }) => ({
    line: s.line,
    column: s.range.start.character + 1,
    endLine: s.range.end.line + 1,
    endColumn: s.range.end.character + 1,
  });
  for (const s of t.steps) {
    if (s.phase !== 'forward') continue;
    values = new Set([...values, ...s.reveals]);
    stops.push({ index: stops.length, phase: 'forward', ...at(s), label: s.label, values, grads: empty, subject: s.statement });
  }
  const block = t.backward.length > 0;
  let grads = new Set<string>();
  if (block) {
    for (const l of t.backward) {
      grads = new Set([...grads, l.name]);
      const wrong = l.status === 'wrong' || l.status === 'dependent';
      stops.push({
        index: stops.length,
        phase: 'backward',
        ...at({ line: l.line, range: l.range }),
        label: `backward: grad ${l.name}`,
        values,
        grads,
        subject: l.name,
        ...(wrong ? { description: `grad ${l.name}: ${l.message}` } : {}),
      });
    }
  } else {
    for (const s of t.steps) {
      if (s.phase !== 'backward') continue;
      grads = new Set([...grads, ...s.reveals]);
      stops.push({ index: stops.length, phase: 'backward', ...at(s), label: s.label, values, grads, subject: s.statement });
    }
  }
  return { stops, backward: block ? 'block' : 'auto', firstLine: modelRange.line, lastLine: modelRange.endLine };
}

/** The scope of a stop, in the three scopes the Variables view shows. */
export function scopeAt(t: Trace, stop: Stop): { values: ScopeTensor[]; params: ScopeTensor[]; grads: ScopeTensor[] } {
  const tensor = (n: TraceNode): ScopeTensor => ({ name: n.name, evaluateName: n.name, shape: n.shape, value: n.value });
  const values = t.nodes.filter((n) => n.kind !== 'param' && stop.values.has(n.name)).map(tensor);
  const params = t.nodes.filter((n) => n.kind === 'param').map(tensor);
  const grads: ScopeTensor[] = [];
  if (t.backward.length) {
    for (const l of t.backward) {
      if (!stop.grads.has(l.name)) continue;
      const wrong = l.status === 'wrong' || l.status === 'dependent';
      if (l.user) {
        grads.push({
          name: `grad ${l.name}`,
          evaluateName: `grad ${l.name}`,
          shape: l.shape,
          value: l.user,
          ...(wrong ? { note: l.status === 'wrong' ? 'wrong' : `wrong through ${l.dependsOn.map((d) => `grad ${d}`).join(', ')}` } : {}),
        });
      }
      if (wrong || !l.user) grads.push({ name: `true grad ${l.name}`, shape: l.shape, value: l.truth, note: 'true ∂Cⁿ/∂' + l.name });
    }
  } else {
    for (const n of t.nodes) {
      if (n.grad && stop.grads.has(n.name)) grads.push({ name: `grad ${n.name}`, evaluateName: `grad ${n.name}`, shape: n.shape, value: n.grad });
    }
  }
  return { values, params, grads };
}

/** What expressions are evaluated on for a trace: its example, its weights, its gradients. */
export function traceEnv(t: Trace): EvalEnv {
  const named = new Map<string, EnvTensor>();
  const params: Record<string, Float64Array> = {};
  const data: Record<string, Float64Array> = {};
  for (const n of t.nodes) {
    named.set(n.name, { shape: n.shape, value: n.value, batched: n.kind !== 'param' });
    if (n.kind === 'param') params[n.name] = n.value;
    if (n.kind === 'input' || n.kind === 'target') data[n.name] = n.value;
  }
  const grads = new Map<string, EnvTensor>();
  if (t.backward.length) {
    for (const l of t.backward) if (l.user) grads.set(l.name, { shape: l.shape, value: l.user, batched: true });
  } else {
    for (const n of t.nodes) if (n.grad) grads.set(n.name, { shape: n.shape, value: n.grad, batched: true });
  }
  const block = t.backward.length > 0;
  return {
    n: 1,
    params,
    data,
    named,
    grads,
    noGrad: (x) => {
      const node = t.nodes.find((n) => n.name === x);
      if (!node) return undefined;
      if (node.kind === 'target') return `grad ${x}: ${x} is a target; it has no gradient`;
      if (block) return `grad ${x}: the backward block has no line for ${x} (the Gradients are its lines)`;
      return undefined;
    },
    precision: 'f64',
  };
}
