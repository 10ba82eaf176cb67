/**
 * Lowering: a validated document → the engine's IR (engine/ir.ts), plain serialisable data with
 * 0-based source ranges.
 *
 * - A model with an error (inside it, or in a function or const it uses) is not lowered; it is
 *   listed in `skippedModels`. So is every `train`/`check` of it. Data with an error is left
 *   out, with the `train`/`check` blocks that use it.
 * - Consts and constant subexpressions are folded into `const` nodes.
 * - `h = dense(a, n, act)` creates params `h.W: [n, d]` (glorot) and `h.b: [n]` (zeros) and
 *   lowers to matmul → add → activation.
 * - Nodes are in topological order: inputs, targets, params, named values and the loss, then the
 *   nodes of the backward block.
 */
import { AstUtils, type AstNode, type LangiumDocument } from 'langium';
import type {
  IRBackwardLine,
  IRCheck,
  IRData,
  IRFunction,
  IRGradLine,
  IRModel,
  IRNamedValue,
  IRNode,
  IRParam,
  IRProgram,
  IRTensorDecl,
  IRTrain,
  Op,
  Range,
  ScalarExpr,
  Shape,
} from '../engine/ir';
import { builtin, CATALOG, infix, irOp, isNodeEntry, isScalarEntry, paramNames, prefix, requiredParams, scalarExprOf, type NodeEntry } from '../engine/ops/index';
import { sizeOf } from '../engine/shape';
import {
  bindArgs,
  calleeFn,
  calleeName,
  isConstExpr,
  refName,
  type DenseInfo,
  type DocumentAnalysis,
  type ExprInfo,
  type ModelAnalysis,
  type NamedValue,
} from './analysis';
import type { NnAnalysisCache } from './analysis-cache';
import { Codes } from '../engine/codes';
import { readCheckOptions, readDataSpec, readInit, readTrainOptions } from './config';
import * as ast from './generated/ast';
import { nameRangeOf, plainRange, rangeOf } from './ranges';
import { headerRange } from './validation/binding';

export interface LowerResult {
  program: IRProgram;
  /** Names of the models that were not lowered because they (or what they use) have errors. */
  skippedModels: string[];
}

function contains(outer: Range, inner: Range): boolean {
  const before = (a: Range['start'], b: Range['start']) => a.line < b.line || (a.line === b.line && a.character <= b.character);
  return before(outer.start, inner.start) && before(inner.end, outer.end);
}

class Skip extends Error {}

/** Errors (as ranges) of a document: its diagnostics, or none when it was not validated. */
function errorRanges(doc: LangiumDocument): Range[] {
  return (doc.diagnostics ?? []).filter((d) => d.severity === 1).map((d) => plainRange(d.range));
}

/**
 * Lowers a built (parsed, linked and validated) document. Declarations with errors are left
 * out as described above; a document that was not validated is lowered as if it had no
 * diagnostics besides what the analysis finds itself.
 */
export function lowerDocument(services: NnAnalysisCache | { analysis: { Cache: NnAnalysisCache } }, doc: LangiumDocument): LowerResult {
  const cache = 'analysis' in services ? services.analysis.Cache : services;
  const root = doc.parseResult.value;
  if (!ast.isProgram(root)) return { program: emptyProgram(), skippedModels: [] };
  const analysis = cache.of(root);
  const errors = errorRanges(doc);
  const hasError = (n: AstNode) => {
    const r = rangeOf(n);
    return errors.some((e) => contains(r, e));
  };

  const program = emptyProgram();
  const decls = root.declarations;

  // Functions
  const okFunctions = new Set<ast.FunctionDecl>();
  for (const f of decls.filter(ast.isFunctionDecl)) {
    if (!f.name || hasError(f) || !analysis.functionOk(f)) continue;
    okFunctions.add(f);
  }
  // A function is usable only when every function it calls is. (A function met again is one
  // whose value a grad line uses: a cycle of bodies is an error, so f is not in okFunctions.)
  const usable = (f: ast.FunctionDecl, seen = new Set<ast.FunctionDecl>()): boolean => {
    if (!okFunctions.has(f)) return false;
    if (seen.has(f)) return true;
    seen.add(f);
    return AstUtils.streamAst(f)
      .filter(ast.isCall)
      .every((c) => {
        const g = calleeFn(c);
        return !g || usable(g, new Set(seen));
      });
  };
  for (const f of okFunctions) {
    if (!usable(f)) continue;
    try {
      program.functions.push(lowerFunction(analysis, f));
    } catch (e) {
      if (!(e instanceof Skip)) throw e;
    }
  }
  const loweredFunctions = new Set(program.functions.map((f) => f.name));

  // Data
  for (const d of decls.filter(ast.isDataDecl)) {
    if (!d.name || hasError(d)) continue;
    const { spec } = readDataSpec(analysis, d);
    if (!spec) continue;
    program.data.push({ name: d.name, spec, range: nameRangeOf(d), stmtRange: rangeOf(d) } satisfies IRData);
  }
  const loweredData = new Set(program.data.map((d) => d.name));

  // Models
  const skippedModels: string[] = [];
  for (const m of decls.filter(ast.isModelDecl)) {
    if (!m.name) continue;
    if (hasError(m)) {
      skippedModels.push(m.name);
      continue;
    }
    try {
      program.models.push(new ModelLowerer(analysis, analysis.modelAnalysis(m), loweredFunctions).lower());
    } catch (e) {
      if (!(e instanceof Skip)) throw e;
      skippedModels.push(m.name);
    }
  }
  const loweredModels = new Set(program.models.map((m) => m.name));

  // Train and check blocks
  for (const t of decls.filter(ast.isTrainDecl)) {
    const model = t.model?.ref?.name;
    const data = t.data?.ref?.name;
    if (!model || !data || !loweredModels.has(model) || !loweredData.has(data) || hasError(t)) continue;
    const { options } = readTrainOptions(analysis, t);
    program.trains.push({ model, data, options, range: headerRange(t) ?? rangeOf(t) } satisfies IRTrain);
  }
  for (const c of decls.filter(ast.isCheckDecl)) {
    const model = c.model?.ref?.name;
    const data = c.data?.ref?.name;
    if (!model || !data || !loweredModels.has(model) || !loweredData.has(data) || hasError(c)) continue;
    const { options } = readCheckOptions(analysis, c);
    program.checks.push({ model, data, options, range: headerRange(c) ?? rangeOf(c) } satisfies IRCheck);
  }
  return { program, skippedModels };
}

function emptyProgram(): IRProgram {
  return { functions: [], models: [], data: [], trains: [], checks: [] };
}

// ---------------------------------------------------------------------------------------------
// Functions → ScalarExpr

function lowerFunction(analysis: DocumentAnalysis, f: ast.FunctionDecl): IRFunction {
  const params = f.params.map((p) => p.name);
  const scalar = (e: ast.Expression | undefined): ScalarExpr => {
    if (!e) throw new Skip();
    if (isConstExpr(e)) {
      const r = analysis.evalConst(e);
      if (r.ok) return { k: 'num', value: r.value };
    }
    if (ast.isNumberLit(e)) return { k: 'num', value: e.value };
    if (ast.isNegExpr(e)) return scalarExprOf(scalarOp(prefix('-')), [scalar(e.operand)]);
    if (ast.isBinaryExpr(e)) {
      const op = infix(e.op);
      if (op && isScalarEntry(op)) return scalarExprOf(op, [scalar(e.left), scalar(e.right)]);
    }
    if (ast.isPowExpr(e)) {
      const p = analysis.evalConst(e.exponent);
      if (!p.ok) throw new Skip();
      return scalarExprOf(scalarOp(CATALOG.pow), [scalar(e.base)], p.value);
    }
    if (ast.isRef(e) && ast.isFunctionParam(e.target?.ref)) {
      return { k: 'arg', index: f.params.indexOf(e.target?.ref) };
    }
    if (ast.isCall(e)) {
      const callee = calleeFn(e);
      if (callee) {
        const { bound } = bindArgs(e.args, callee.params.map((p) => p.name), callee.params.length, '', NO_CODES, e);
        return { k: 'call', fn: callee.name, args: bound.map((a) => scalar(a?.value as ast.Expression)) };
      }
      const b = builtin(calleeName(e));
      if (b && isScalarEntry(b)) {
        const { bound } = bindArgs(e.args, paramNames(b), requiredParams(b), '', NO_CODES, e);
        const attr = numberArg(analysis, b, bound);
        const operands = b.params.flatMap((p, i) => ((p.kind ?? 'tensor') === 'tensor' ? [scalar(bound[i]?.value as ast.Expression)] : []));
        return scalarExprOf(b, operands, attr);
      }
    }
    throw new Skip(); // incomplete text: a syntax error is reported
  };
  const grads: (IRGradLine | null)[] = params.map(() => null);
  for (const g of f.grads) {
    const i = g.arg?.ref ? f.params.indexOf(g.arg?.ref) : -1;
    if (i >= 0 && g.expr && grads[i] === null) grads[i] = { expr: scalar(g.expr), range: rangeOf(g) };
  }
  return { name: f.name, params, body: scalar(f.body), grads, range: nameRangeOf(f) };
}

const NO_CODES = { count: Codes.Arity, unknown: Codes.Arity };

/** An op that must have a scalar form here (checked by the analysis). */
function scalarOp(e: NodeEntry | undefined) {
  if (!e || !isScalarEntry(e)) throw new Skip();
  return e;
}

/** The value of an op's compile-time number argument (its IR attribute), 0 when it has none. */
function numberArg(analysis: DocumentAnalysis, op: NodeEntry, bound: (ast.Argument | undefined)[]): number {
  const i = op.params.findIndex((p) => p.kind === 'number');
  if (i < 0) return 0;
  const r = analysis.evalConst(bound[i]?.value);
  if (!r.ok) throw new Skip();
  return r.value;
}

// ---------------------------------------------------------------------------------------------
// Models → nodes

class ModelLowerer {
  private readonly nodes: IRNode[] = [];
  private readonly leaves = new Map<string, number>();
  private readonly valueNodes = new Map<NamedValue, number>();
  private readonly analysis: DocumentAnalysis;

  constructor(
    doc: DocumentAnalysis,
    private readonly m: ModelAnalysis,
    private readonly functions: Set<string>,
  ) {
    this.analysis = doc;
  }

  private add(op: Op, args: number[], info: { shape: Shape; batched: boolean }, range: Range, attrs: Partial<IRNode> = {}): number {
    const id = this.nodes.length;
    this.nodes.push({ id, op, args, shape: info.shape.slice(), batched: info.batched, range, ...attrs });
    return id;
  }

  private info(n: AstNode): ExprInfo {
    const i = this.m.infos.get(n);
    if (!i) throw new Skip();
    return i;
  }

  private shapeOf(d: ast.InputDecl | ast.TargetDecl | ast.ParamDecl): Shape {
    const s = this.m.declShapes.get(d);
    if (!s) throw new Skip();
    return s;
  }

  lower(): IRModel {
    const m = this.m;
    if (m.losses.length !== 1 || m.inputs.length === 0) throw new Skip();
    if (m.issues.some((i) => i.severity === 'error')) throw new Skip();

    const inputs: IRTensorDecl[] = m.inputs.map((d) => {
      const shape = this.shapeOf(d);
      const range = nameRangeOf(d);
      this.leaves.set(d.name, this.add('input', [], { shape, batched: true }, range, { name: d.name }));
      return { name: d.name, shape: shape.slice(), range };
    });
    const targets: IRTensorDecl[] = m.targets.map((d) => {
      const shape = this.shapeOf(d);
      const range = nameRangeOf(d);
      this.leaves.set(d.name, this.add('target', [], { shape, batched: true }, range, { name: d.name }));
      return { name: d.name, shape: shape.slice(), range };
    });
    const params: IRParam[] = [];
    const addParam = (p: IRParam) => {
      params.push(p);
      this.leaves.set(p.name, this.add('param', [], { shape: p.shape, batched: false }, p.range, { name: p.name }));
    };
    for (const member of m.model.members) {
      if (ast.isParamDecl(member)) {
        const shape = this.shapeOf(member);
        const { init } = readInit(this.analysis, member);
        if (!init) throw new Skip();
        addParam({ name: member.name, shape: shape.slice(), init, size: sizeOf(shape), range: nameRangeOf(member) });
      } else if (ast.isValueDecl(member) || ast.isLossDecl(member)) {
        const d = m.dense.get(member);
        if (d) {
          const range = rangeOf(d.call);
          addParam({
            name: `${member.name}.W`,
            shape: d.W.slice(),
            init: { kind: 'glorot' },
            size: sizeOf(d.W),
            range,
            dense: { value: member.name, role: 'W' },
          });
          addParam({
            name: `${member.name}.b`,
            shape: d.b.slice(),
            init: { kind: 'zeros' },
            size: sizeOf(d.b),
            range,
            dense: { value: member.name, role: 'b' },
          });
        }
      }
    }

    const values: IRNamedValue[] = [];
    let loss: IRNamedValue | undefined;
    for (const v of m.values) {
      if (!v.expr) throw new Skip();
      const node = this.expr(v.expr, false);
      this.valueNodes.set(v, node);
      const named: IRNamedValue = { name: v.name, node, range: nameRangeOf(v), stmtRange: rangeOf(v) };
      if (ast.isLossDecl(v)) loss = named;
      else values.push(named);
    }
    if (!loss) throw new Skip();

    let backward: IRBackwardLine[] | null = null;
    const block = m.backwards[0];
    if (block) {
      backward = block.lines.map((line) => {
        const t = line.target?.ref;
        if (!t || !line.expr) throw new Skip();
        const uses: string[] = [];
        const node = this.expr(line.expr, true, uses);
        const targetKind: 'param' | 'value' = ast.isParamDecl(t) || line.member !== undefined ? 'param' : 'value';
        return { target: refName(line), targetKind, node, range: rangeOf(line), uses };
      });
    }

    return {
      name: m.model.name,
      range: nameRangeOf(m.model),
      inputs,
      targets,
      params,
      nodes: this.nodes,
      values,
      loss,
      backward,
    };
  }

  /** Lowers an expression; returns its node id. `uses` collects `grad Y` names in backward lines. */
  private expr(e: ast.Expression, backward: boolean, uses: string[] = []): number {
    const info = this.info(e);
    const range = rangeOf(e);
    if (info.value !== undefined) return this.add('const', [], { shape: [], batched: false }, range, { value: info.value });
    if (ast.isNegExpr(e)) return this.addOp(prefix('-'), [this.expr(e.operand, backward, uses)], info, range);
    if (ast.isBinaryExpr(e)) {
      const a = this.expr(e.left, backward, uses);
      const b = this.expr(e.right, backward, uses);
      return this.addOp(infix(e.op), [a, b], info, range);
    }
    if (ast.isPowExpr(e)) {
      const p = this.analysis.evalConst(e.exponent);
      if (!p.ok) throw new Skip();
      return this.addOp(CATALOG.pow, [this.expr(e.base, backward, uses)], info, range, p.value);
    }
    if (ast.isRef(e)) {
      const t = e.target?.ref;
      const key = refName(e);
      if (e.member !== undefined || ast.isInputDecl(t) || ast.isTargetDecl(t) || ast.isParamDecl(t)) {
        const id = this.leaves.get(key);
        if (id === undefined) throw new Skip();
        return id;
      }
      if (ast.isValueDecl(t) || ast.isLossDecl(t)) {
        const id = this.valueNodes.get(t);
        if (id === undefined) throw new Skip(); // forward reference (reported as an error)
        return id;
      }
      throw new Skip();
    }
    if (ast.isGradRef(e)) {
      const key = refName(e);
      if (!uses.includes(key)) uses.push(key);
      return this.add('gradRef', [], info, range, { name: key });
    }
    if (ast.isCall(e)) return this.call(e, info, range, backward, uses);
    throw new Skip();
  }

  private call(e: ast.Call, info: ExprInfo, range: Range, backward: boolean, uses: string[]): number {
    const callee = calleeFn(e);
    if (callee) {
      if (!this.functions.has(callee.name)) throw new Skip();
      const { bound } = bindArgs(e.args, callee.params.map((p) => p.name), callee.params.length, '', NO_CODES, e);
      const args = bound.map((a) => this.expr(a?.value as ast.Expression, backward, uses));
      return this.add('call', args, info, range, { fn: callee.name });
    }
    const b = builtin(calleeName(e));
    if (!b) throw new Skip();
    if (!isNodeEntry(b)) {
      const d = [...this.m.dense.values()].find((x) => x.call === e);
      if (!d) throw new Skip();
      return this.dense(d, info, range, backward, uses);
    }
    const { bound } = bindArgs(e.args, paramNames(b), requiredParams(b), '', NO_CODES, e);
    const args = b.params.flatMap((p, i) => ((p.kind ?? 'tensor') === 'tensor' ? [this.expr(bound[i]?.value as ast.Expression, backward, uses)] : []));
    return this.addOp(b, args, info, range, numberArg(this.analysis, b, bound));
  }

  /** A node applying an op of the catalog, in its IR form (`{ op: 'unary', fn }`, `{ op: 'pow', p }`, …). */
  private addOp(entry: NodeEntry | undefined, args: number[], info: { shape: Shape; batched: boolean }, range: Range, attr?: number): number {
    if (!entry) throw new Skip();
    const { op, ...attrs } = irOp(entry, attr);
    return this.add(op, args, info, range, attrs);
  }

  private dense(d: DenseInfo, info: ExprInfo, range: Range, backward: boolean, uses: string[]): number {
    const x = this.expr(d.input, backward, uses);
    const W = this.leaves.get(`${d.owner.name}.W`);
    const b = this.leaves.get(`${d.owner.name}.b`);
    if (W === undefined || b === undefined) throw new Skip();
    const out = { shape: [d.units], batched: info.batched };
    const z = this.add('add', [this.add('matmul', [W, x], out, range), b], out, range);
    const act = d.activation;
    if (!act) return z;
    if (act.kind === 'builtin') return this.addOp(act.op, [z], out, range);
    if (!this.functions.has(act.fn.name)) throw new Skip();
    return this.add('call', [z], out, range, { fn: act.fn.name });
  }
}
