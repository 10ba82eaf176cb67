/**
 * Static analysis of a `.nn` document: compile-time numbers (consts, dimensions, exponents),
 * user functions (elementwise bodies, call cycles), and per model the shape and batching of every
 * expression, dense layers, orderings, cycles, sizes and the backward block.
 *
 * The analysis is computed lazily and once per linked document (see `NnAnalysisCache`); the
 * validators report its issues, lowering reads its shapes, and the language server reads it for
 * hovers and inlay hints.
 */
import type { AstNode } from 'langium';
import { AstUtils } from 'langium';
import { MAX_PARAM_ELEMENTS, type Shape, type UnaryFn } from '../engine/ir';
import { builtinFunction, isUnaryFn, type BuiltinFunction } from './builtins';
import { Codes, type Code } from '../engine/codes';
import { findCycles } from './cycles';
import * as ast from './generated/ast';
import {
  broadcastArgsRule,
  denseRule,
  dotRule,
  elementwiseRule,
  fmtShape,
  lastAxisRule,
  lossRule,
  matmulRule,
  numel,
  outerRule,
  sameShape,
  transposeRule,
  type RuleResult,
} from './shape-rules';

export interface Issue {
  severity: 'error' | 'warning';
  code: Code;
  message: string;
  node: AstNode;
  property?: string;
  index?: number;
}

/** What the analysis knows about an expression (or a declaration) of a model. */
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

export type DenseActivation =
  | { kind: 'unary'; fn: UnaryFn }
  | { kind: 'softmax' | 'log_softmax' }
  | { kind: 'call'; fn: ast.FunctionDecl };

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

export type ConstResult =
  | { ok: true; value: number }
  /** `node` undefined: the failure was reported elsewhere (unknown name, a broken const). */
  | { ok: false; node?: AstNode; reason?: string; code?: Code };

export type NamedValue = ast.ValueDecl | ast.LossDecl;
export type TensorDecl = ast.InputDecl | ast.TargetDecl | ast.ParamDecl;

export const fmtCount = (n: number): string =>
  Number.isFinite(n) && n < 1e21 ? Math.round(n).toLocaleString('en-US') : n.toExponential(2);

export function refName(r: ast.Ref | ast.GradRef | ast.BackwardLine): string {
  const base = r.target?.$refText ?? '';
  return r.member !== undefined ? `${base}.${r.member}` : base;
}

export function describeSymbol(n: AstNode | undefined): string {
  if (ast.isInputDecl(n)) return `input '${n.name}'`;
  if (ast.isTargetDecl(n)) return `target '${n.name}'`;
  if (ast.isParamDecl(n)) return `param '${n.name}'`;
  if (ast.isValueDecl(n)) return `value '${n.name}'`;
  if (ast.isLossDecl(n)) return `loss '${n.name}'`;
  if (ast.isConstDecl(n)) return `const '${n.name}'`;
  if (ast.isFunctionDecl(n)) return `function '${n.name}'`;
  if (ast.isFunctionParam(n)) return `argument '${n.name}'`;
  return 'this';
}

/** The name a call is written with (`f` in `f(x)`). */
export function calleeName(c: ast.Call): string {
  return c.callee?.target?.$refText ?? '';
}

/** The user function a call calls, if it calls one. */
export function calleeFn(c: ast.Call): ast.FunctionDecl | undefined {
  const t = c.callee?.target?.ref;
  return c.callee?.member === undefined && ast.isFunctionDecl(t) ? t : undefined;
}

/** An issue when a call's name is declared but is not a function (`x(1)` with x an input). */
export function notCallable(c: ast.Call): Issue | undefined {
  const t = c.callee?.target?.ref;
  if (!c.callee || (t === undefined && c.callee.member === undefined) || (ast.isFunctionDecl(t) && c.callee.member === undefined)) {
    return undefined;
  }
  const what = c.callee.member !== undefined ? `'${refName(c.callee)}' is a param` : `'${refName(c.callee)}' is ${kindOf(t)}`;
  return { severity: 'error', code: Codes.TypeError, message: `${what}, not a function`, node: c, property: 'callee' };
}

/** "an input", "a param", … */
export function kindOf(n: AstNode | undefined): string {
  if (ast.isInputDecl(n)) return 'an input';
  if (ast.isTargetDecl(n)) return 'a target';
  if (ast.isParamDecl(n)) return 'a param';
  if (ast.isValueDecl(n)) return 'a named value';
  if (ast.isLossDecl(n)) return 'the loss';
  if (ast.isFunctionDecl(n)) return 'a function';
  if (ast.isFunctionParam(n)) return 'a function argument';
  return 'not a number';
}

/** A compile-time constant number: numbers, consts, + - * / ^ and unary minus. */
export function isConstExpr(e: AstNode): boolean {
  if (ast.isNumberLit(e)) return true;
  if (ast.isNegExpr(e)) return isConstExpr(e.operand);
  if (ast.isBinaryExpr(e)) return e.op !== '@' && isConstExpr(e.left) && isConstExpr(e.right);
  if (ast.isPowExpr(e)) return isConstExpr(e.base) && isConstExpr(e.exponent);
  if (ast.isRef(e)) return e.member === undefined && ast.isConstDecl(e.target?.ref);
  return false;
}

// ---------------------------------------------------------------------------------------------

export class DocumentAnalysis {
  /** Issues of const declarations (their values and cycles). */
  readonly constIssues: Issue[] = [];
  private readonly consts = new Map<ast.ConstDecl, ConstResult>();
  private readonly constsInProgress = new Set<ast.ConstDecl>();
  private readonly functions = new Map<ast.FunctionDecl, FunctionAnalysis>();
  private readonly models = new Map<ast.ModelDecl, ModelAnalysis>();
  private functionCycles?: ReturnType<typeof findCycles<ast.FunctionDecl>>;

  constructor(readonly program: ast.Program) {
    const consts = program.declarations.filter(ast.isConstDecl);
    const refsOf = (c: ast.ConstDecl) =>
      c.value ? AstUtils.streamAst(c.value).filter(ast.isRef).toArray() : [];
    const edges = (c: ast.ConstDecl) =>
      refsOf(c)
        .map((r) => r.target?.ref)
        .filter(ast.isConstDecl);
    const cycles = findCycles(consts, edges);
    for (const c of consts) {
      for (const r of refsOf(c)) {
        const t = r.target?.ref;
        if (ast.isConstDecl(t) && cycles.inCycle(c, t)) {
          const path = cycles.path(c, t).map((d) => d.name);
          this.constIssues.push({
            severity: 'error',
            code: Codes.Cycle,
            message: `const '${c.name}' depends on itself: ${path.join(' → ')}`,
            node: r,
          });
        }
      }
    }
    for (const c of consts) {
      const res = this.constOf(c);
      if (!res.ok && res.node) this.constIssues.push(constIssue(res, `const '${c.name}' must be a number`));
    }
  }

  /** The value of a const declaration. */
  constOf(decl: ast.ConstDecl): ConstResult {
    const known = this.consts.get(decl);
    if (known) return known;
    if (this.constsInProgress.has(decl) || !decl.value) return { ok: false };
    this.constsInProgress.add(decl);
    const res = this.evalConst(decl.value);
    this.constsInProgress.delete(decl);
    this.consts.set(decl, res);
    return res;
  }

  /** Evaluates a compile-time number. */
  evalConst(e: ast.Expression | undefined): ConstResult {
    if (!e) return { ok: false };
    const finite = (v: number, node: AstNode): ConstResult =>
      Number.isFinite(v)
        ? { ok: true, value: v }
        : { ok: false, node, code: Codes.InvalidNumber, reason: `the value is not a finite number (${v})` };
    if (ast.isNumberLit(e)) return finite(e.value, e);
    if (ast.isNegExpr(e)) {
      const a = this.evalConst(e.operand);
      return a.ok ? { ok: true, value: -a.value } : a;
    }
    if (ast.isBinaryExpr(e)) {
      if (e.op === '@') return { ok: false, node: e, reason: 'matmul @ is not an operation on numbers' };
      const a = this.evalConst(e.left);
      if (!a.ok) return a;
      const b = this.evalConst(e.right);
      if (!b.ok) return b;
      return finite(arith(e.op, a.value, b.value), e);
    }
    if (ast.isPowExpr(e)) {
      const a = this.evalConst(e.base);
      if (!a.ok) return a;
      const b = this.evalConst(e.exponent);
      if (!b.ok) return b;
      return finite(Math.pow(a.value, b.value), e);
    }
    if (ast.isRef(e)) {
      const t = e.target?.ref;
      if (!t) return { ok: false };
      if (ast.isConstDecl(t) && e.member === undefined) {
        const r = this.constOf(t);
        return r.ok ? r : { ok: false };
      }
      return { ok: false, node: e, reason: `'${refName(e)}' is ${kindOf(t)}, not a const` };
    }
    if (ast.isCall(e)) return { ok: false, node: e, reason: `a call of '${calleeName(e)}' is not a number` };
    if (ast.isStringLit(e)) return { ok: false, node: e, code: Codes.TypeError, reason: 'a string is not a number' };
    if (ast.isBoolLit(e)) return { ok: false, node: e, code: Codes.TypeError, reason: 'a boolean is not a number' };
    if (ast.isGradRef(e)) return { ok: false, node: e, reason: `'grad ${refName(e)}' is not a number` };
    return { ok: false };
  }

  functionAnalysis(fn: ast.FunctionDecl): FunctionAnalysis {
    let a = this.functions.get(fn);
    if (!a) {
      a = new FunctionAnalysis(this, fn);
      this.functions.set(fn, a);
    }
    return a;
  }

  /** Cycles in the call graph of user functions. */
  get callCycles(): ReturnType<typeof findCycles<ast.FunctionDecl>> {
    if (!this.functionCycles) {
      const fns = this.program.declarations.filter(ast.isFunctionDecl);
      this.functionCycles = findCycles(fns, (f) => callsOf(f).map((c) => calleeFn(c)).filter(ast.isFunctionDecl));
    }
    return this.functionCycles;
  }

  modelAnalysis(model: ast.ModelDecl): ModelAnalysis {
    let a = this.models.get(model);
    if (!a) {
      a = new ModelAnalysis(this, model);
      this.models.set(model, a);
    }
    return a;
  }

  /** Whether a function (and every function it calls) is free of errors. */
  functionOk(fn: ast.FunctionDecl, seen = new Set<ast.FunctionDecl>()): boolean {
    if (seen.has(fn)) return false; // recursive: reported as a cycle
    seen.add(fn);
    if (!this.functionAnalysis(fn).ok) return false;
    return callsOf(fn).every((c) => {
      const f = calleeFn(c);
      return !f || this.functionOk(f, new Set(seen));
    });
  }
}

function arith(op: string, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    default:
      return a / b;
  }
}

/** An issue for a failed compile-time number, prefixed by what needed it. */
export function constIssue(res: ConstResult & { ok: false }, what: string): Issue {
  return {
    severity: 'error',
    code: res.code ?? Codes.NotConstant,
    message: `${what}: ${res.reason ?? 'not a compile-time number'}`,
    node: res.node as AstNode,
  };
}

function callsOf(fn: ast.FunctionDecl): ast.Call[] {
  const exprs: AstNode[] = [];
  if (fn.body) exprs.push(fn.body);
  for (const g of fn.grads) if (g.expr) exprs.push(g.expr);
  return exprs.flatMap((e) => AstUtils.streamAst(e).filter(ast.isCall).toArray());
}

/** Binds positional and named arguments to parameter names. */
export function bindArgs(
  args: readonly ast.Argument[],
  params: readonly string[],
  required: number,
  what: string,
  codes: { count: Code; unknown: Code; missing?: Code },
  container: AstNode,
): { bound: (ast.Argument | undefined)[]; issues: Issue[] } {
  const bound: (ast.Argument | undefined)[] = new Array(params.length).fill(undefined);
  const issues: Issue[] = [];
  let positional = 0;
  let sawNamed = false;
  for (const a of args) {
    if (a.name === undefined) {
      if (sawNamed) {
        issues.push({
          severity: 'error',
          code: codes.count,
          message: `${what}: a positional argument cannot follow a named one`,
          node: a,
        });
        continue;
      }
      if (positional >= params.length) {
        issues.push({
          severity: 'error',
          code: codes.count,
          message: `${what} takes ${arityText(params.length, required)}, got ${args.length}`,
          node: a,
        });
        positional++;
        continue;
      }
      bound[positional++] = a;
    } else {
      sawNamed = true;
      const i = params.indexOf(a.name);
      if (i < 0) {
        issues.push({
          severity: 'error',
          code: codes.unknown,
          message:
            `${what} has no argument '${a.name}'` +
            (params.length ? `; its arguments are ${params.join(', ')}` : '; it takes no arguments'),
          node: a,
          property: 'name',
        });
      } else if (bound[i]) {
        issues.push({
          severity: 'error',
          code: codes.count,
          message: `${what}: argument '${a.name}' is given twice`,
          node: a,
          property: 'name',
        });
      } else {
        bound[i] = a;
      }
    }
  }
  const missing = params.filter((_p, i) => i < required && !bound[i]);
  if (missing.length > 0 && issues.length === 0) {
    issues.push({
      severity: 'error',
      code: codes.missing ?? codes.count,
      message: `${what} takes ${arityText(params.length, required)}, got ${args.length} (missing ${missing.join(', ')})`,
      node: container,
    });
  }
  return { bound, issues };
}

function arityText(max: number, min: number): string {
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (max === min) return n(max);
  return `${min} to ${n(max)}`;
}

// ---------------------------------------------------------------------------------------------
// User functions

export class FunctionAnalysis {
  readonly issues: Issue[] = [];
  /** Complete and free of errors (an incomplete expression is a syntax error reported elsewhere). */
  readonly ok: boolean;

  constructor(
    readonly doc: DocumentAnalysis,
    readonly fn: ast.FunctionDecl,
  ) {
    let ok = !!fn.name && fn.params.every((p) => !!p.name) && this.check(fn.body);
    for (const g of fn.grads) ok = this.check(g.expr) && !!g.arg?.ref && ok;
    // Duplicate grad lines
    const seen = new Map<string, ast.FunctionGrad>();
    for (const g of fn.grads) {
      const name = g.arg?.$refText ?? '';
      if (!g.arg?.ref) continue;
      const first = seen.get(name);
      if (first) {
        this.issues.push({
          severity: 'error',
          code: Codes.DuplicateGrad,
          message: `function '${fn.name}' already has a grad line for '${name}'`,
          node: g,
          property: 'arg',
        });
      } else seen.set(name, g);
    }
    this.ok = ok && !this.issues.some((i) => i.severity === 'error');
  }

  private err(code: Code, message: string, node: AstNode, property?: string): false {
    this.issues.push({ severity: 'error', code, message, node, property });
    return false;
  }

  /** Checks an elementwise scalar expression; false when it has an error. */
  private check(e: ast.Expression | undefined): boolean {
    if (!e) return false;
    const fname = `function '${this.fn.name}'`;
    if (ast.isNumberLit(e)) {
      return Number.isFinite(e.value) || this.err(Codes.InvalidNumber, `${e.value} is not a finite number`, e);
    }
    if (ast.isStringLit(e) || ast.isBoolLit(e)) {
      return this.err(Codes.TypeError, `${fname}: a ${ast.isStringLit(e) ? 'string' : 'boolean'} is not a number`, e);
    }
    if (ast.isNegExpr(e)) return this.check(e.operand);
    if (ast.isBinaryExpr(e)) {
      if (e.op === '@') {
        return this.err(
          Codes.FunctionNotElementwise,
          `${fname}: matmul @ is not elementwise; a function works on one scalar at a time ` +
            '(use @ in the model instead)',
          e,
          'op',
        );
      }
      const a = this.check(e.left);
      const b = this.check(e.right);
      return a && b;
    }
    if (ast.isPowExpr(e)) {
      const ok = this.check(e.base);
      const p = this.doc.evalConst(e.exponent);
      if (!p.ok) {
        if (p.node) this.issues.push(constIssue(p, 'the exponent of ^ must be a compile-time number'));
        return false;
      }
      return ok;
    }
    if (ast.isRef(e)) {
      const t = e.target?.ref;
      if (!t) {
        if (builtinFunction(e.target?.$refText ?? '')) {
          return this.err(Codes.NotAValue, `'${e.target?.$refText ?? ''}' is a function; call it: ${e.target?.$refText ?? ''}(x)`, e);
        }
        return false;
      }
      if (e.member !== undefined) {
        return this.err(Codes.UnknownMember, `'${refName(e)}': only a value defined with dense has .W and .b`, e);
      }
      if (ast.isFunctionParam(t)) {
        if (t.$container !== this.fn) return false;
        return true;
      }
      if (ast.isConstDecl(t)) return this.doc.constOf(t).ok;
      if (ast.isFunctionDecl(t)) {
        return this.err(Codes.NotAValue, `'${t.name}' is a function; call it: ${t.name}(x)`, e);
      }
      return this.err(Codes.UnknownName, `${fname} can only use its own arguments and consts, not ${describeSymbol(t)}`, e);
    }
    if (ast.isGradRef(e)) {
      return this.err(
        Codes.GradOutsideBackward,
        `'grad ${refName(e)}' can only be used inside a model's backward block`,
        e,
      );
    }
    if (ast.isCall(e)) {
      const argsOk = e.args.map((a) => (a.value ? this.check(a.value) : false)).every((x) => x);
      const callee = calleeFn(e);
      const name = calleeName(e);
      const notFn = notCallable(e);
      if (notFn) {
        this.issues.push(notFn);
        return false;
      }
      if (callee) {
        const cyc = this.doc.callCycles;
        if (cyc.inCycle(this.fn, callee)) {
          const path = cyc.path(this.fn, callee).map((f) => f.name);
          return this.err(Codes.Cycle, `function '${this.fn.name}' calls itself: ${path.join(' → ')}`, e, 'callee');
        }
        const { issues } = bindArgs(
          e.args,
          callee.params.map((p) => p.name),
          callee.params.length,
          `function '${callee.name}'`,
          { count: Codes.Arity, unknown: Codes.Arity },
          e,
        );
        this.issues.push(...issues);
        return argsOk && issues.length === 0;
      }
      const b = builtinFunction(name);
      if (!b) return false;
      if (!b.elementwise) {
        return this.err(
          Codes.FunctionNotElementwise,
          `${fname}: ${name} is not elementwise; a function works on one scalar at a time ` +
            `(call ${name} in the model instead)`,
          e,
          'callee',
        );
      }
      const { bound, issues } = bindArgs(e.args, b.params, b.required, b.name, { count: Codes.Arity, unknown: Codes.Arity }, e);
      this.issues.push(...issues);
      if (issues.length > 0) return false;
      if (b.kind === 'leaky_relu') {
        const alpha = this.doc.evalConst(bound[1]?.value);
        if (!alpha.ok) {
          if (alpha.node) this.issues.push(constIssue(alpha, 'leaky_relu: alpha must be a compile-time number'));
          return false;
        }
      }
      return argsOk;
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Models

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
        if (r.node) this.issues.push(constIssue(r, 'a dimension must be a compile-time integer'));
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
      const n = numel(result);
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
      const n = s ? numel(s) : NaN;
      total += n;
      parts.push([p.name, n]);
    }
    for (const d of this.dense.values()) {
      const w = numel(d.W);
      const b = numel(d.b);
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
      const n = numel(info.shape);
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

  private fromRule(e: AstNode, r: RuleResult, batched: boolean, operands: ExprInfo[], property?: string): ExprInfo | null {
    if ('error' in r) {
      this.issue(Codes.ShapeMismatch, r.error, e, property);
      return this.set(e, null);
    }
    return this.set(e, { shape: r.shape, batched }, operands);
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
        if (p.node) this.issues.push(constIssue(p, 'the exponent of ^ must be a compile-time number'));
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
    if (e.op === '@') return this.fromRule(e, matmulRule(a.shape, b.shape), batched, [a, b]);
    const r = elementwiseRule(e.op, a.shape, b.shape);
    if ('error' in r) return this.fromRule(e, r, batched, [a, b]);
    let value: number | undefined;
    if (a.value !== undefined && b.value !== undefined) {
      value = arith(e.op, a.value, b.value);
      if (!Number.isFinite(value)) {
        this.issue(Codes.InvalidNumber, `${a.value} ${e.op} ${b.value} is not a finite number`, e);
        return this.set(e, null);
      }
    }
    return this.set(e, { shape: r.shape, batched, value }, [a, b]);
  }

  private inferRef(e: ast.Ref): ExprInfo | null {
    const t = e.target?.ref;
    const name = e.target?.$refText ?? '';
    if (!t) {
      if (builtinFunction(name)) {
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
    const builtin = callee ? undefined : builtinFunction(name);
    const notFn = notCallable(e);
    if (notFn) this.issues.push(notFn);
    if (!callee && !builtin) {
      for (const a of e.args) if (a.value) this.infer(a.value, ctx);
      return this.set(e, null);
    }
    if (builtin?.kind === 'dense') return this.inferDense(e, builtin, ctx);
    const params = callee ? callee.params.map((p) => p.name) : (builtin as BuiltinFunction).params;
    const required = callee ? params.length : (builtin as BuiltinFunction).required;
    const what = callee ? `function '${name}'` : name;
    const { bound, issues } = bindArgs(e.args, params, required, what, { count: Codes.Arity, unknown: Codes.Arity }, e);
    // Infer every argument (reports errors inside them), then apply the rule.
    const infos = e.args.map((a) => {
      if (!a.value) return null;
      if (builtin?.kind === 'leaky_relu' && a === bound[1]) return { shape: [], batched: false } as ExprInfo;
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
    if (callee) {
      return this.fromRule(e, broadcastArgsRule(name, params.map((_, i) => arg(i).shape)), batched, all);
    }
    const b = builtin as BuiltinFunction;
    switch (b.kind) {
      case 'unary':
        return this.set(e, { shape: arg(0).shape, batched }, all);
      case 'leaky_relu': {
        const alpha = this.doc.evalConst(bound[1]?.value);
        if (!alpha.ok) {
          if (alpha.node) this.issues.push(constIssue(alpha, 'leaky_relu: alpha must be a compile-time number'));
          return this.set(e, null);
        }
        return this.set(e, { shape: arg(0).shape, batched: arg(0).batched }, [arg(0)]);
      }
      case 'reduce':
        return this.set(e, { shape: [], batched }, []);
      case 'last-axis':
        return this.fromRule(e, lastAxisRule(name, arg(0).shape), batched, all);
      case 'transpose':
        return this.fromRule(e, transposeRule(arg(0).shape), batched, all);
      case 'outer':
        return this.fromRule(e, outerRule(arg(0).shape, arg(1).shape), batched, all);
      case 'dot':
        return this.fromRule(e, dotRule(arg(0).shape, arg(1).shape), batched, all);
      case 'loss':
        return this.fromRule(e, lossRule(name, arg(0).shape, arg(1).shape), batched, []);
      default:
        return this.set(e, null);
    }
  }

  private inferDense(e: ast.Call, b: BuiltinFunction, ctx: Ctx): ExprInfo | null {
    const { bound, issues } = bindArgs(e.args, b.params, b.required, 'dense', { count: Codes.Arity, unknown: Codes.Arity }, e);
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
      if (n.node) this.issues.push(constIssue(n, 'dense: the number of units must be a compile-time integer'));
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
    const r = denseRule(inputInfo.shape, units);
    if ('error' in r) {
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
      if (inputInfo.tooLarge) return this.set(e, { shape: r.shape, batched: inputInfo.batched, tooLarge: true });
      this.issue(
        Codes.ModelTooLarge,
        `dense(${fmtShape(inputInfo.shape)}, ${units}) creates ${info.owner.name}.W: ${fmtShape(info.W)} with ` +
          `${fmtCount(wSize)} elements; the limit is ${fmtCount(MAX_PARAM_ELEMENTS)} per tensor`,
        e,
      );
      return this.set(e, { shape: r.shape, batched: inputInfo.batched, tooLarge: true });
    }
    return this.set(e, { shape: r.shape, batched: inputInfo.batched }, [inputInfo]);
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
      if (isUnaryFn(name)) return { kind: 'unary', fn: name };
      if (name === 'softmax' || name === 'log_softmax') return { kind: name };
      if (builtinFunction(name)) return bad(`'${name}' cannot be an activation`);
      return undefined; // unknown name, reported by linking
    }
    if (ast.isFunctionDecl(t)) {
      if (t.params.length !== 1) return bad(`function '${t.name}' takes ${t.params.length} arguments`);
      return { kind: 'call', fn: t };
    }
    return bad(`${describeSymbol(t)} is not a function`);
  }
}
