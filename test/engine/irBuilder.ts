/**
 * A small builder of IR programs for engine tests (the language layer lowers real `.nn` files;
 * these tests build the same plain data by hand).
 *
 * Every node, declaration and line gets a distinct range (its own line number), so tests can
 * assert exactly where a finding lands.
 */
import type {
  InitSpec,
  IRBackwardLine,
  IRFunction,
  IRModel,
  IRNode,
  IRParam,
  IRProgram,
  IRTensorDecl,
  Op,
  Range,
  ScalarExpr,
  Shape,
  UnaryFn,
  BinarySymbol,
} from '../../engine/ir';
import { inferShape } from '../../engine/ops/index';
import { sizeOf } from '../../engine/shape';

let lineCounter = 1000;
export function freshRange(): Range {
  const line = lineCounter++;
  return { start: { line, character: 0 }, end: { line, character: 10 } };
}

export type N = number; // a node id

export class ModelBuilder {
  readonly nodes: IRNode[] = [];
  readonly inputs: IRTensorDecl[] = [];
  readonly targets: IRTensorDecl[] = [];
  readonly params: IRParam[] = [];
  readonly values: IRModel['values'] = [];
  backward: IRBackwardLine[] | null = null;
  private lossValue: IRModel['loss'] | null = null;
  private readonly leaves = new Map<string, N>();

  constructor(readonly name = 'M') {}

  private push(op: Op, args: N[], shape: Shape, attrs: Partial<IRNode> = {}): N {
    const id = this.nodes.length;
    const batched =
      op === 'input' || op === 'target' || op === 'gradRef'
        ? true
        : op === 'param' || op === 'const'
          ? false
          : args.some((a) => this.nodes[a].batched);
    this.nodes.push({ id, op, args, shape, batched, range: freshRange(), ...attrs });
    return id;
  }

  input(name: string, shape: Shape): N {
    const range = freshRange();
    this.inputs.push({ name, shape, range });
    const id = this.push('input', [], shape, { name });
    this.nodes[id].range = range;
    this.leaves.set(name, id);
    return id;
  }

  target(name: string, shape: Shape): N {
    const range = freshRange();
    this.targets.push({ name, shape, range });
    const id = this.push('target', [], shape, { name });
    this.nodes[id].range = range;
    this.leaves.set(name, id);
    return id;
  }

  param(name: string, shape: Shape, init: InitSpec = { kind: 'glorot' }): N {
    const range = freshRange();
    this.params.push({ name, shape, range, init, size: sizeOf(shape) });
    const id = this.push('param', [], shape, { name });
    this.nodes[id].range = range;
    this.leaves.set(name, id);
    return id;
  }

  const(value: number): N {
    return this.push('const', [], [], { value });
  }

  op(op: Op, args: N[], attrs: Partial<IRNode> = {}): N {
    const shape = inferShape({ op, fn: attrs.fn }, args.map((a) => this.nodes[a].shape));
    if (!shape.ok) throw new Error(shape.error);
    return this.push(op, args, shape.value, attrs);
  }

  add(a: N, b: N): N {
    return this.op('add', [a, b]);
  }
  sub(a: N, b: N): N {
    return this.op('sub', [a, b]);
  }
  mul(a: N, b: N): N {
    return this.op('mul', [a, b]);
  }
  div(a: N, b: N): N {
    return this.op('div', [a, b]);
  }
  neg(a: N): N {
    return this.op('neg', [a]);
  }
  pow(a: N, p: number): N {
    return this.op('pow', [a], { p });
  }
  unary(fn: UnaryFn, a: N): N {
    return this.op('unary', [a], { fn });
  }
  leaky(a: N, alpha: number): N {
    return this.op('leaky_relu', [a], { alpha });
  }
  matmul(a: N, b: N): N {
    return this.op('matmul', [a, b]);
  }
  call(fn: string, args: N[]): N {
    return this.op('call', args, { fn });
  }
  gradRef(name: string): N {
    const target = this.leaves.get(name) ?? this.values.find((v) => v.name === name)?.node;
    if (target === undefined) throw new Error(`gradRef: unknown ${name}`);
    return this.push('gradRef', [], this.nodes[target].shape, { name });
  }

  /** Names a value: `name = node`. */
  value(name: string, node: N): N {
    this.values.push({ name, node, range: freshRange(), stmtRange: freshRange() });
    return node;
  }

  loss(name: string, node: N): N {
    this.lossValue = { name, node, range: freshRange(), stmtRange: freshRange() };
    return node;
  }

  /** Adds `grad target = node` to the backward block. */
  line(target: string, node: N): IRBackwardLine {
    const isParam = this.params.some((p) => p.name === target);
    const uses: string[] = [];
    const seen = new Set<number>();
    const walk = (k: N) => {
      if (seen.has(k)) return;
      seen.add(k);
      const n = this.nodes[k];
      if (n.op === 'gradRef' && !uses.includes(n.name!)) uses.push(n.name!);
      n.args.forEach(walk);
    };
    walk(node);
    const l: IRBackwardLine = { target, targetKind: isParam ? 'param' : 'value', node, range: freshRange(), uses };
    (this.backward ??= []).push(l);
    return l;
  }

  shape(node: N): Shape {
    return this.nodes[node].shape;
  }

  model(): IRModel {
    if (!this.lossValue) throw new Error('no loss');
    return {
      name: this.name,
      range: freshRange(),
      inputs: this.inputs,
      targets: this.targets,
      params: this.params,
      nodes: this.nodes,
      values: this.values,
      loss: this.lossValue,
      backward: this.backward,
    };
  }
}

export function program(models: IRModel[], functions: IRFunction[] = []): IRProgram {
  return { functions, models, data: [], trains: [], checks: [] };
}

// ---- scalar expressions ----------------------------------------------------------------------

export const S = {
  arg: (index: number): ScalarExpr => ({ k: 'arg', index }),
  num: (value: number): ScalarExpr => ({ k: 'num', value }),
  neg: (x: ScalarExpr): ScalarExpr => ({ k: 'neg', x }),
  un: (fn: UnaryFn, x: ScalarExpr): ScalarExpr => ({ k: 'unary', fn, x }),
  leaky: (x: ScalarExpr, alpha: number): ScalarExpr => ({ k: 'leaky_relu', x, alpha }),
  add: (a: ScalarExpr, b: ScalarExpr): ScalarExpr => ({ k: 'binary', op: '+', a, b }),
  sub: (a: ScalarExpr, b: ScalarExpr): ScalarExpr => ({ k: 'binary', op: '-', a, b }),
  mul: (a: ScalarExpr, b: ScalarExpr): ScalarExpr => ({ k: 'binary', op: '*', a, b }),
  div: (a: ScalarExpr, b: ScalarExpr): ScalarExpr => ({ k: 'binary', op: '/', a, b }),
  bin: (op: BinarySymbol, a: ScalarExpr, b: ScalarExpr): ScalarExpr => ({ k: 'binary', op, a, b }),
  pow: (x: ScalarExpr, p: number): ScalarExpr => ({ k: 'pow', x, p }),
  call: (fn: string, ...args: ScalarExpr[]): ScalarExpr => ({ k: 'call', fn, args }),
};

export function fn(
  name: string,
  params: string[],
  body: ScalarExpr,
  grads: (ScalarExpr | null)[] = params.map(() => null),
): IRFunction {
  return {
    name,
    params,
    body,
    grads: grads.map((g) => (g ? { expr: g, range: freshRange() } : null)),
    range: freshRange(),
  };
}
