/**
 * `model.py` of an exported project: an idiomatic `torch.nn.Module` named after the model.
 *
 * - Its `nn.Parameter`s keep the file's names (`W1`, `b1`); a `dense` param `h.W` is `h_W`
 *   (`PARAMS` maps them back), as in the exact script.
 * - `forward(x)` returns the model's output (../output.ts: the value the loss reads as its
 *   prediction); `forward(x, t)` returns the output and each example's loss.
 * - The loss is a separate function, `loss(y, t, *, …)`: the output, the targets, and as keywords
 *   whatever else the loss expression reads (the logits a softmax's cross-entropy is computed from,
 *   as nnlens computes it; a param of a penalty; an input).
 * - User functions with a `grad` line are `torch.autograd.Function`s whose backward is the line
 *   (./model.ts's `emitFunctions`, shared with the exact script).
 *
 * Each op is written by the exact script's op switch (../model.ts `emitNode`), so both exports map
 * every op the same way (docs/export.md has the table).
 */
import type { InitSpec, IRModel, IRNode, IRProgram, Range, ScalarExpr, UnaryFn } from '../../../engine/ir';
import { compileFunctions, type FunctionLib } from '../../../engine/functions';
import { fusedProducer } from '../../../engine/exec/program';
import { evalScalar, scalarOp } from '../../../engine/ops/index';
import { fans } from '../../../engine/init';
import { atom, emitFunctions, emitNode, functionsUsedBy, MODULE_ATTRS, type Ctx, type Expr } from '../model';
import type { ModelOutput } from '../output';
import { Names, pyFloat, pyString } from '../python';

export interface ModuleInput {
  program: IRProgram;
  model: IRModel;
  output: ModelOutput;
  /** The one-line text of a statement, for comments. */
  statementText: (range: Range) => string | null;
  /** The header's provenance line. */
  provenance: string;
}

export interface ModuleCode {
  text: string;
  className: string;
  /** [.nn name, attribute]. */
  params: [string, string][];
}

/** Module-level names model.py defines or imports. */
const MODULE_NAMES = ['torch', 'F', 'math', 'json', 'softplus', '_args', 'loss', 'load_weights', 'save_weights', 'weights_dict'];

/** `torch.nn.init` code for one param's initializer (the distribution nnlens draws from, engine/init.ts). */
function initCode(attr: string, shape: number[], init: InitSpec): string {
  const p = `self.${attr}`;
  const { fanIn, fanOut } = fans(shape);
  switch (init.kind) {
    case 'zeros':
      return `torch.nn.init.zeros_(${p})`;
    case 'ones':
      return `torch.nn.init.ones_(${p})`;
    case 'constant':
      return `torch.nn.init.constant_(${p}, ${pyFloat(init.value)})`;
    case 'normal':
      return `torch.nn.init.normal_(${p}, ${pyFloat(init.mean)}, ${pyFloat(init.std)})`;
    case 'uniform':
      return `torch.nn.init.uniform_(${p}, ${pyFloat(init.lo)}, ${pyFloat(init.hi)})`;
    case 'glorot':
      if (shape.length >= 2) return `torch.nn.init.xavier_uniform_(${p})`;
      return `torch.nn.init.uniform_(${p}, -${pyFloat(Math.sqrt(6 / (fanIn + fanOut)))}, ${pyFloat(Math.sqrt(6 / (fanIn + fanOut)))})  # glorot, fan ${fanIn}`;
    case 'he':
      if (shape.length >= 2) return `torch.nn.init.kaiming_normal_(${p}, nonlinearity="relu")`;
      return `torch.nn.init.normal_(${p}, 0.0, ${pyFloat(Math.sqrt(2 / fanIn))})  # he, fan_in ${fanIn}`;
  }
}

/** A scalar expression of numbers alone, evaluated as the engine evaluates it (the catalog's scalar forms). */
function evalNumbers(e: ScalarExpr, lib: FunctionLib): number {
  if (e.k === 'num') return e.value;
  if (e.k === 'call') return lib.get(e.fn).f(...e.args.map((a) => evalNumbers(a, lib)));
  const op = scalarOp(e);
  if (!op) throw new Error(`export: cannot fold ${e.k}`);
  return evalScalar(op.entry, op.operands.map((a) => evalNumbers(a, lib)), op.attr);
}

const tupleCode = (shape: readonly number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

export function emitModule(input: ModuleInput): ModuleCode {
  const { program, model, output } = input;
  const nodes = model.nodes;
  const N = nodes.length;

  const moduleNames = new Names(MODULE_NAMES);
  const fns = functionsUsedBy(program, model);
  const fnNames = new Map(fns.map((f) => [f.name, moduleNames.get(`fn:${f.name}`, f.name)]));
  const className = moduleNames.get(`model:${model.name}`, model.name);

  // batched: the engine's rule (an input or target, or anything computed from one)
  const batched: boolean[] = new Array(N).fill(false);
  for (const n of nodes) {
    batched[n.id] = n.op === 'input' || n.op === 'target' || (n.op !== 'param' && n.op !== 'const' && n.op !== 'gradRef' && n.args.some((x) => batched[x]));
  }
  // the engine's fusion: the loss of a softmax or a sigmoid from its logits
  const fused = new Map<number, number>();
  for (const n of nodes) {
    const y = fusedProducer(n, nodes);
    if (y) fused.set(n.id, y.args[0]);
  }
  const argsOf = (n: IRNode) => (fused.has(n.id) ? [fused.get(n.id)!, n.args[1]] : n.args);
  const isLeaf = (n: IRNode) => n.op === 'input' || n.op === 'target' || n.op === 'param';

  // arithmetic on numbers alone (`log(2)`, `1 / H`) is folded to a Python float, computed in float64
  // as the engine computes it, so that it takes the dtype of the tensors it meets (float32 or float64)
  const folded = new Map<number, number>();
  const scalarOf = new Map<number, ScalarExpr>();
  const BINARY = { add: '+', sub: '-', mul: '*', div: '/' } as const;
  const lib = compileFunctions(program.functions);
  for (const n of nodes) {
    const a = n.args.map((x) => scalarOf.get(x));
    let e: ScalarExpr | null = null;
    if (n.op === 'const') e = { k: 'num', value: n.value! };
    else if (a.every((x) => x !== undefined) && n.args.length) {
      const [x, y] = a as ScalarExpr[];
      if (n.op === 'add' || n.op === 'sub' || n.op === 'mul' || n.op === 'div') e = { k: 'binary', op: BINARY[n.op], a: x, b: y };
      else if (n.op === 'neg') e = { k: 'neg', x };
      else if (n.op === 'pow') e = { k: 'pow', x, p: n.p! };
      else if (n.op === 'unary') e = { k: 'unary', fn: n.fn as UnaryFn, x };
      else if (n.op === 'leaky_relu') e = { k: 'leaky_relu', x, alpha: n.alpha! };
      else if (n.op === 'call') e = { k: 'call', fn: n.fn!, args: a as ScalarExpr[] };
    }
    if (!e) continue;
    scalarOf.set(n.id, e);
    if (n.op !== 'const') folded.set(n.id, evalNumbers(e, lib));
  }

  // the forward pass: what the output needs
  const inForward: boolean[] = new Array(N).fill(false);
  const stack = [output.node];
  while (stack.length) {
    const id = stack.pop()!;
    if (inForward[id]) continue;
    inForward[id] = true;
    stack.push(...nodes[id].args);
  }
  // the loss: what the loss needs beyond the forward pass; `extras` are what it reads from there
  const inLoss: boolean[] = new Array(N).fill(false);
  const extras = new Set<number>();
  const visitLoss = (id: number) => {
    if (inLoss[id]) return;
    if (nodes[id].op === 'const' || folded.has(id)) {
      inLoss[id] = true; // a number, written in place
      return;
    }
    if ((inForward[id] && id !== model.loss.node) || (isLeaf(nodes[id]) && nodes[id].op !== 'target')) {
      if (id !== output.node) extras.add(id);
      return;
    }
    inLoss[id] = true;
    for (const a of argsOf(nodes[id])) visitLoss(a);
  };
  visitLoss(model.loss.node);
  if (inForward[model.loss.node]) extras.delete(model.loss.node);

  // ---- names ----
  const attrs = new Names([...MODULE_ATTRS, 'reset_parameters', 'OUTPUT', 'LOSS']);
  const params: [string, string][] = model.params.map((p) => [p.name, attrs.get(p.name)]);
  const attrOf = new Map(params);
  const named = new Map<number, string[]>();
  for (const v of model.values) named.set(v.node, [...(named.get(v.node) ?? []), v.name]);
  const stmtOf = (id: number) => {
    const v = model.values.find((x) => x.node === id);
    return v ? input.statementText(v.stmtRange) : id === model.loss.node ? input.statementText(model.loss.stmtRange) : null;
  };

  const emitBody = (
    which: boolean[],
    leaf: Map<number, string>,
    locals: Names,
    mustMaterialise: Set<number>,
    indent: string,
  ): { lines: string[]; vars: Map<number, string> } => {
    const vars = new Map<number, string>();
    const uses: number[] = new Array(N).fill(0);
    for (const n of nodes) if (which[n.id]) for (const x of argsOf(n)) uses[x]++;
    const ctx: Ctx = { nodes, batched, vars, fused, fnNames, leaf };
    const exprOf = (id: number): Expr => {
      const l = leaf.get(id) ?? vars.get(id);
      if (l !== undefined) return atom(l);
      const v = folded.get(id);
      if (v !== undefined) return { ...atom(pyFloat(v)), scalar: true, ...(pyFloat(v).startsWith('-') ? { prec: 80 } : {}) }; // 80: a unary minus (../model.ts)
      return emitNode(ctx, nodes[id], exprOf);
    };
    const lines: string[] = [];
    let tmp = 0;
    for (const n of nodes) {
      if (!which[n.id] || leaf.has(n.id) || isLeaf(n) || (folded.has(n.id) && !mustMaterialise.has(n.id))) continue;
      const ns = named.get(n.id) ?? [];
      const isLoss = n.id === model.loss.node;
      const keep = ns.length > 0 || isLoss || uses[n.id] > 1 || mustMaterialise.has(n.id);
      if (!keep || (n.op === 'const' && !isLoss && !mustMaterialise.has(n.id))) continue;
      const first = ns[0] ?? (isLoss ? model.loss.name : n.id === output.node ? output.name : null);
      const py = first !== null ? locals.get(`value:${first}`, first) : locals.get(`tmp:${n.id}`, `_t${++tmp}`);
      const text = stmtOf(n.id);
      if (text) lines.push(`${indent}# ${text}`);
      const e = exprOf(n.id);
      lines.push(`${indent}${py} = ${e.code}`); // a number stays a Python float: it takes the dtype of the tensors it meets
      vars.set(n.id, py);
      for (const alias of ns.slice(1)) lines.push(`${indent}${locals.get(`value:${alias}`, alias)} = ${py}`);
    }
    return { lines, vars };
  };

  // ---- forward ----
  const fLocals = new Names(['self', 'torch', 'F', 'math', 'softplus', '_args', 'loss', ...fnNames.values(), className]);
  const inputArgs = model.inputs.map((d) => fLocals.get(`data:${d.name}`, d.name));
  const targetArgs = model.targets.map((d) => fLocals.get(`data:${d.name}`, d.name));
  const fLeaf = new Map<number, string>();
  for (const n of nodes) {
    if (n.op === 'param') fLeaf.set(n.id, `self.${attrOf.get(n.name!)!}`);
    if (n.op === 'input' || n.op === 'target') fLeaf.set(n.id, fLocals.get(`data:${n.name}`, n.name));
  }
  const fwdMaterialise = new Set<number>([output.node, ...[...extras].filter((id) => !isLeaf(nodes[id]))]);
  const fwd = emitBody(inForward, fLeaf, fLocals, fwdMaterialise, '        ');
  const outVar = fwd.vars.get(output.node) ?? fLeaf.get(output.node)!;
  const extraList = [...extras].sort((a, b) => a - b);

  // ---- the loss function ----
  const lLocals = new Names(['torch', 'F', 'math', 'softplus', '_args', 'B', ...fnNames.values(), className]);
  const lLeaf = new Map<number, string>();
  const outArg = lLocals.get(`value:${output.name}`, output.name);
  lLeaf.set(output.node, outArg);
  for (const n of nodes) if (n.op === 'target') lLeaf.set(n.id, lLocals.get(`data:${n.name}`, n.name));
  const lTargets = model.targets.map((d) => lLocals.get(`data:${d.name}`, d.name));
  const extraArgs: { local: string; fromForward: string; what: string }[] = [];
  for (const id of extraList) {
    const n = nodes[id];
    const valueName = named.get(id)?.[0];
    const readers = nodes.filter((x) => fused.get(x.id) === id && inLoss[x.id]);
    const nm = n.op === 'param' ? attrOf.get(n.name!)! : n.op === 'input' ? n.name! : (valueName ?? (readers.length ? 'logits' : 'value'));
    const local = lLocals.get(`extra:${id}`, nm);
    lLeaf.set(id, local);
    const fromForward = fLeaf.get(id) ?? fwd.vars.get(id)!;
    const what =
      n.op === 'param'
        ? `param ${n.name}`
        : n.op === 'input'
          ? `input ${n.name}`
          : readers.length
            ? `the logits; ${readers[0].op} of ${readers[0].op === 'cross_entropy' ? 'softmax' : 'sigmoid'}(${local}) is computed from them (stable), as nnlens computes it`
            : `value ${valueName ?? '(unnamed)'}`;
    extraArgs.push({ local, fromForward, what });
  }
  const loss = emitBody(inLoss, lLeaf, lLocals, new Set([model.loss.node]), '    ');
  const lossVar = loss.vars.get(model.loss.node) ?? lLeaf.get(model.loss.node)!;
  const lossOut = batched[model.loss.node] ? lossVar : `torch.as_tensor(${lossVar}).expand(${lTargets[0] ?? outArg}.shape[0])`;
  const lossSig = [outArg, ...lTargets, ...(extraArgs.length ? ['*', ...extraArgs.map((e) => e.local)] : [])].join(', ');
  const lossCall = [outVar, ...targetArgs, ...extraArgs.map((e) => `${e.local}=${e.fromForward}`)].join(', ');

  const outNode = nodes[output.node];
  const shapeText = (n: { shape: number[] }, b: boolean) => `[${[...(b ? ['batch'] : []), ...n.shape].join(', ')}]`;
  const forwardDoc = [
    `        """The model's output ${output.name} ${shapeText(outNode, batched[output.node])} for a batch ${model.inputs
      .map((d) => `${d.name} ${shapeText(d, true)}`)
      .join(', ')}.`,
    ...(model.targets.length
      ? [`        With the targets (${model.targets.map((d) => `${d.name} ${shapeText(d, true)}`).join(', ')}), also each example's loss: (${output.name}, ${model.loss.name} [batch]).`]
      : []),
    '        """',
  ];
  const targetDefaults = targetArgs.map((t) => `${t}=None`);
  const forwardTail = model.targets.length
    ? [`        if ${targetArgs[0]} is None:`, `            return ${outVar}`, `        return ${outVar}, loss(${lossCall})`]
    : [`        return ${outVar}`];

  const dense = model.params.filter((p) => p.dense);
  const lines: string[] = [
    `"""model ${model.name}: an idiomatic PyTorch module, exported by NN Lens.`,
    '',
    `${input.provenance}`,
    '',
    '    from model import ' + className + ', loss',
    `    net = ${className}()                # params initialised as the .nn file says`,
    `    ${output.name} = net(${inputArgs.join(', ')})  # the model's output, batch-first`,
    ...(model.targets.length
      ? [`    ${output.name}, ${model.loss.name} = net(${[...inputArgs, ...targetArgs].join(', ')})  # and each example's loss; ${model.loss.name}.mean() is the batch's loss`]
      : []),
    '',
    'Shapes are batch-first: every input and target has a leading batch axis; params have none.',
    ...(dense.length
      ? ['', `Params created by \`dense\` are named VALUE_W and VALUE_b here (${dense.map((p) => `${p.name} → ${attrOf.get(p.name)}`).join(', ')});`, 'PARAMS maps every attribute back to its name in the .nn file and in NAME.weights.json.']
      : ['', 'PARAMS maps every attribute to its name in the .nn file and in NAME.weights.json.']),
    '"""',
    'import json',
    'import math',
    '',
    'import torch',
    'import torch.nn.functional as F',
    '',
    '',
    'def softplus(x):',
    '    """log(1 + e^x), exact for any x (F.softplus returns x itself above 20; nnlens does not)."""',
    '    return torch.logaddexp(x, torch.zeros((), dtype=x.dtype, device=x.device))',
    '',
    '',
    'def _args(*xs):',
    '    """A user function\'s arguments as tensors of one shape (broadcast together, like nnlens)."""',
    '    like = next((x for x in xs if torch.is_tensor(x)), None)',
    '    return torch.broadcast_tensors(*[x if torch.is_tensor(x) else torch.tensor(x, dtype=like.dtype, device=like.device) for x in xs])',
    '',
    '',
  ];
  if (fns.length) lines.push(...emitFunctions(fns, fnNames, moduleNames));
  lines.push(
    `class ${className}(torch.nn.Module):`,
    `    """model ${model.name} from the .nn file."""`,
    '',
    `    # (name in the .nn file and in ${model.name}.weights.json, attribute)`,
    `    PARAMS = [${params.map(([n, a]) => `(${pyString(n)}, ${pyString(a)})`).join(', ')}]`,
    `    INPUTS = {${model.inputs.map((d) => `${pyString(d.name)}: ${tupleCode(d.shape)}`).join(', ')}}`,
    `    TARGETS = {${model.targets.map((d) => `${pyString(d.name)}: ${tupleCode(d.shape)}`).join(', ')}}`,
    `    OUTPUT = ${pyString(output.name)}`,
    `    LOSS = ${pyString(model.loss.name)}`,
    '',
    '    def __init__(self):',
    '        super().__init__()',
    ...params.map(([name, attr]) => {
      const shape = model.params.find((p) => p.name === name)!.shape;
      return `        self.${attr} = torch.nn.Parameter(torch.empty(${shape.length ? shape.join(', ') : '()'}))`;
    }),
    '        self.reset_parameters()',
    '',
    '    def reset_parameters(self):',
    '        """The .nn file\'s initializers, drawn from torch\'s generator (nnlens draws the same distributions',
    '        from its own; train.py starts from nnlens\'s exact initial weights, initial.weights.json)."""',
    '        with torch.no_grad():',
    ...(model.params.length ? model.params.map((p) => `            ${initCode(attrOf.get(p.name)!, p.shape, p.init)}`) : ['            pass']),
    '',
    `    def forward(self, ${[...inputArgs, ...targetDefaults].join(', ')}):`,
    ...forwardDoc,
    ...fwd.lines,
    ...forwardTail,
    '',
    '',
    `def loss(${lossSig}):`,
    `    """${input.statementText(model.loss.stmtRange) ?? `loss ${model.loss.name}`}: each example's loss [batch]; the batch's loss is their mean.`,
    ...(extraArgs.length ? ['', ...extraArgs.map((e) => `    ${e.local}: ${e.what}.`)] : []),
    '    """',
    ...loss.lines,
    `    return ${lossOut}`,
    '',
    '',
    'def weights_dict(model):',
    '    """The params by their .nn names (the P.json format of nnlens), as nested lists of float64."""',
    '    model = getattr(model, "module", model)  # a DistributedDataParallel wrapper',
    '    return {name: getattr(model, attr).detach().double().cpu().tolist() for name, attr in model.PARAMS}',
    '',
    '',
    'def save_weights(model, path):',
    `    """Writes ${model.name}.weights.json: what \`nnlens grad --params\`, \`nnlens trace --weights\` and the editor read."""`,
    '    with open(path, "w") as f:',
    '        json.dump(weights_dict(model), f)',
    '',
    '',
    'def load_weights(model, source):',
    '    """Copies weights in the P.json format (a path or a dict, every param by its .nn name) into the model."""',
    '    model = getattr(model, "module", model)',
    '    if not isinstance(source, dict):',
    '        with open(source) as f:',
    '            source = json.load(f)',
    '    for name, attr in model.PARAMS:',
    '        if name not in source:',
    '            raise ValueError(f"missing param {name!r}")',
    '        p = getattr(model, attr)',
    '        value = torch.tensor(source[name], dtype=p.dtype, device=p.device)',
    '        if value.shape != p.shape:',
    '            raise ValueError(f"param {name!r} has shape {list(value.shape)}, the model declares {list(p.shape)}")',
    '        with torch.no_grad():',
    '            p.copy_(value)',
    '    return model',
    '',
  );
  return { text: lines.join('\n'), className, params };
}
