/**
 * The named graph of a model, read from its IR alone (no numbers): which named tensors exist
 * (inputs, targets, params, named values, the loss), which op connects them (`W1 → z1` by `@`),
 * each statement's expression printed back from the IR, the elementwise activation at the top
 * of a statement (the lecture's σ, whose σ′(z) amplifies the backward pass), every `W @ a`
 * (∂C/∂W[i,j] = a[j] × δ[i]), and the order of the forward and backward steps.
 *
 * The trace (./trace.ts) fills this skeleton with one example's numbers.
 */
import type { IRModel, IRNode, Range, Shape } from '../ir';

export type TraceKind = 'input' | 'target' | 'param' | 'value' | 'loss';

export interface GraphName {
  name: string;
  kind: TraceKind;
  /** The IR node holding its value. */
  node: number;
  shape: Shape;
  /** The name span (a `dense` param: the `dense(...)` call). */
  range: Range;
  /** The whole statement (values and the loss), else null. */
  stmtRange: Range | null;
  /** For `dense` params: the value they belong to. */
  dense?: { value: string; role: 'W' | 'b' };
}

export interface GraphEdge {
  from: string;
  to: string;
  /** The op reading `from` in `to`'s statement: '@', '+', 'sigmoid', 'swish', '=' (an alias), … */
  op: string;
  /** The IR node of that op (for '=': the node of `to`). */
  opNode: number;
}

/** An elementwise activation a = σ(z) at the top of a statement. */
export interface GraphActivation {
  /** 'sigmoid', 'tanh', 'relu', 'leaky_relu', a user function's name, … */
  fn: string;
  /** The IR node of σ(z) (the statement's node). */
  node: number;
  /** The IR node of z. */
  z: number;
  /** z's name, when z is a named tensor; else null (e.g. `tanh(W1 @ x + b1)`). */
  zName: string | null;
  zText: string;
  /** leaky_relu's slope for z < 0. */
  alpha?: number;
}

/** A use of a param as the matrix of a product: `W @ a` (or `a @ W`). */
export interface GraphWeightUse {
  param: string;
  /** The statement it is used in. */
  statement: string;
  /** 'left': W @ a with W [m, n] and a [n]: ∂C/∂W[i,j] = a[j] × δ[i]. 'right': a @ W, W [n, k]: ∂C/∂W[j,k] = a[j] × δ[k]. */
  side: 'left' | 'right';
  /** The matmul node. */
  matmul: number;
  /** The other operand: the layer's input a. */
  input: { node: number; name: string | null; text: string };
  /**
   * δ: the highest node whose gradient equals the matmul's (the product and any `+` above it
   * of the same shape: `W1 @ x + b1`). Its name when it is the statement itself (`z1`).
   */
  delta: { node: number; name: string | null; text: string };
}

export interface GraphStatement {
  name: string;
  kind: 'value' | 'loss';
  node: number;
  range: Range;
  stmtRange: Range;
  /** `W1 @ x + b1`. */
  text: string;
  /** The statement's top op, printed ('+', 'sigmoid', '=' for an alias, …). */
  op: string;
  activation: GraphActivation | null;
}

export interface GraphStep {
  phase: 'forward' | 'backward';
  /** The statement this step runs: forward, it computes its value; backward, it sends ∂C/∂statement back to its operands. */
  statement: string;
  /** Names whose value (forward) or complete gradient (backward) becomes known at this step. */
  reveals: string[];
  /** Indices into `edges` the step runs along (the edges into the statement). */
  edges: number[];
}

export interface ModelGraph {
  names: GraphName[];
  statements: GraphStatement[];
  edges: GraphEdge[];
  weightUses: GraphWeightUse[];
  steps: GraphStep[];
  /** Owner name of an IR node, if the node is a named tensor. */
  nameOfNode: ReadonlyMap<number, string>;
  /** Prints an IR node as an expression of the language, names for named tensors. */
  print(node: number): string;
}

const BIN: Record<string, { sym: string; prec: number }> = {
  add: { sym: '+', prec: 1 },
  sub: { sym: '-', prec: 1 },
  mul: { sym: '*', prec: 2 },
  div: { sym: '/', prec: 2 },
  matmul: { sym: '@', prec: 2 },
};

/** The op of an IR node as the language writes it. */
export function opSymbol(n: IRNode): string {
  if (BIN[n.op]) return BIN[n.op].sym;
  switch (n.op) {
    case 'neg':
      return '-';
    case 'pow':
      return '^';
    case 'unary':
    case 'call':
      return n.fn ?? n.op;
    default:
      return n.op;
  }
}

function fmtConst(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

const ACTIVATION_UNARY = new Set(['sigmoid', 'tanh', 'relu', 'softplus', 'exp', 'log', 'sqrt', 'abs', 'square']);

/** The named graph of a lowered model. */
export function modelGraph(model: IRModel): ModelGraph {
  const byId = new Map<number, IRNode>();
  for (const n of model.nodes) byId.set(n.id, n);
  const node = (id: number) => {
    const n = byId.get(id);
    if (!n) throw new Error(`model ${model.name} has no node ${id}`);
    return n;
  };

  // ---- names -----------------------------------------------------------------------------------
  const names: GraphName[] = [];
  const nameOfNode = new Map<number, string>();
  const leafNode = (op: 'input' | 'target' | 'param', name: string) =>
    model.nodes.find((n) => n.op === op && n.name === name)?.id;
  for (const d of model.inputs) {
    const id = leafNode('input', d.name);
    if (id === undefined) continue;
    names.push({ name: d.name, kind: 'input', node: id, shape: d.shape.slice(), range: d.range, stmtRange: null });
    nameOfNode.set(id, d.name);
  }
  for (const d of model.targets) {
    const id = leafNode('target', d.name);
    if (id === undefined) continue;
    names.push({ name: d.name, kind: 'target', node: id, shape: d.shape.slice(), range: d.range, stmtRange: null });
    nameOfNode.set(id, d.name);
  }
  for (const p of model.params) {
    const id = leafNode('param', p.name);
    if (id === undefined) continue;
    names.push({
      name: p.name,
      kind: 'param',
      node: id,
      shape: p.shape.slice(),
      range: p.range,
      stmtRange: null,
      ...(p.dense ? { dense: { ...p.dense } } : {}),
    });
    nameOfNode.set(id, p.name);
  }
  const stmts = [...model.values.map((v) => ({ v, kind: 'value' as const })), { v: model.loss, kind: 'loss' as const }].sort(
    (a, b) => a.v.stmtRange.start.line - b.v.stmtRange.start.line || a.v.stmtRange.start.character - b.v.stmtRange.start.character,
  );
  // a statement owns its node unless an earlier name does (an alias `y = z2`)
  const aliasOf = new Map<string, string>();
  for (const { v, kind } of stmts) {
    names.push({ name: v.name, kind, node: v.node, shape: node(v.node).shape.slice(), range: v.range, stmtRange: v.stmtRange });
    const owner = nameOfNode.get(v.node);
    if (owner !== undefined) aliasOf.set(v.name, owner);
    else nameOfNode.set(v.node, v.name);
  }

  // ---- printing ---------------------------------------------------------------------------------
  const print = (id: number, self?: string): string => {
    const n = node(id);
    const owner = nameOfNode.get(id);
    if (owner !== undefined && owner !== self) return owner;
    const sub = (a: number, prec: number, right = false) => {
      const s = print(a);
      const an = node(a);
      const named = nameOfNode.has(a) || an.op === 'const';
      const p = BIN[an.op]?.prec ?? (an.op === 'neg' ? 3 : 4);
      return !named && (p < prec || (right && p === prec)) ? `(${s})` : s;
    };
    if (BIN[n.op]) {
      const { sym, prec } = BIN[n.op];
      return `${sub(n.args[0], prec)} ${sym} ${sub(n.args[1], prec, true)}`;
    }
    switch (n.op) {
      case 'const':
        return fmtConst(n.value ?? NaN);
      case 'neg':
        return `-${sub(n.args[0], 3)}`;
      case 'pow':
        return `${sub(n.args[0], 5)}^${fmtConst(n.p ?? NaN)}`;
      case 'unary':
      case 'call':
        return `${n.fn}(${n.args.map((a) => print(a)).join(', ')})`;
      case 'leaky_relu':
        return `leaky_relu(${print(n.args[0])}, ${fmtConst(n.alpha ?? NaN)})`;
      case 'gradRef':
        return `grad ${n.name}`;
      case 'input':
      case 'target':
      case 'param':
        return n.name ?? '?';
      default:
        return `${n.op}(${n.args.map((a) => print(a)).join(', ')})`;
    }
  };

  // ---- edges, statements, activations, weight uses ---------------------------------------------
  const edges: GraphEdge[] = [];
  const edgeKeys = new Set<string>();
  const addEdge = (e: GraphEdge) => {
    const k = `${e.from}\u0000${e.to}\u0000${e.op}`;
    if (edgeKeys.has(k)) return;
    edgeKeys.add(k);
    edges.push(e);
  };
  const statements: GraphStatement[] = [];
  const weightUses: GraphWeightUse[] = [];
  for (const { v, kind } of stmts) {
    const alias = aliasOf.get(v.name);
    if (alias !== undefined) {
      addEdge({ from: alias, to: v.name, op: '=', opNode: v.node });
      statements.push({ name: v.name, kind, node: v.node, range: v.range, stmtRange: v.stmtRange, text: alias, op: '=', activation: null });
      continue;
    }
    // walk the statement's own (unnamed) nodes; parents for the δ of weight uses
    const parent = new Map<number, number>();
    const visit = (id: number) => {
      const n = node(id);
      n.args.forEach((a, k) => {
        const owner = nameOfNode.get(a);
        if (owner !== undefined) {
          addEdge({ from: owner, to: v.name, op: opSymbol(n), opNode: id });
          if (n.op === 'matmul' && node(a).op === 'param') {
            const other = n.args[1 - k];
            weightUses.push(weightUse(owner, v.name, k === 0 ? 'left' : 'right', id, other));
          }
        } else if (node(a).op !== 'const') {
          if (!parent.has(a)) parent.set(a, id);
          visit(a);
        }
      });
    };
    const weightUse = (param: string, statement: string, side: 'left' | 'right', matmul: number, other: number): GraphWeightUse => {
      let top = matmul;
      for (let up = parent.get(top); up !== undefined; up = parent.get(top)) {
        const u = node(up);
        if (u.op !== 'add' || u.shape.join() !== node(top).shape.join()) break;
        top = up;
      }
      return {
        param,
        statement,
        side,
        matmul,
        input: { node: other, name: nameOfNode.get(other) ?? null, text: print(other) },
        delta: { node: top, name: top === v.node ? v.name : null, text: top === v.node ? v.name : print(top) },
      };
    };
    visit(v.node);
    const root = node(v.node);
    let activation: GraphActivation | null = null;
    const z = root.args[0];
    if (
      root.args.length === 1 &&
      ((root.op === 'unary' && ACTIVATION_UNARY.has(root.fn ?? '')) || root.op === 'leaky_relu' || root.op === 'call') &&
      root.shape.join() === node(z).shape.join()
    ) {
      activation = {
        fn: root.op === 'leaky_relu' ? 'leaky_relu' : (root.fn ?? root.op),
        node: v.node,
        z,
        zName: nameOfNode.get(z) ?? null,
        zText: print(z),
        ...(root.op === 'leaky_relu' ? { alpha: root.alpha } : {}),
      };
    }
    statements.push({
      name: v.name,
      kind,
      node: v.node,
      range: v.range,
      stmtRange: v.stmtRange,
      text: print(v.node, v.name),
      op: opSymbol(root),
      activation,
    });
  }

  // ---- steps ------------------------------------------------------------------------------------
  const edgesInto = (s: string) => edges.flatMap((e, i) => (e.to === s ? [i] : []));
  const steps: GraphStep[] = [];
  for (const s of statements) steps.push({ phase: 'forward', statement: s.name, reveals: [s.name], edges: edgesInto(s.name) });
  // Backward: statements in reverse order, the loss first. A name's gradient is complete once
  // every statement reading it has sent its share back; the loss's (∂C/∂C = 1) at the start.
  const order = [...statements].reverse();
  const lossFirst = [...order.filter((s) => s.kind === 'loss'), ...order.filter((s) => s.kind !== 'loss')];
  const backIndex = new Map(lossFirst.map((s, i) => [s.name, i]));
  const revealAt = new Map<string, number>();
  for (const n of names) {
    if (n.kind === 'target') continue;
    const readers = edges.filter((e) => e.from === n.name).map((e) => backIndex.get(e.to) ?? 0);
    revealAt.set(n.name, n.kind === 'loss' || readers.length === 0 ? 0 : Math.max(...readers));
  }
  lossFirst.forEach((s, i) => {
    const reveals = names.filter((n) => revealAt.get(n.name) === i).map((n) => n.name);
    steps.push({ phase: 'backward', statement: s.name, reveals, edges: edgesInto(s.name) });
  });

  return { names, statements, edges, weightUses, steps, nameOfNode, print: (id) => print(id) };
}
