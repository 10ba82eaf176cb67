/**
 * Per model: the shape and batching of every expression (the catalog's shape rules), dense
 * layers, the order and cycles of named values, sizes, the losses and the backward block.
 */
import type { AstNode } from 'langium';
import { AstUtils } from 'langium';
import { MAX_PARAM_ELEMENTS, type Shape } from '../../engine/ir';
import { builtin, CATALOG, evalScalar, infix, isNodeEntry, isScalarEntry, paramNames, requiredParams, type NodeEntry, type OpEntry } from '../../engine/ops/index';
import type { Result } from '../../engine/result';
import { fmtShape, sameShape, sizeOf } from '../../engine/shape';
import { Codes, type Code } from '../../engine/codes';
import { findCycles } from '../cycles';
import * as ast from '../generated/ast';
import {
  bindArgs,
  calleeFn,
  calleeName,
  describeSymbol,
  fmtCount,
  notCallable,
  refName,
  type Issue,
  type NamedValue,
  type TensorDecl,
} from './ast-helpers';
import { constIssue } from './consts';
import { lastAxisIssue, operatorIssue } from './conventions';
import type { DocumentAnalysis } from './index';

export interface ExprInfo {
  /** Per-example shape. */
  shape: Shape;
  /** Depends on an input or target (has a run-time batch axis). */
  batched: boolean;
  /** The compile-time value, when the expression is a constant scalar. */
  value?: number;
  /** Above MAX_PARAM_ELEMENTS (already reported). */
  tooLarge?: boolean;
}

/** A dense layer's activation: a built-in usable as one (sigmoid, …, softmax) or a one-argument function. */
export type DenseActivation = { kind: 'builtin'; op: NodeEntry } | { kind: 'call'; fn: ast.FunctionDecl };

export interface DenseInfo {
  call: ast.Call;
  owner: ast.ValueDecl | ast.LossDecl;
  input: ast.Expression;
  units: number;
  inDim: number;
  activation?: DenseActivation;
  W: Shape;
  b: Shape;
}

interface Ctx {
  mode: 'forward' | 'backward';
  owner: NamedValue | ast.BackwardLine;
  /** In backward mode: index of the current line. */
  line?: number;
}

export class ModelAnalysis {
  readonly issues: Issue[] = [];
  /** Per-expression (and per-declaration) shape info; null = unknown (error reported). */
  readonly infos = new Map<AstNode, ExprInfo | null>();
  readonly declShapes = new Map<TensorDecl, Shape | null>();
  readonly dense = new Map<NamedValue, DenseInfo>();
  readonly inputs: ast.InputDecl[];
  readonly targets: ast.TargetDecl[];
  readonly params: ast.ParamDecl[];
  readonly values: NamedValue[];
  readonly losses: ast.LossDecl[];
  readonly backwards: ast.BackwardBlock[];
  /** Direct references of each named value's expression (forward). */
  readonly deps = new Map<NamedValue, Set<AstNode>>();
  /** Declarations the loss depends on (transitively), including dense owners. */
  readonly reachable = new Set<AstNode>();
  /** Total number of param elements (dense included); NaN when some shape is unknown. */
  paramElements = 0;

  private readonly order = new Map<AstNode, number>();
  private readonly inProgress = new Set<NamedValue>();
  private readonly truncated = new Set<NamedValue>();
  private readonly done = new Set<NamedValue>();
  /** backward line keys (`z1`, `h.W`) -> index of the first line. */
  readonly gradLines = new Map<string, number>();

  constructor(
    readonly doc: DocumentAnalysis,
    readonly model: ast.ModelDecl,
  ) {
    const m = model.members;
    m.forEach((x, i) => this.order.set(x, i));
    this.inputs = m.filter(ast.isInputDecl);
    this.targets = m.filter(ast.isTargetDecl);
    this.params = m.filter(ast.isParamDecl);
    this.values = m.filter((x): x is NamedValue => ast.isValueDecl(x) || ast.isLossDecl(x));
    this.losses = m.filter(ast.isLossDecl);
    this.backwards = m.filter(ast.isBackwardBlock);

    // `y = W x` parses as `y = W` and a stray `x`: y's text is cut short, so its value is unknown
    // (the syntax error says why) and nothing that uses it gets a follow-up error.
    m.forEach((x, i) => {
      const next = m[i + 1];
      if ((ast.isValueDecl(x) || ast.isLossDecl(x)) && ast.isValueDecl(next) && !next.expr) this.truncated.add(x);
    });
    this.checkOrderAndCycles();
    for (const d of [...this.inputs, ...this.targets, ...this.params]) this.declShape(d);
    for (const v of this.values) this.inferDecl(v);
    this.checkLosses();
    this.checkBackward();
    this.checkSizes();
    this.computeReachable();
  }

  private issue(code: Code, message: string, node: AstNode, property?: string, severity: 'error' | 'warning' = 'error') {
    this.issues.push({ severity, code, message, node, property });
  }

  /** A warning of the lecture's conventions (./conventions.ts), if any. */
  private convention(issue: Issue | undefined) {
    if (issue) this.issues.push(issue);
  }

  /** Named values referenced by an expression (forward direction only). */
  private refsIn(v: NamedValue): ast.Ref[] {
    return v.expr ? AstUtils.streamAst(v.expr).filter(ast.isRef).toArray() : [];
  }

  private checkOrderAndCycles() {
    for (const v of this.values) {
      const s = new Set<AstNode>();
      for (const r of this.refsIn(v)) if (r.target?.ref) s.add(r.target?.ref);
      this.deps.set(v, s);
    }
    const isNamed = (n: AstNode | undefined): n is NamedValue => ast.isValueDecl(n) || ast.isLossDecl(n);
    const cycles = findCycles(this.values, (v) => [...(this.deps.get(v) ?? [])].filter(isNamed));
    for (const v of this.values) {
      for (const r of this.refsIn(v)) {
        const t = r.target?.ref;
        if (!isNamed(t)) continue;
        if (cycles.inCycle(v, t)) {
          const path = cycles.path(v, t).map((d) => d.name);
          const msg =
            v === t
              ? `'${v.name}' is defined in terms of itself`
              : `'${v.name}' depends on itself: ${path.join(' → ')}`;
          this.issue(Codes.Cycle, msg, r);
        } else if (r.member === undefined && (this.order.get(t) ?? 0) > (this.order.get(v) ?? 0)) {
          const line = (t.$cstNode?.range.start.line ?? 0) + 1;
          this.issue(
            Codes.UseBeforeDefinition,
            `'${t.name}' is used before it is defined (on line ${line}); named values must be defined before use`,
            r,
          );
        }
      }
    }
  }

  /** The declared shape of an input, target or param (dims must be positive integers). */
  declShape(d: TensorDecl): Shape | null {
    if (this.declShapes.has(d)) return this.declShapes.get(d) ?? null;
    const dims = d.shape?.dims ?? [];
    const shape: number[] = [];
    let ok = !!d.shape;
    dims.forEach((dim) => {
      const r = this.doc.evalConst(dim);
      if (!r.ok) {
        ok = false;
        if (r.error.node) this.issues.push(constIssue(r.error, 'a dimension must be a compile-time integer'));
        return;
      }
      if (!Number.isInteger(r.value) || r.value < 1) {
        ok = false;
        this.issue(Codes.InvalidDim, `a dimension must be a positive integer, got ${r.value}`, dim);
        return;
      }
      shape.push(r.value);
    });
    const result = ok ? shape : null;
    this.declShapes.set(d, result);
    if (result) {
      const n = sizeOf(result);
      const info: ExprInfo = { shape: result, batched: !ast.isParamDecl(d) };
      if (n > MAX_PARAM_ELEMENTS) {
        info.tooLarge = true;
        const kind = ast.isParamDecl(d) ? 'param' : ast.isInputDecl(d) ? 'input' : 'target';
        this.issue(
          Codes.ModelTooLarge,
          `${kind} '${d.name}': ${fmtShape(result)} has ${fmtCount(n)} elements; the limit is ` +
            `${fmtCount(MAX_PARAM_ELEMENTS)} per tensor`,
          d,
          'name',
        );
      }
      this.infos.set(d, info);
    } else {
      this.infos.set(d, null);
    }
    return result;
  }

  /** Shape info of a named value (inferred once, in any order; cycles give null). */
  inferDecl(v: NamedValue): ExprInfo | null {
    if (this.done.has(v)) return this.infos.get(v) ?? null;
    if (this.inProgress.has(v) || !v.expr) return null;
    this.inProgress.add(v);
    const inferred = this.infer(v.expr, { mode: 'forward', owner: v });
    const info = this.truncated.has(v) ? null : inferred;
    this.inProgress.delete(v);
    this.done.add(v);
    this.infos.set(v, info);
    return info;
  }

  private checkLosses() {
    for (const l of this.losses) {
      const info = this.infos.get(l);
      if (info && info.shape.length !== 0) {
        this.issue(
          Codes.LossNotScalar,
          `loss '${l.name}' is ${fmtShape(info.shape)} per example; a loss must be a scalar [] ` +
            '(reduce it with sum, mean or a loss function)',
          l.expr ?? l,
        );
      }
    }
  }

  /** The shape of `grad X` / `grad h.W`, or null. Reports invalid targets when `report`. */
  private gradTargetShape(r: ast.GradRef | ast.BackwardLine, report: boolean): Shape | null {
    const t = r.target?.ref;
    if (!t) return null;
    if (ast.isInputDecl(t) || ast.isTargetDecl(t)) {
      if (report) {
        this.issue(
          Codes.InvalidGradTarget,
          `grad ${refName(r)}: ${describeSymbol(t)} has no grad line; grad lines are for params and named values`,
          r,
          'target',
        );
      }
      return null;
    }
    if (r.member !== undefined) return this.memberShape(r, t, report);
    if (ast.isParamDecl(t)) return this.declShape(t);
    return this.inferDecl(t)?.shape ?? null;
  }

  /** `h.W` / `h.b`: the dense params of a named value. */
  private memberShape(r: ast.Ref | ast.GradRef | ast.BackwardLine, t: AstNode, report: boolean): Shape | null {
    const name = refName(r);
    if (!(ast.isValueDecl(t) || ast.isLossDecl(t))) {
      if (report) {
        this.issue(Codes.UnknownMember, `'${name}': only a value defined with dense has .W and .b`, r, 'member');
      }
      return null;
    }
    if (r.member !== 'W' && r.member !== 'b') {
      if (report) {
        this.issue(Codes.UnknownMember, `'${name}': a dense layer has params .W and .b, not .${r.member}`, r, 'member');
      }
      return null;
    }
    const known = this.inferDecl(t);
    const d = this.dense.get(t);
    if (!d) {
      if (report && (known || this.done.has(t))) {
        if (!t.expr || !AstUtils.streamAst(t.expr).some((n) => ast.isCall(n) && calleeName(n) === 'dense')) {
          this.issue(
            Codes.UnknownMember,
            `'${name}': '${t.name}' is not defined with dense, so it has no params .W and .b`,
            r,
            'member',
          );
        }
      }
      return null;
    }
    return r.member === 'W' ? d.W : d.b;
  }

  private checkBackward() {
    if (this.backwards.length > 1) {
      for (const b of this.backwards.slice(1)) {
        this.issue(Codes.MultipleBackward, `model '${this.model.name}' already has a backward block`, b, undefined);
      }
    }
    const block = this.backwards[0];
    if (!block) return;
    block.lines.forEach((line, i) => {
      if (!line.target?.ref) return;
      const key = refName(line);
      if (this.gradLines.has(key)) {
        this.issue(Codes.DuplicateGrad, `there is already a line for grad ${key} in this backward block`, line, 'target');
      } else {
        this.gradLines.set(key, i);
      }
    });
    block.lines.forEach((line, i) => {
      const target = this.gradTargetShape(line, true);
      const info = line.expr ? this.infer(line.expr, { mode: 'backward', owner: line, line: i }) : null;
      this.infos.set(line, info);
      if (target && info && !sameShape(target, info.shape)) {
        this.issue(
          Codes.ShapeMismatch,
          `grad ${refName(line)} is ${fmtShape(info.shape)} but ${refName(line)} is ${fmtShape(target)}; ` +
            'rule: grad X has the shape of X',
          line.expr ?? line,
        );
      }
    });
    // Other backward blocks still get their expressions checked.
    for (const b of this.backwards.slice(1)) {
      b.lines.forEach((line, i) => {
        if (line.expr) this.infer(line.expr, { mode: 'backward', owner: line, line: i });
      });
    }
  }

  private checkSizes() {
    let total = 0;
    const parts: [string, number][] = [];
    for (const p of this.params) {
      const s = this.declShapes.get(p);
      const n = s ? sizeOf(s) : NaN;
      total += n;
      parts.push([p.name, n]);
    }
    for (const d of this.dense.values()) {
      const w = sizeOf(d.W);
      const b = sizeOf(d.b);
      total += w + b;
      parts.push([`${d.owner.name}.W`, w], [`${d.owner.name}.b`, b]);
    }
    this.paramElements = total;
    const eachOk = parts.every(([, n]) => !(n > MAX_PARAM_ELEMENTS));
    if (total > MAX_PARAM_ELEMENTS && eachOk) {
      const biggest = parts
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([name, n]) => `${name} ${fmtCount(n)}`)
        .join(', ');
      this.issue(
        Codes.ModelTooLarge,
        `model '${this.model.name}' has ${fmtCount(total)} parameters in total (${biggest}, …); ` +
          `the limit is ${fmtCount(MAX_PARAM_ELEMENTS)}`,
        this.model,
        'name',
      );
    }
  }

  private computeReachable() {
    const stack: AstNode[] = [...this.losses];
    while (stack.length > 0) {
      const n = stack.pop() as AstNode;
      if (this.reachable.has(n)) continue;
      this.reachable.add(n);
      if (ast.isValueDecl(n) || ast.isLossDecl(n)) for (const d of this.deps.get(n) ?? []) stack.push(d);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  private set(e: AstNode, info: ExprInfo | null, operands: (ExprInfo | null)[] = []): ExprInfo | null {
    if (info && !info.tooLarge) {
      const n = sizeOf(info.shape);
      if (n > MAX_PARAM_ELEMENTS) {
        info.tooLarge = true;
        if (!operands.some((o) => o?.tooLarge)) {
          this.issue(
            Codes.ModelTooLarge,
            `this value is ${fmtShape(info.shape)} per example: ${fmtCount(n)} elements; the limit is ` +
              `${fmtCount(MAX_PARAM_ELEMENTS)} per tensor`,
            e,
          );
        }
      } else if (operands.some((o) => o?.tooLarge)) {
        info.tooLarge = false;
      }
    }
    this.infos.set(e, info);
    return info;
  }

  private fromRule(e: AstNode, r: Result<Shape, string>, batched: boolean, operands: ExprInfo[], property?: string): ExprInfo | null {
    if (!r.ok) {
      this.issue(Codes.ShapeMismatch, r.error, e, property);
      return this.set(e, null);
    }
    return this.set(e, { shape: r.value, batched }, operands);
  }

  infer(e: ast.Expression, ctx: Ctx): ExprInfo | null {
    if (ast.isNumberLit(e)) {
      if (!Number.isFinite(e.value)) {
        this.issue(Codes.InvalidNumber, `${e.value} is not a finite number`, e);
        return this.set(e, null);
      }
      return this.set(e, { shape: [], batched: false, value: e.value });
    }
    if (ast.isStringLit(e) || ast.isBoolLit(e)) {
      this.issue(Codes.TypeError, `a ${ast.isStringLit(e) ? 'string' : 'boolean'} is not a tensor`, e);
      return this.set(e, null);
    }
    if (ast.isNegExpr(e)) {
      const a = this.infer(e.operand, ctx);
      if (!a) return this.set(e, null);
      return this.set(e, { shape: a.shape, batched: a.batched, value: a.value === undefined ? undefined : -a.value }, [a]);
    }
    if (ast.isBinaryExpr(e)) return this.inferBinary(e, ctx);
    if (ast.isPowExpr(e)) {
      const a = this.infer(e.base, ctx);
      const p = this.doc.evalConst(e.exponent);
      if (!p.ok) {
        if (p.error.node) this.issues.push(constIssue(p.error, 'the exponent of ^ must be a compile-time number'));
        return this.set(e, null);
      }
      if (!a) return this.set(e, null);
      const value = a.value === undefined ? undefined : Math.pow(a.value, p.value);
      if (value !== undefined && !Number.isFinite(value)) {
        this.issue(Codes.InvalidNumber, `${a.value} ^ ${p.value} is not a finite number`, e);
        return this.set(e, null);
      }
      return this.set(e, { shape: a.shape, batched: a.batched, value }, [a]);
    }
    if (ast.isRef(e)) return this.inferRef(e);
    if (ast.isGradRef(e)) return this.inferGradRef(e, ctx);
    if (ast.isCall(e)) return this.inferCall(e, ctx);
    return null;
  }

  private inferBinary(e: ast.BinaryExpr, ctx: Ctx): ExprInfo | null {
    const a = this.infer(e.left, ctx);
    const b = this.infer(e.right, ctx);
    if (!a || !b) return this.set(e, null);
    const batched = a.batched || b.batched;
    const op = infix(e.op);
    if (!op) return this.set(e, null);
    const r = op.shape([a.shape, b.shape], {});
    if (r.ok && isScalarEntry(op)) this.convention(operatorIssue(e, a.shape, b.shape, r.value, (d) => this.declShape(d)));
    if (!r.ok || !isScalarEntry(op)) return this.fromRule(e, r, batched, [a, b]);
    let value: number | undefined;
    if (a.value !== undefined && b.value !== undefined) {
      value = evalScalar(op, [a.value, b.value]);
      if (!Number.isFinite(value)) {
        this.issue(Codes.InvalidNumber, `${a.value} ${e.op} ${b.value} is not a finite number`, e);
        return this.set(e, null);
      }
    }
    return this.set(e, { shape: r.value, batched, value }, [a, b]);
  }

  private inferRef(e: ast.Ref): ExprInfo | null {
    const t = e.target?.ref;
    const name = e.target?.$refText ?? '';
    if (!t) {
      if (builtin(name)) {
        this.issue(Codes.NotAValue, `'${name}' is a function, not a value; call it: ${name}(…)`, e);
      }
      return this.set(e, null);
    }
    if (e.member !== undefined) {
      const s = this.memberShape(e, t, true);
      return this.set(e, s ? { shape: s, batched: false } : null);
    }
    if (ast.isConstDecl(t)) {
      const r = this.doc.constOf(t);
      return this.set(e, r.ok ? { shape: [], batched: false, value: r.value } : null);
    }
    if (ast.isFunctionDecl(t)) {
      this.issue(Codes.NotAValue, `'${t.name}' is a function, not a value; call it: ${t.name}(…)`, e);
      return this.set(e, null);
    }
    if (ast.isInputDecl(t) || ast.isTargetDecl(t) || ast.isParamDecl(t)) {
      const s = this.declShape(t);
      return this.set(e, s ? { shape: s, batched: !ast.isParamDecl(t), tooLarge: this.infos.get(t)?.tooLarge } : null);
    }
    if (ast.isValueDecl(t) || ast.isLossDecl(t)) {
      const info = this.inferDecl(t);
      return this.set(e, info ? { shape: info.shape, batched: info.batched, value: info.value, tooLarge: info.tooLarge } : null);
    }
    return this.set(e, null);
  }

  private inferGradRef(e: ast.GradRef, ctx: Ctx): ExprInfo | null {
    const key = refName(e);
    if (ctx.mode !== 'backward') {
      this.issue(Codes.GradOutsideBackward, `'grad ${key}' can only be used inside the backward block`, e);
      return this.set(e, null);
    }
    if (!e.target?.ref) return this.set(e, null);
    const shape = this.gradTargetShape(e, true);
    const at = this.gradLines.get(key);
    const line = ctx.line ?? 0;
    const block = this.backwards[0];
    const inFirstBlock = block && ctx.owner.$container === block;
    if (inFirstBlock && (at === undefined || at >= line)) {
      if (at === undefined) {
        this.issue(
          Codes.UnknownName,
          `grad ${key} has no line in this backward block; write 'grad ${key} = …' before using it`,
          e,
        );
      } else if (at === line) {
        this.issue(Codes.Cycle, `grad ${key} is defined in terms of itself`, e);
      } else {
        const l = (block.lines[at].$cstNode?.range.start.line ?? 0) + 1;
        this.issue(
          Codes.UseBeforeDefinition,
          `grad ${key} is used before its line (line ${l}); inside backward, grad X refers to an earlier line`,
          e,
        );
      }
      return this.set(e, null);
    }
    return this.set(e, shape ? { shape, batched: true } : null);
  }

  private inferCall(e: ast.Call, ctx: Ctx): ExprInfo | null {
    const callee = calleeFn(e);
    const name = calleeName(e);
    const op = callee ? undefined : builtin(name);
    const notFn = notCallable(e);
    if (notFn) this.issues.push(notFn);
    if (!callee && !op) {
      for (const a of e.args) if (a.value) this.infer(a.value, ctx);
      return this.set(e, null);
    }
    if (op && !isNodeEntry(op)) return this.inferDense(e, op, ctx);
    const params = callee ? callee.params.map((p) => p.name) : paramNames(op!);
    const required = callee ? params.length : requiredParams(op!);
    const what = callee ? `function '${name}'` : name;
    const { bound, issues } = bindArgs(e.args, params, required, what, { count: Codes.Arity, unknown: Codes.Arity }, e);
    // Infer every tensor argument (reports errors inside them); compile-time numbers are scalars.
    const isNumber = (a: ast.Argument) => !!op && op.params.some((p, i) => p.kind === 'number' && bound[i] === a);
    const infos = e.args.map((a) => {
      if (!a.value) return null;
      if (isNumber(a)) return { shape: [], batched: false } as ExprInfo;
      return this.infer(a.value, ctx);
    });
    if (issues.length > 0) {
      this.issues.push(...issues);
      return this.set(e, null);
    }
    if (infos.some((i) => !i)) return this.set(e, null);
    const arg = (i: number): ExprInfo => {
      const a = bound[i] as ast.Argument;
      return infos[e.args.indexOf(a)] as ExprInfo;
    };
    const all = infos as ExprInfo[];
    const batched = all.some((i) => i.batched);
    if (callee) return this.fromRule(e, CATALOG.call.shape(params.map((_, i) => arg(i).shape), { fn: name }), batched, all);
    const b = op as NodeEntry;
    for (const [i, p] of b.params.entries()) {
      if (p.kind !== 'number') continue;
      const v = this.doc.evalConst(bound[i]?.value);
      if (!v.ok) {
        if (v.error.node) this.issues.push(constIssue(v.error, `${b.name}: ${p.name} must be a compile-time number`));
        return this.set(e, null);
      }
    }
    const tensors = b.params.flatMap((p, i) => ((p.kind ?? 'tensor') === 'tensor' ? [arg(i)] : []));
    const shapes = tensors.map((t) => t.shape);
    const r = b.shape(shapes, {});
    if (r.ok) this.convention(lastAxisIssue(e, b.name, shapes, (d) => this.declShape(d)));
    return this.fromRule(e, r, batched, tensors);
  }

  private inferDense(e: ast.Call, b: OpEntry, ctx: Ctx): ExprInfo | null {
    const { bound, issues } = bindArgs(e.args, paramNames(b), requiredParams(b), 'dense', { count: Codes.Arity, unknown: Codes.Arity }, e);
    const input = bound[0]?.value;
    const inputInfo = input ? this.infer(input, ctx) : null;
    if (issues.length > 0) {
      this.issues.push(...issues);
      return this.set(e, null);
    }
    let ok = true;
    // Where the call is
    const owner = ctx.owner;
    if (ctx.mode !== 'forward' || !(ast.isValueDecl(owner) || ast.isLossDecl(owner))) {
      this.issue(
        Codes.DensePlacement,
        'dense creates params, so it can only be used in a named value of the forward pass (h = dense(x, n))',
        e,
        'callee',
      );
      ok = false;
    } else if (this.dense.has(owner)) {
      this.issue(
        Codes.DensePlacement,
        `'${owner.name}' already has a dense layer (its params are ${owner.name}.W and ${owner.name}.b); ` +
          'give each dense call its own named value',
        e,
        'callee',
      );
      ok = false;
    }
    // Units
    let units = 0;
    const nExpr = bound[1]?.value;
    const n = this.doc.evalConst(nExpr);
    if (!n.ok) {
      if (n.error.node) this.issues.push(constIssue(n.error, 'dense: the number of units must be a compile-time integer'));
      ok = false;
    } else if (!Number.isInteger(n.value) || n.value < 1) {
      this.issue(Codes.InvalidDim, `dense: the number of units must be a positive integer, got ${n.value}`, nExpr as AstNode);
      ok = false;
    } else {
      units = n.value;
    }
    // Activation
    let activation: DenseActivation | undefined;
    const actArg = bound[2]?.value;
    if (actArg) {
      activation = this.denseActivation(actArg);
      if (!activation) ok = false;
    }
    if (!ok || !inputInfo) return this.set(e, null);
    const r = b.shape([inputInfo.shape], { n: units });
    if (!r.ok) {
      this.issue(Codes.ShapeMismatch, r.error, e);
      return this.set(e, null);
    }
    const d = inputInfo.shape[0];
    const info: DenseInfo = {
      call: e,
      owner: owner as NamedValue,
      input: input as ast.Expression,
      units,
      inDim: d,
      activation,
      W: [units, d],
      b: [units],
    };
    this.dense.set(owner as NamedValue, info);
    const wSize = units * d;
    if (wSize > MAX_PARAM_ELEMENTS) {
      // Too large because its input already is: that one is reported.
      if (inputInfo.tooLarge) return this.set(e, { shape: r.value, batched: inputInfo.batched, tooLarge: true });
      this.issue(
        Codes.ModelTooLarge,
        `dense(${fmtShape(inputInfo.shape)}, ${units}) creates ${info.owner.name}.W: ${fmtShape(info.W)} with ` +
          `${fmtCount(wSize)} elements; the limit is ${fmtCount(MAX_PARAM_ELEMENTS)} per tensor`,
        e,
      );
      return this.set(e, { shape: r.value, batched: inputInfo.batched, tooLarge: true });
    }
    return this.set(e, { shape: r.value, batched: inputInfo.batched }, [inputInfo]);
  }

  private denseActivation(a: ast.Expression): DenseActivation | undefined {
    const bad = (why: string) => {
      this.issue(
        Codes.DensePlacement,
        `dense: ${why}; the activation is a one-argument built-in (sigmoid, tanh, relu, …), softmax, ` +
          'log_softmax or a one-argument function, written by name',
        a,
      );
      return undefined;
    };
    if (!ast.isRef(a) || a.member !== undefined) return bad('the activation must be a function name');
    const t = a.target?.ref;
    const name = a.target?.$refText ?? '';
    if (!t) {
      const op = builtin(name);
      if (op && isNodeEntry(op) && op.activation) return { kind: 'builtin', op };
      if (op) return bad(`'${name}' cannot be an activation`);
      return undefined; // unknown name, reported by linking
    }
    if (ast.isFunctionDecl(t)) {
      if (t.params.length !== 1) return bad(`function '${t.name}' takes ${t.params.length} arguments`);
      return { kind: 'call', fn: t };
    }
    return bad(`${describeSymbol(t)} is not a function`);
  }
}
