/**
 * Configuration values: param initializers, data sources, and the options of `train` and
 * `check`. Each reader returns the IR value (with defaults filled in) and the issues found; the
 * validators report the issues and lowering uses the values.
 */
import type { AstNode } from 'langium';
import { DATA_DEFAULTS } from '../engine/data/index';
import {
  DEFAULT_TRAIN_OPTIONS,
  type CheckOptions,
  type DataSpec,
  type InitSpec,
  type OptimizerSpec,
  type TrainOptions,
} from '../engine/ir';
import { bindArgs, calleeName, refName, type DocumentAnalysis, type Issue } from './analysis';
import {
  CHECK_OPTIONS,
  DATA_SOURCES,
  INITIALIZERS,
  OPTIMIZERS,
  TRAIN_OPTIONS,
  findCallable,
  formatInterval,
  inInterval,
  type ArgSpec,
  type ConfigCallable,
} from './builtins';
import { Codes, type Code } from '../engine/codes';
import * as ast from './generated/ast';

type Value = number | string | boolean | OptimizerSpec | null;
type Read<T> = { ok: true; value: T } | { ok: false };

interface ReadCodes {
  type: Code;
  range: Code;
  unknown: Code;
  count: Code;
  missing?: Code;
}

const DATA_CODES: ReadCodes = {
  type: Codes.ArgumentType,
  range: Codes.ArgumentRange,
  unknown: Codes.UnknownArgument,
  count: Codes.UnknownArgument,
  missing: Codes.MissingArgument,
};
const OPTION_CODES: ReadCodes = {
  type: Codes.OptionType,
  range: Codes.OptionRange,
  unknown: Codes.UnknownOption,
  count: Codes.UnknownOption,
};
const INIT_CODES: ReadCodes = {
  type: Codes.ArgumentType,
  range: Codes.ArgumentRange,
  unknown: Codes.UnknownInit,
  count: Codes.Arity,
};

function describeExpr(e: ast.Expression): string {
  const text = e.$cstNode?.text;
  if (text && text.length <= 40) return `'${text}'`;
  if (ast.isStringLit(e)) return 'a string';
  if (ast.isBoolLit(e)) return 'a boolean';
  return 'an expression';
}

/** The name of a bare word (`auto`, `zeros`, `sgd`), if the expression is one. */
export function wordOf(e: ast.Expression | undefined): string | undefined {
  return ast.isRef(e) && e.member === undefined ? (e.target?.$refText ?? '') : undefined;
}

class Reader {
  readonly issues: Issue[] = [];
  constructor(
    readonly doc: DocumentAnalysis,
    readonly codes: ReadCodes,
  ) {}

  err(code: Code, message: string, node: AstNode, property?: string): { ok: false } {
    this.issues.push({ severity: 'error', code, message, node, property });
    return { ok: false };
  }

  /** Reads one value according to its spec. `what` names it in messages ("lr", "circle: n"). */
  read(e: ast.Expression, spec: ArgSpec, what: string): Read<Value> {
    switch (spec.kind) {
      case 'number':
      case 'integer': {
        // a number that may also be a word (`threads: auto`)
        const w = spec.words ? wordOf(e) : undefined;
        if (w !== undefined && spec.words!.includes(w)) return { ok: true, value: w };
        if (w !== undefined && ast.isRef(e) && !e.target?.ref)
          return this.err(this.codes.type, `${what} must be ${spec.words!.join(' or ')} or ${spec.kind === 'integer' ? 'an integer' : 'a number'}, got '${w}'`, e);
        return this.number(e, spec, what);
      }
      case 'string':
        if (ast.isStringLit(e)) return { ok: true, value: e.value };
        return this.err(this.codes.type, `${what} must be a string ("…"), got ${describeExpr(e)}`, e);
      case 'boolean':
        if (ast.isBoolLit(e)) return { ok: true, value: e.value };
        return this.err(this.codes.type, `${what} must be true or false, got ${describeExpr(e)}`, e);
      case 'column': {
        if (ast.isStringLit(e)) return { ok: true, value: e.value };
        const r = this.doc.evalConst(e);
        if (r.ok && Number.isInteger(r.value) && r.value >= 0) return { ok: true, value: r.value };
        return this.err(
          this.codes.type,
          `${what} must be a column name ("…") or a 0-based column index, got ${describeExpr(e)}`,
          e,
        );
      }
      case 'word': {
        const w = wordOf(e);
        const words = spec.words ?? [];
        if (w !== undefined && words.includes(w)) return { ok: true, value: w };
        return this.err(this.codes.type, `${what} must be ${words.join(' or ')}, got ${describeExpr(e)}`, e);
      }
      case 'optimizer':
        return this.optimizer(e, what);
    }
  }

  private number(e: ast.Expression, spec: ArgSpec, what: string): Read<Value> {
    const kind = spec.kind === 'integer' ? 'an integer' : 'a number';
    if (ast.isRef(e) && !e.target?.ref && e.member === undefined) {
      return this.err(this.codes.type, `${what} must be ${kind}, got '${refName(e)}' (not a const)`, e);
    }
    const r = this.doc.evalConst(e);
    if (!r.ok) {
      const f = r.error;
      if (!f.node) return { ok: false };
      return this.err(f.code === Codes.InvalidNumber ? Codes.InvalidNumber : this.codes.type, `${what} must be ${kind}: ${f.reason}`, f.node);
    }
    if (spec.kind === 'integer' && !Number.isInteger(r.value)) {
      return this.err(this.codes.type, `${what} must be an integer, got ${r.value}`, e);
    }
    if (spec.range && !inInterval(r.value, spec.range)) {
      return this.err(this.codes.range, `${what} must be ${formatInterval(spec.range)}, got ${r.value}`, e);
    }
    return { ok: true, value: r.value };
  }

  /** Binds and reads the arguments of a callable; missing optional ones get their defaults. */
  args(
    callable: ConfigCallable,
    args: readonly ast.Argument[],
    container: AstNode,
    prefix: string,
  ): Read<Record<string, Value>> {
    const names = callable.args.map((a) => a.name);
    const required = callable.args.filter((a) => a.required).length;
    const { bound, issues } = bindArgs(
      args,
      names,
      required,
      callable.name,
      this.codes,
      container,
    );
    this.issues.push(...issues);
    let ok = issues.length === 0;
    const out: Record<string, Value> = {};
    callable.args.forEach((spec, i) => {
      const a = bound[i];
      if (!a?.value) {
        out[spec.name] = spec.default ?? null;
        return;
      }
      const r = this.read(a.value, spec, `${prefix}${spec.name}`);
      if (r.ok) out[spec.name] = r.value;
      else ok = false;
    });
    return ok ? { ok: true, value: out } : { ok: false };
  }

  private optimizer(e: ast.Expression, what: string): Read<Value> {
    const name = ast.isCall(e) ? calleeName(e) : wordOf(e);
    const opt = name !== undefined ? findCallable(OPTIMIZERS, name) : undefined;
    if (!opt) {
      return this.err(
        this.codes.type,
        `${what} must be sgd(lr: …, momentum: …) or adam(lr: …, beta1: …, beta2: …, eps: …), got ${describeExpr(e)}`,
        ast.isCall(e) ? e : e,
        ast.isCall(e) ? 'callee' : undefined,
      );
    }
    const r = this.args(opt, ast.isCall(e) ? e.args : [], e, `${opt.name}: `);
    if (!r.ok) return r;
    const v = r.value as Record<string, number>;
    const spec: OptimizerSpec =
      opt.name === 'sgd'
        ? { kind: 'sgd', lr: v.lr, momentum: v.momentum }
        : { kind: 'adam', lr: v.lr, beta1: v.beta1, beta2: v.beta2, eps: v.eps };
    return { ok: true, value: spec };
  }
}

// ---------------------------------------------------------------------------------------------

/** `param W: [..] = INIT`. */
export function readInit(doc: DocumentAnalysis, p: ast.ParamDecl): { init?: InitSpec; issues: Issue[] } {
  const reader = new Reader(doc, INIT_CODES);
  const e = p.init;
  if (!e) return { init: { kind: 'glorot' }, issues: [] };
  const name = ast.isCall(e) ? calleeName(e) : wordOf(e);
  const init = name !== undefined ? findCallable(INITIALIZERS, name) : undefined;
  if (!init) {
    reader.err(
      Codes.UnknownInit,
      `unknown initializer ${describeExpr(e)}; use zeros, ones, constant(v), normal(mean, std), uniform(lo, hi), glorot or he`,
      e,
    );
    return { issues: reader.issues };
  }
  const r = reader.args(init, ast.isCall(e) ? e.args : [], e, `${init.name}: `);
  if (!r.ok) return { issues: reader.issues };
  const v = r.value as Record<string, number>;
  let spec: InitSpec;
  switch (init.name) {
    case 'constant':
      spec = { kind: 'constant', value: v.value };
      break;
    case 'normal':
      spec = { kind: 'normal', mean: v.mean, std: v.std };
      break;
    case 'uniform':
      if (!(v.lo < v.hi)) {
        reader.err(Codes.ArgumentRange, `uniform: lo must be less than hi, got lo ${v.lo} and hi ${v.hi}`, e);
        return { issues: reader.issues };
      }
      spec = { kind: 'uniform', lo: v.lo, hi: v.hi };
      break;
    default:
      spec = { kind: init.name as 'zeros' | 'ones' | 'glorot' | 'he' };
  }
  return { init: spec, issues: reader.issues };
}

/** `data NAME = SOURCE`. */
export function readDataSpec(doc: DocumentAnalysis, d: ast.DataDecl): { spec?: DataSpec; issues: Issue[] } {
  const reader = new Reader(doc, DATA_CODES);
  const src = d.source;
  if (!src) return { issues: [] };
  if (ast.isTableSource(src)) return readTable(doc, reader, src);
  const name = ast.isCall(src) ? calleeName(src) : wordOf(src);
  const source = name !== undefined ? findCallable(DATA_SOURCES, name) : undefined;
  if (!source) {
    reader.err(
      Codes.UnknownSource,
      `unknown data source ${describeExpr(src)}; use xor(), circle(…), gauss(…), spiral(…), digits16(…), ` +
        'csv("file", …) or table { … }',
      src,
      ast.isCall(src) ? 'callee' : undefined,
    );
    return { issues: reader.issues };
  }
  const r = reader.args(source, ast.isCall(src) ? src.args : [], src, `${source.name}: `);
  if (!r.ok) return { issues: reader.issues };
  const v = r.value;
  const num = (k: string, dflt: number): number => (typeof v[k] === 'number' ? (v[k] as number) : dflt);
  let spec: DataSpec;
  switch (source.name) {
    case 'xor':
      spec = { kind: 'xor' };
      break;
    case 'circle':
    case 'gauss':
      spec = {
        kind: source.name,
        n: num('n', DATA_DEFAULTS.n),
        noise: num('noise', DATA_DEFAULTS.noise),
        seed: num('seed', DATA_DEFAULTS.seed),
      };
      break;
    case 'spiral': {
      spec = {
        kind: 'spiral',
        n: num('n', DATA_DEFAULTS.n),
        classes: num('classes', DATA_DEFAULTS.classes),
        noise: num('noise', DATA_DEFAULTS.noise),
        seed: num('seed', DATA_DEFAULTS.seed),
      };
      if (spec.classes > spec.n) {
        reader.err(Codes.ArgumentRange, `spiral: classes (${spec.classes}) must not exceed n (${spec.n})`, src);
        return { issues: reader.issues };
      }
      break;
    }
    case 'digits16':
      spec = { kind: 'digits16', limit: num('limit', DATA_DEFAULTS.limit), seed: num('seed', DATA_DEFAULTS.seed) };
      break;
    default: {
      const label = v.label;
      spec = {
        kind: 'csv',
        path: v.path as string,
        label: typeof label === 'string' || typeof label === 'number' ? label : null,
        classes: typeof v.classes === 'number' ? v.classes : null,
        normalize: v.normalize === true,
      };
      if (spec.path.trim() === '') {
        reader.err(Codes.ArgumentType, 'csv: the path is empty', src);
        return { issues: reader.issues };
      }
    }
  }
  return { spec, issues: reader.issues };
}

function readTable(doc: DocumentAnalysis, reader: Reader, t: ast.TableSource): { spec?: DataSpec; issues: Issue[] } {
  const rows: { x: number[]; y: number[] }[] = [];
  let ok = true;
  const readList = (l: ast.NumberList | undefined, row: number, side: string): number[] => {
    const out: number[] = [];
    for (const e of l?.values ?? []) {
      const r = doc.evalConst(e);
      if (r.ok) out.push(r.value);
      else {
        ok = false;
        if (r.error.node) reader.err(Codes.DataError, `table row ${row}, ${side}: ${r.error.reason ?? 'not a number'}`, r.error.node);
      }
    }
    return out;
  };
  t.rows.forEach((row, i) => {
    rows.push({ x: readList(row.x, i + 1, 'features'), y: readList(row.y, i + 1, 'label') });
  });
  if (rows.length === 0) {
    reader.err(Codes.DataError, 'table: a table needs at least one row [features] -> [label]', t, undefined);
    return { issues: reader.issues };
  }
  const dx = rows[0].x.length;
  const dy = rows[0].y.length;
  rows.forEach((r, i) => {
    const node = t.rows[i];
    if (r.x.length === 0 && node.x?.values.length === 0) {
      ok = false;
      reader.err(Codes.DataError, `table row ${i + 1}: no features`, node, 'x');
    } else if (r.x.length !== dx) {
      ok = false;
      reader.err(
        Codes.DataError,
        `table row ${i + 1} has ${r.x.length} feature${r.x.length === 1 ? '' : 's'}, row 1 has ${dx}`,
        node,
        'x',
      );
    }
    if (r.y.length === 0 && node.y?.values.length === 0) {
      ok = false;
      reader.err(Codes.DataError, `table row ${i + 1}: no label`, node, 'y');
    } else if (r.y.length !== dy) {
      ok = false;
      reader.err(
        Codes.DataError,
        `table row ${i + 1} has a label of ${r.y.length} value${r.y.length === 1 ? '' : 's'}, row 1 has ${dy}`,
        node,
        'y',
      );
    }
  });
  if (!ok) return { issues: reader.issues };
  return { spec: { kind: 'table', rows }, issues: reader.issues };
}

/** Reads the options of a `train` or `check` block against their specs. */
function readOptions(
  doc: DocumentAnalysis,
  options: readonly ast.Option[],
  specs: readonly ArgSpec[],
  block: string,
): { values: Map<string, { value: Value; option: ast.Option }>; issues: Issue[] } {
  const reader = new Reader(doc, OPTION_CODES);
  const values = new Map<string, { value: Value; option: ast.Option }>();
  const seen = new Set<string>();
  for (const o of options) {
    const spec = specs.find((s) => s.name === o.key);
    if (!spec) {
      reader.err(
        Codes.UnknownOption,
        `${block} has no option '${o.key}'; its options are ${specs.map((s) => s.name).join(', ')}`,
        o,
        'key',
      );
      continue;
    }
    if (seen.has(o.key)) {
      reader.err(Codes.DuplicateOption, `option '${o.key}' is given twice`, o, 'key');
      continue;
    }
    seen.add(o.key);
    if (!o.value) continue;
    const r = reader.read(o.value, spec, o.key);
    if (r.ok) values.set(o.key, { value: r.value, option: o });
  }
  return { values, issues: reader.issues };
}

export function readTrainOptions(doc: DocumentAnalysis, t: ast.TrainDecl): {
  options: TrainOptions;
  issues: Issue[];
  /** The `gradients: manual` option, when written. */
  manual?: ast.Option;
} {
  const { values, issues } = readOptions(doc, t.options, TRAIN_OPTIONS, 'train');
  const d = DEFAULT_TRAIN_OPTIONS;
  const get = <T>(k: string, dflt: T): T => (values.has(k) ? (values.get(k)?.value as T) : dflt);
  const options: TrainOptions = {
    optimizer: get<OptimizerSpec>('optimizer', { ...d.optimizer }),
    batch: get('batch', d.batch),
    epochs: get('epochs', d.epochs),
    split: get('split', d.split),
    seed: get('seed', d.seed),
    gradients: get('gradients', d.gradients),
  };
  if (values.has('threads')) options.threads = values.get('threads')!.value as number | 'auto';
  const manual = options.gradients === 'manual' ? values.get('gradients')?.option : undefined;
  return { options, issues, manual };
}

export function readCheckOptions(doc: DocumentAnalysis, c: ast.CheckDecl): {
  options: Partial<CheckOptions>;
  issues: Issue[];
} {
  const { values, issues } = readOptions(doc, c.options, CHECK_OPTIONS, 'check');
  const options: Partial<CheckOptions> = {};
  for (const [k, { value }] of values) (options as Record<string, Value>)[k] = value;
  return { options, issues };
}
