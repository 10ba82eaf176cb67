/**
 * The model part of an exported PyTorch script: user functions (custom autograd Functions for
 * `grad` lines), the nn.Module whose forward computes the per-example losses batch-first, and,
 * with a `backward {}` block, `manual_gradients` (the block's formulas, for `gradients: manual`).
 *
 * Every IR op maps to ordinary PyTorch (docs/export.md has the table). Shapes in the IR are per
 * example; a value that depends on an input or target carries a leading batch axis at run time
 * (spec §2), exactly as in the engine, so the code below decides per op how batched and
 * unbatched operands meet (e.g. `x @ W.T` for the lecture's `W @ x`).
 */
import type { IRFunction, IRModel, IRNode, IRProgram, ScalarExpr } from '../../engine/ir';
import { fusedProducer } from '../../engine/exec/program';
import { nodeAttr, nodeEntry, PY_PREC, scalarChildren, scalarOp, type PyEmit, type PyExpr, type PyNode } from '../../engine/ops/index';
import { Names, pyFloat, pyString } from './python';

/** Python operator precedences (higher binds tighter). */
const { atom: ATOM, pow: POW, unary: UNARY, mul: MUL, add: ADD } = PY_PREC;

export type Expr = PyExpr;

export const atom = (code: string): Expr => ({ code, prec: ATOM, scalar: false });

function wrap(e: Expr, min: number): string {
  return e.prec >= min ? e.code : `(${e.code})`;
}

/** A tensor, even when `e` is a Python number (for torch functions that need one). */
function tensor(e: Expr): string {
  return e.scalar ? `torch.tensor(${e.code})` : e.code;
}

function num(v: number): Expr {
  const code = pyFloat(v);
  return { code, prec: code.startsWith('-') ? UNARY : ATOM, scalar: true };
}

const BINARY_PREC: Record<'+' | '-' | '*' | '/' | '@', number> = { '+': ADD, '-': ADD, '*': MUL, '/': MUL, '@': MUL };

function binary(op: '+' | '-' | '*' | '/' | '@', a: Expr, b: Expr): Expr {
  const p = BINARY_PREC[op];
  return { code: `${wrap(a, p)} ${op} ${wrap(b, p + 1)}`, prec: p, scalar: op !== '@' && a.scalar && b.scalar };
}

function power(a: Expr, p: number): Expr {
  // `-0.5` as an exponent needs no parentheses: a ** -0.5
  return { code: `${wrap(a, ATOM)} ** ${pyFloat(p)}`, prec: POW, scalar: a.scalar };
}

function neg(a: Expr): Expr {
  return { code: `-${wrap(a, UNARY)}`, prec: UNARY, scalar: a.scalar };
}

// ---------------------------------------------------------------------------------------------
// User functions

/** What the catalog's PyTorch emitters build with. */
const PY: PyEmit = {
  atom,
  num,
  float: pyFloat,
  str: pyString,
  wrap,
  tensor,
  call: (fn, args, extra = []) => atom(`${fn}(${[...args.map(tensor), ...extra].join(', ')})`),
  binary,
  neg,
  power,
  transposed,
  einsum: (spec, ...args) => atom(`torch.einsum(${pyString(spec)}, ${args.map((a) => a.code).join(', ')})`),
  reduce,
};

/** Python code of a function body or grad line over the function's argument variables. */
function scalarExpr(e: ScalarExpr, args: string[], fnNames: Map<string, string>): Expr {
  switch (e.k) {
    case 'arg':
      return atom(args[e.index]);
    case 'num':
      return num(e.value);
    case 'call':
      return atom(`${fnNames.get(e.fn)!}(${e.args.map((a) => scalarExpr(a, args, fnNames).code).join(', ')})`);
    default: {
      // an op of the catalog, on scalars: no batch axis to align
      const op = scalarOp(e)!;
      const xs = op.operands.map((o) => scalarExpr(o, args, fnNames));
      const n: PyNode = {
        arity: xs.length,
        arg: (j) => xs[j],
        lifted: (j) => xs[j],
        batched: () => false,
        rank: () => 0,
        batchedOut: false,
        rankOut: 0,
        attr: op.attr,
        fn: '',
        logits: undefined,
      };
      return op.entry.pytorch(PY, n);
    }
  }
}

/** Functions reachable from a model (through calls in its graph and in other functions). */
export function functionsUsedBy(program: IRProgram, model: IRModel): IRFunction[] {
  const byName = new Map(program.functions.map((f) => [f.name, f]));
  const seen = new Set<string>();
  const visitExpr = (e: ScalarExpr): void => {
    if (e.k === 'call') visitFn(e.fn);
    scalarChildren(e).forEach(visitExpr);
  };
  const visitFn = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const f = byName.get(name);
    if (!f) throw new Error(`unknown function ${name}`);
    visitExpr(f.body);
    for (const g of f.grads) if (g) visitExpr(g.expr);
  };
  for (const n of model.nodes) if (n.op === 'call') visitFn(n.fn!);
  return program.functions.filter((f) => seen.has(f.name));
}

/** Module-level Python for the user functions; `fnNames` maps .nn names to Python names. */
export function emitFunctions(fns: IRFunction[], fnNames: Map<string, string>, names: Names): string[] {
  const out: string[] = [];
  for (const f of fns) {
    const py = fnNames.get(f.name)!;
    const local = new Names(['torch', 'F', 'math', 'np', 'softplus', '_args', 'g', 'ctx', 'out', ...fnNames.values()]);
    const args = f.params.map((p) => local.get(`arg:${p}`, p));
    const sig = args.join(', ');
    const tuple = (xs: string[]) => `${xs.join(', ')}${xs.length === 1 ? ',' : ''}`;
    const body = scalarExpr(f.body, args, fnNames).code;
    const doc = `${f.name}(${f.params.join(', ')})`;
    const lines = f.grads.map((g) => (g ? scalarExpr(g.expr, args, fnNames) : null));
    if (lines.every((l) => l === null)) {
      out.push(
        `def ${py}(${sig}):`,
        `    """${doc}: elementwise (arguments broadcast together); differentiated by autograd."""`,
        `    ${tuple(args)} = _args(${sig})`,
        `    return ${body}`,
        '',
        '',
      );
      continue;
    }
    const cls = names.get(`class:${f.name}`, `${f.name[0].toUpperCase()}${f.name.slice(1)}Function`);
    const bodyFn = names.get(`body:${f.name}`, `_${f.name}_body`);
    const d = f.params.map((p) => local.get(`d:${p}`, `d_${p}`));
    const auto = f.params.map((_, j) => j).filter((j) => lines[j] === null);
    const back: string[] = [`        ${tuple(args)} = ctx.saved_tensors`];
    f.params.forEach((p, j) => {
      const l = lines[j];
      if (l) back.push(`        ${d[j]} = g * ${wrap(l, MUL + 1)}  # grad ${p}`);
    });
    if (auto.length) {
      const det = f.params.map((p, j) => (auto.includes(j) ? local.get(`det:${p}`, `${args[j]}_`) : args[j]));
      back.push(
        '        with torch.enable_grad():  # arguments without a grad line: autograd through the body',
        ...auto.map((j) => `            ${det[j]} = ${args[j]}.detach().requires_grad_()`),
        `            ${tuple(auto.map((j) => d[j]))} = torch.autograd.grad(${bodyFn}(${det.join(', ')}), (${tuple(
          auto.map((j) => det[j]),
        )}), g, allow_unused=True)`,
        ...auto.map((j) => `        ${d[j]} = torch.zeros_like(${args[j]}) if ${d[j]} is None else ${d[j]}`),
      );
    }
    back.push(`        return ${d.join(', ')}`);
    const written = f.params.filter((_, j) => lines[j] !== null).map((p) => `grad ${p}`);
    out.push(
      `def ${bodyFn}(${sig}):`,
      `    return ${body}`,
      '',
      '',
      `class ${cls}(torch.autograd.Function):`,
      `    """${doc}: backward uses its ${written.join(', ')} line${written.length > 1 ? 's' : ''}` +
        `${auto.length ? `; ${auto.map((j) => f.params[j]).join(', ')} by autograd` : ''} (as nnlens does)."""`,
      '',
      '    @staticmethod',
      `    def forward(ctx, ${sig}):`,
      `        ctx.save_for_backward(${sig})`,
      `        return ${bodyFn}(${sig})`,
      '',
      '    @staticmethod',
      '    def backward(ctx, g):',
      ...back,
      '',
      '',
      `def ${py}(${sig}):`,
      `    """${doc}: elementwise (arguments broadcast together)."""`,
      `    return ${cls}.apply(*_args(${sig}))`,
      '',
      '',
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The model graph

/** nn.Module attributes a param must not shadow. */
export const MODULE_ATTRS = [
  'training', 'forward', 'parameters', 'named_parameters', 'buffers', 'named_buffers', 'children', 'named_children',
  'modules', 'named_modules', 'state_dict', 'load_state_dict', 'to', 'to_empty', 'cuda', 'cpu', 'xpu', 'ipu', 'eval',
  'train', 'zero_grad', 'apply', 'register_parameter', 'register_buffer', 'register_module', 'add_module', 'type',
  'float', 'double', 'half', 'bfloat16', 'extra_repr', 'requires_grad_', 'share_memory', 'get_parameter',
  'get_submodule', 'get_buffer', 'get_extra_state', 'set_extra_state', 'dump_patches', 'call_super_init',
  'register_forward_hook', 'register_forward_pre_hook', 'register_backward_hook', 'register_full_backward_hook',
  'register_full_backward_pre_hook', 'register_load_state_dict_post_hook', 'register_state_dict_pre_hook',
  'T_destination',
  // the generated class's own attributes
  'manual_gradients', 'PARAMS', 'INPUTS', 'TARGETS', 'SHAPES', 'OUTPUT', 'AUTO_PARAMS',
];

export interface ModelCode {
  lines: string[];
  /** [.nn param name, Python attribute] in declaration order. */
  params: [string, string][];
  /** The model's output (what accuracy reads), as a key of forward's values, or null. */
  prediction: string | null;
}

export interface Ctx {
  nodes: IRNode[];
  batched: boolean[];
  /** Python variable of a materialised node. */
  vars: Map<number, string>;
  fused: Map<number, number>;
  fnNames: Map<string, string>;
  /** Python expression of a param by node id (self.W). */
  leaf: Map<number, string>;
}

function rank(n: IRNode): number {
  return n.shape.length;
}

/** An operand of an elementwise op with a batched result of per-example rank R: lift a batched operand of lower rank. */
function lifted(ctx: Ctx, id: number, e: Expr, resultBatched: boolean, R: number): Expr {
  const missing = R - rank(ctx.nodes[id]);
  if (!resultBatched || !ctx.batched[id] || missing <= 0) return e;
  return atom(`${wrap(e, ATOM)}[:, ${Array(missing).fill('None').join(', ')}]`);
}

/** Reduce over the per-example axes: batched values keep the batch axis. */
function reduce(e: Expr, batched: boolean, r: number, how: 'sum' | 'mean' | 'max'): Expr {
  if (r === 0) return e; // a scalar per example (or a scalar) is its own sum, mean and max
  const a = wrap(e, ATOM);
  if (batched) return atom(how === 'max' ? `${a}.flatten(1).max(1).values` : `${a}.flatten(1).${how}(1)`);
  return atom(how === 'max' ? `${a}.flatten().max(0).values` : `${a}.${how}()`);
}

export function emitNode(ctx: Ctx, n: IRNode, arg: (id: number) => Expr): Expr {
  const B = ctx.batched;
  const R = rank(n);
  const bat = B[n.id];
  const a = n.args;
  if (n.op === 'const') return num(n.value!);
  if (n.op === 'input' || n.op === 'target' || n.op === 'param' || n.op === 'gradRef')
    throw new Error(`export: node ${n.id} (${n.op}) is not a computing op`);
  const z = ctx.fused.get(n.id);
  const node: PyNode = {
    arity: a.length,
    arg: (j) => arg(a[j]),
    lifted: (j) => lifted(ctx, a[j], arg(a[j]), bat, R),
    batched: (j) => B[a[j]],
    rank: (j) => rank(ctx.nodes[a[j]]),
    batchedOut: bat,
    rankOut: R,
    attr: nodeAttr(n),
    fn: n.op === 'call' ? ctx.fnNames.get(n.fn!)! : '',
    logits: z === undefined ? undefined : arg(z),
  };
  return nodeEntry(n).pytorch(PY, node);
}

/** `e.T`, or the matrix itself when `e` already ends in `.T` (transpose(W) @ x is x @ W). */
function transposed(e: Expr): Expr {
  return e.prec === ATOM && e.code.endsWith('.T') ? atom(e.code.slice(0, -2)) : atom(`${wrap(e, ATOM)}.T`);
}

export function emitModel(
  model: IRModel,
  className: string,
  fnNames: Map<string, string>,
  statementText: (v: { stmtRange: IRModel['values'][number]['stmtRange'] }) => string | null,
  /** The node the trainer's accuracy reads (engine/train outputNodeOf), or null. */
  outputNode: number | null,
): ModelCode {
  const nodes = model.nodes;
  const N = nodes.length;
  // batched: exactly the engine's rule (inputs, targets and grad references, and what depends on them)
  const batched: boolean[] = new Array(N).fill(false);
  for (const n of nodes) {
    batched[n.id] =
      n.op === 'input' || n.op === 'target' || n.op === 'gradRef' || (n.op !== 'param' && n.op !== 'const' && n.args.some((x) => batched[x]));
  }
  // the forward graph: ancestors of the loss and of every named value
  const inForward: boolean[] = new Array(N).fill(false);
  const mark = (id: number) => {
    const stack = [id];
    while (stack.length) {
      const k = stack.pop()!;
      if (inForward[k]) continue;
      inForward[k] = true;
      stack.push(...nodes[k].args);
    }
  };
  mark(model.loss.node);
  for (const v of model.values) mark(v.node);
  for (const n of nodes) if (n.op === 'param' || n.op === 'input' || n.op === 'target') inForward[n.id] = true;

  // fusion as in the engine: cross_entropy(softmax(z), t) and binary_cross_entropy(sigmoid(z), t)
  const fused = new Map<number, number>();
  for (const n of nodes) {
    if (!inForward[n.id]) continue;
    const y = fusedProducer(n, nodes);
    if (y) fused.set(n.id, y.args[0]);
  }
  const argsOf = (n: IRNode): number[] => (fused.has(n.id) ? [fused.get(n.id)!, n.args[1]] : n.args);

  const names = new Names(['self', 'torch', 'F', 'np', 'math', 'B', 'values', 'weights', 'super', 'softplus', '_args', ...fnNames.values()]);
  const attrs = new Names([...MODULE_ATTRS]);
  const vars = new Map<number, string>();
  const leaf = new Map<number, string>();
  const params: [string, string][] = model.params.map((p) => [p.name, attrs.get(p.name)]);
  const attrOf = new Map(params);
  for (const n of nodes) {
    if (n.op === 'param') leaf.set(n.id, `self.${attrOf.get(n.name!)!}`);
  }
  const dataArgs = [...model.inputs, ...model.targets].map((d) => names.get(`data:${d.name}`, d.name));
  for (const n of nodes) if (n.op === 'input' || n.op === 'target') leaf.set(n.id, names.get(`data:${n.name}`, n.name));

  // uses within the forward graph (fused losses read z, not y)
  const uses: number[] = new Array(N).fill(0);
  for (const n of nodes) if (inForward[n.id]) for (const x of argsOf(n)) uses[x]++;
  // the backward block reads forward values: expose them
  const exposed = new Set<number>();
  for (const n of nodes) if (!inForward[n.id]) for (const x of n.args) if (inForward[x] && !leaf.has(x)) exposed.add(x);
  const prediction = outputNode;
  if (prediction !== null && !leaf.has(prediction)) exposed.add(prediction);

  const named = new Map<number, string[]>();
  for (const v of model.values) named.set(v.node, [...(named.get(v.node) ?? []), v.name]);
  const materialise = (id: number) =>
    !leaf.has(id) &&
    (nodes[id].op !== 'const' || id === model.loss.node) &&
    (named.has(id) || id === model.loss.node || uses[id] > 1 || exposed.has(id));

  const ctx: Ctx = { nodes, batched, vars, fused, fnNames, leaf };
  const exprOf = (id: number): Expr => {
    const l = leaf.get(id);
    if (l !== undefined) return atom(l);
    const v = vars.get(id);
    if (v !== undefined) return atom(v);
    const n = nodes[id];
    if (n.op === 'gradRef') throw new Error(`export: grad ${n.name} outside the backward block`);
    return emitNode(ctx, n, exprOf);
  };

  // ---- forward ----
  const fwd: string[] = [];
  const needB = !batched[model.loss.node];
  if (needB) fwd.push(`        B = ${dataArgs[0]}.shape[0]`);
  const valueKeys: [string, string][] = [];
  let tmp = 0;
  for (const n of nodes) {
    if (!inForward[n.id]) continue;
    if (leaf.has(n.id)) {
      for (const name of named.get(n.id) ?? []) {
        const py = names.get(`value:${name}`, name);
        fwd.push(`        ${py} = ${leaf.get(n.id)}`);
        valueKeys.push([name, py]);
      }
      continue;
    }
    if (!materialise(n.id)) continue;
    const ns = named.get(n.id) ?? [];
    const loss = n.id === model.loss.node;
    const first = ns[0] ?? (loss ? model.loss.name : null);
    const py = first !== null ? names.get(`value:${first}`, first) : names.get(`tmp:${n.id}`, `_t${++tmp}`);
    const text = ns.length ? statementText(model.values.find((v) => v.node === n.id)!) : loss ? statementText(model.loss) : null;
    if (text) fwd.push(`        # ${text}`);
    fwd.push(`        ${py} = ${exprOf(n.id).code}`);
    vars.set(n.id, py);
    for (const name of ns.slice(first === ns[0] ? 1 : 0)) {
      const alias = names.get(`value:${name}`, name);
      fwd.push(`        ${alias} = ${py}`);
      valueKeys.push([name, alias]);
    }
    if (ns.length) valueKeys.push([ns[0], py]);
    else if (exposed.has(n.id)) valueKeys.push([`#${n.id}`, py]);
  }
  let predKey: string | null = null;
  if (prediction !== null) {
    if (leaf.has(prediction)) {
      predKey = `#${prediction}`;
      valueKeys.push([predKey, leaf.get(prediction)!]);
    } else predKey = valueKeys.find(([, py]) => py === vars.get(prediction))?.[0] ?? null;
  }
  const lossVar = vars.get(model.loss.node) ?? leaf.get(model.loss.node)!;
  const lossOut = batched[model.loss.node] ? lossVar : `torch.as_tensor(${lossVar}).expand(B)`;
  fwd.push(
    `        values = {${valueKeys.map(([k, py]) => `${pyString(k)}: ${py}`).join(', ')}}`,
    `        return ${lossOut}, values`,
  );

  // ---- __init__ ----
  const init = [
    '    def __init__(self, weights):',
    '        super().__init__()',
    ...params.map(([name, attr]) => `        self.${attr} = torch.nn.Parameter(weights[${pyString(name)}].clone())`),
  ];

  const lines = [
    `class ${className}(torch.nn.Module):`,
    `    """model ${model.name}, written for a batch: every input and target has a leading batch axis."""`,
    '',
    `    # (name in the .nn file and in weight files, attribute)`,
    `    PARAMS = [${params.map(([n, a]) => `(${pyString(n)}, ${pyString(a)})`).join(', ')}]`,
    `    INPUTS = [${model.inputs.map((d) => pyString(d.name)).join(', ')}]`,
    `    TARGETS = [${model.targets.map((d) => pyString(d.name)).join(', ')}]`,
    `    SHAPES = {${[...model.params, ...model.inputs, ...model.targets].map((d) => `${pyString(d.name)}: (${d.shape.map(String).join(', ')}${d.shape.length === 1 ? ',' : ''})`).join(', ')}}`,
    '',
    ...init,
    '',
    `    def forward(self, ${dataArgs.join(', ')}):`,
    `        """The per-example losses [B] (the batch's loss is their mean) and the named values."""`,
    ...fwd,
  ];

  // ---- backward block ----
  if (model.backward && model.backward.length) {
    lines.push('', ...emitBackwardBlock(model, ctx, names, dataArgs, valueKeys, attrOf));
  }
  return { lines, params, prediction: predKey };
}

/**
 * `manual_gradients`: the backward block's lines, per example (batched), in the engine's
 * evaluation order (a `grad Y` reference after Y's line); each param's gradient is the mean over
 * the batch of its line.
 */
function emitBackwardBlock(
  model: IRModel,
  ctx: Ctx,
  names: Names,
  dataArgs: string[],
  valueKeys: [string, string][],
  attrOf: Map<string, string>,
): string[] {
  const nodes = ctx.nodes;
  const lines = model.backward!;
  const lineFor = new Map(lines.map((l) => [l.target, l]));
  const isForward = (id: number) => ctx.vars.has(id) || ctx.leaf.has(id);
  type Step = { node: number } | { line: string };
  const steps: Step[] = [];
  const state = new Map<number, 1 | 2>();
  const lineDone = new Set<string>();
  const uses = new Map<number, number>();
  const use = (id: number) => uses.set(id, (uses.get(id) ?? 0) + 1);
  const visitLine = (target: string) => {
    if (lineDone.has(target)) return;
    const line = lineFor.get(target);
    if (!line) throw new Error(`export: grad ${target} has no line`);
    visit(line.node);
    lineDone.add(target);
    use(line.node);
    steps.push({ line: target });
  };
  const visit = (id: number) => {
    if (isForward(id) || state.has(id)) return;
    state.set(id, 1);
    const n = nodes[id];
    for (const a of n.args) {
      visit(a);
      use(a);
    }
    if (n.op === 'gradRef') {
      const line = lineFor.get(n.name!);
      if (!line || state.get(line.node) === 1) throw new Error(`export: grad ${n.name} has no earlier line`);
      visitLine(n.name!);
    }
    state.set(id, 2);
    steps.push({ node: id });
  };
  for (const l of lines) visitLine(l.target);

  const bvars = new Map<number, string>();
  const gradVar = (target: string) => names.get(`grad:${target}`, `grad_${target}`);
  const body: string[] = [];
  let tmp = 0;
  let needB = false;
  const exprOf = (id: number): Expr => {
    const l = ctx.leaf.get(id);
    if (l !== undefined) return atom(l);
    const fv = ctx.vars.get(id) ?? bvars.get(id);
    if (fv !== undefined) return atom(fv);
    const n = nodes[id];
    if (n.op === 'gradRef') {
      const g = gradVar(n.name!);
      if (ctx.batched[lineFor.get(n.name!)!.node]) return atom(g);
      needB = true; // a line that does not depend on the batch is the same for every example
      return atom(`torch.as_tensor(${g}).expand(B, *${g}.shape)`);
    }
    return emitNode(ctx, n, exprOf);
  };
  for (const s of steps) {
    if ('line' in s) {
      const line = lineFor.get(s.line)!;
      const py = gradVar(s.line);
      const e = exprOf(line.node);
      body.push(`        ${py} = ${e.scalar ? `torch.tensor(${e.code})` : e.code}  # grad ${s.line}`);
      if (!isForward(line.node) && !bvars.has(line.node)) bvars.set(line.node, py);
      continue;
    }
    const n = nodes[s.node];
    if (n.op === 'const' || n.op === 'gradRef' || (uses.get(s.node) ?? 0) <= 1 || bvars.has(s.node)) continue;
    const py = names.get(`btmp:${s.node}`, `_b${++tmp}`);
    body.push(`        ${py} = ${exprOf(s.node).code}`);
    bvars.set(s.node, py);
  }
  const assign: string[] = [];
  for (const p of model.params) {
    const line = lineFor.get(p.name);
    if (!line) continue;
    const g = gradVar(p.name);
    const attr = `self.${attrOf.get(p.name)!}`;
    const value = ctx.batched[line.node] ? `${g}.mean(0)` : `torch.zeros_like(${attr}) + ${g}`;
    assign.push(`        ${attr}.grad = ${value}  # the mean over the batch of grad ${p.name}`);
  }
  const unpack = valueKeys.filter(([, py]) => body.some((l) => new RegExp(`\\b${py}\\b`).test(l.split('  # ')[0])));
  const head = [
    `    # params the backward block has no line for keep their automatic gradients`,
    `    AUTO_PARAMS = [${model.params.filter((p) => !lineFor.has(p.name)).map((p) => pyString(p.name)).join(', ')}]`,
    '',
    `    def manual_gradients(self, ${dataArgs.join(', ')}, values):`,
    `        """gradients: manual. The backward block, per example; sets .grad of every param it has a line for."""`,
  ];
  if (needB) head.push(`        B = ${dataArgs[0]}.shape[0]`);
  if (unpack.length)
    head.push(`        ${unpack.map(([, py]) => py).join(', ')} = ${unpack.map(([k]) => `values[${pyString(k)}]`).join(', ')}`);
  return [...head, ...body, ...assign];
}
