/**
 * Expressions of the language in a stop's scope — what `evaluate` (Debug Console, Watch, hovers)
 * and conditional breakpoints take: `W2 @ a1 + b2`, `grad z2 * a1`, `max(abs(grad z1)) > 1`.
 *
 * Nothing here knows what an op means. An expression becomes one more statement of the model,
 * `__nnlens_eval = (EXPR)`, in a copy of the file's text (its data, train and check blocks and
 * other models blanked out): the language parses it, checks its names and shapes with its own
 * rules (an error is the language's message), and lowers it to the engine's IR; the engine then
 * runs the model's forward pass, in float64 (float32 for a training batch), at the stop's
 * params and example, and the new statement's value is the answer. `grad X` — which the language
 * allows only inside a `backward` block — is first replaced by an extra input of X's shape that
 * is fed ∂Cⁿ/∂X (the Gradients scope's value). The answer depends only on the expression, so it
 * is computed once per expression and session; which names it reads tells whether it is in the
 * scope of a stop.
 */
import { dirname, join } from 'node:path';
import { AstUtils } from 'langium';
import { analyzeText, NnAst, type Analysis } from '../language';
import { compileModel } from '../engine/exec/program';
import { jsBackend } from '../engine/kernels/js';
import { err, ok, type Result } from '../engine/result';
import { fmtShape } from './format';

export const EVAL_NAME = '__nnlens_eval';

/** A named tensor the evaluator can read. */
export interface EnvTensor {
  /** Per-example shape. */
  shape: number[];
  /** [n, ...shape] when `batched`, else [...shape]. */
  value: ArrayLike<number>;
  batched: boolean;
}

/** The numbers expressions are evaluated on: one example of a trace, or a training batch. */
export interface EvalEnv {
  /** Examples (1 for a trace). */
  n: number;
  /** Params by name (`h.W` for dense ones), flat row-major. */
  params: Readonly<Record<string, ArrayLike<number>>>;
  /** Inputs and targets by name, [n, ...shape]. */
  data: Readonly<Record<string, ArrayLike<number>>>;
  /** Every named tensor (inputs, targets, params, values, the loss), for names alone. */
  named: ReadonlyMap<string, EnvTensor>;
  /** ∂Cⁿ/∂X by X, per example ([n, ...shape]). */
  grads: ReadonlyMap<string, EnvTensor>;
  /** Why `grad X` has no value when X is not in `grads` (default: no gradient named X). */
  noGrad?: (name: string) => string | undefined;
  precision: 'f64' | 'f32';
}

export interface Evaluated {
  /** Per-example shape. */
  shape: number[];
  batched: boolean;
  /** n × size when batched, else size numbers. */
  value: Float64Array;
  /** Named tensors it reads (values, params, inputs, targets). */
  refs: string[];
  /** X of every `grad X` it reads. */
  gradRefs: string[];
}

const NAME = String.raw`[\p{L}_][\p{L}\p{N}_]*`;
const GRAD_REF = new RegExp(String.raw`(?<![\p{L}\p{N}_])grad\s+(${NAME}(?:\s*\.\s*${NAME})?)`, 'gu');
const ONLY_NAME = new RegExp(String.raw`^(${NAME}(?:\.${NAME})?)$`, 'u');
const ONLY_GRAD = new RegExp(String.raw`^grad\s+(${NAME}(?:\s*\.\s*${NAME})?)$`, 'u');

export class Evaluator {
  private readonly cache = new Map<string, Promise<Result<Evaluated, string>>>();
  private readonly base: { text: string; insertAt: number; uri: string } | null;

  constructor(
    analysis: Analysis,
    readonly model: string,
    readonly env: EvalEnv,
  ) {
    this.base = baseText(analysis, model);
  }

  /** The value of an expression (cached), or the language's or the engine's reason why not. */
  evaluate(expression: string): Promise<Result<Evaluated, string>> {
    const key = expression.trim();
    let r = this.cache.get(key);
    if (!r) {
      r = this.compute(key).catch((e: unknown) => err(`cannot evaluate ${key}: ${e instanceof Error ? e.message : String(e)}`));
      this.cache.set(key, r);
    }
    return r;
  }

  private async compute(expr: string): Promise<Result<Evaluated, string>> {
    const r = await this.computeInLanguage(expr);
    if (r.ok) return r;
    const cmp = splitComparison(expr);
    return cmp ? this.compare(cmp) : r;
  }

  /**
   * `A > B` while the language has no comparisons yet (§9 adds them; once it parses them this
   * is never reached): both sides in the language, compared elementwise (1 where true, 0 where
   * not) when their shapes are equal or one is a scalar.
   */
  private async compare(c: { left: string; op: string; right: string }): Promise<Result<Evaluated, string>> {
    const a = await this.evaluate(c.left);
    if (!a.ok) return a;
    const b = await this.evaluate(c.right);
    if (!b.ok) return b;
    const x = a.value;
    const y = b.value;
    const scalarX = x.shape.length === 0;
    const scalarY = y.shape.length === 0;
    if (!scalarX && !scalarY && x.shape.join() !== y.shape.join()) {
      return err(`${c.op} of ${fmtShape(x.shape)} and ${fmtShape(y.shape)}: a comparison needs equal shapes or a scalar side`);
    }
    const shape = scalarX ? y.shape : x.shape;
    const batched = x.batched || y.batched;
    const n = batched ? this.env.n : 1;
    const size = shape.reduce((p, d) => p * d, 1);
    const at = (t: Evaluated, e: number, i: number) => {
      const tsize = t.shape.reduce((p, d) => p * d, 1);
      return t.value[(t.batched ? e * tsize : 0) + (tsize === 1 ? 0 : i)];
    };
    const test = COMPARE[c.op];
    const value = new Float64Array(n * size);
    for (let e = 0; e < n; e++) for (let i = 0; i < size; i++) value[e * size + i] = test(at(x, e, i), at(y, e, i)) ? 1 : 0;
    return ok({
      shape,
      batched,
      value,
      refs: [...new Set([...x.refs, ...y.refs])],
      gradRefs: [...new Set([...x.gradRefs, ...y.gradRefs])],
    });
  }

  private async computeInLanguage(expr: string): Promise<Result<Evaluated, string>> {
    if (!expr) return err('nothing to evaluate: write an expression of the language, e.g. W2 @ a1 + b2');
    // a name or `grad X` alone: read it
    const name = ONLY_NAME.exec(expr)?.[1];
    if (name !== undefined && this.env.named.has(name)) {
      const t = this.env.named.get(name)!;
      return ok({ shape: t.shape, batched: t.batched, value: Float64Array.from(t.value), refs: [name], gradRefs: [] });
    }
    const only = ONLY_GRAD.exec(expr)?.[1];
    if (only !== undefined) {
      const x = only.replace(/\s+/g, '');
      const g = this.env.grads.get(x);
      if (!g) return err(this.noGrad(x));
      return ok({ shape: g.shape, batched: g.batched, value: Float64Array.from(g.value), refs: [], gradRefs: [x] });
    }
    if (!this.base) return err(`model ${this.model} is not in the file any more`);

    // `grad X` → an input of X's shape fed with ∂Cⁿ/∂X
    const aliases = new Map<string, string>();
    const byName = new Map<string, string>();
    let missing: string | null = null;
    const rewritten = expr.replace(GRAD_REF, (_m, target: string) => {
      const x = target.replace(/\s+/g, '');
      if (!this.env.grads.has(x)) {
        missing ??= x;
        return _m;
      }
      let alias = byName.get(x);
      if (!alias) {
        alias = `__nnlens_g${byName.size}`;
        byName.set(x, alias);
        aliases.set(alias, x);
      }
      return alias;
    });
    if (missing !== null) return err(this.noGrad(missing));
    const decls = [...aliases].map(([alias, x]) => `  input ${alias}: ${fmtShape(this.env.grads.get(x)!.shape)}\n`).join('');
    const { text, insertAt, uri } = this.base;
    const insertion = `\n${decls}  ${EVAL_NAME} = (${rewritten}\n  )\n`;
    const synthetic = text.slice(0, insertAt) + insertion + text.slice(insertAt);
    const a = await analyzeText(synthetic, { uri });

    const explain = (msg: string) => cleanMessage(msg, aliases);
    const firstError = a.diagnostics.find((d) => d.severity === 'error');
    if (firstError) {
      const exprEnd = insertAt + insertion.indexOf(rewritten) + rewritten.length;
      if (offsetOf(synthetic, firstError.range.start) >= exprEnd) {
        return err(`${expr} is incomplete: ${explain(firstError.message).replace(/ but found .*$/, '')} at its end`);
      }
      return err(explain(firstError.message));
    }
    const m = a.program.models.find((x) => x.name === this.model);
    const v = m?.values.find((x) => x.name === EVAL_NAME);
    if (!m || !v) return err(`cannot evaluate ${expr}: the model does not lower with it`);

    // the names it reads
    const refs = new Set<string>();
    const gradRefs = new Set<string>();
    const decl = findEvalDecl(a, this.model);
    if (decl?.expr) {
      for (const n of AstUtils.streamAst(decl.expr)) {
        if (!NnAst.isRef(n)) continue;
        const ref = n.target?.$refText ?? '';
        const full = n.member ? `${ref}.${n.member}` : ref;
        const g = aliases.get(ref);
        if (g !== undefined) gradRefs.add(g);
        else if (this.env.named.has(full)) refs.add(full);
        else if (this.env.named.has(ref)) refs.add(ref);
      }
    }

    const p = compileModel(a.program, m, jsBackend(this.env.precision), { grads: 'params', fuse: true });
    const data: Record<string, ArrayLike<number>> = { ...this.env.data };
    for (const [alias, x] of aliases) {
      const g = this.env.grads.get(x)!;
      if (g.batched) data[alias] = g.value;
      else {
        // one gradient for the whole batch (a training batch's ∂C/∂W): the same for every example
        const all = new Float64Array(g.value.length * this.env.n);
        for (let e = 0; e < this.env.n; e++) all.set(Array.from(g.value), e * g.value.length);
        data[alias] = all;
      }
    }
    const full: Record<string, Float64Array | Float32Array | number[]> = {};
    for (const [k, val] of Object.entries(data)) full[k] = Array.isArray(val) || val instanceof Float64Array || val instanceof Float32Array ? val : Array.from(val);
    p.setBatch({ n: this.env.n, data: full });
    p.setParams(this.env.params);
    p.forward();
    const slot = p.slot(v.node);
    const len = slot.size * (slot.batched ? this.env.n : 1);
    return ok({
      shape: slot.shape.slice(),
      batched: slot.batched,
      value: Float64Array.from(p.value(v.node).subarray(0, len)),
      refs: [...refs],
      gradRefs: [...gradRefs],
    });
  }

  private noGrad(x: string): string {
    const why = this.env.noGrad?.(x);
    if (why) return why;
    if (this.env.named.has(x)) return `grad ${x}: ${x} has no gradient`;
    return `grad ${x}: there is no tensor named ${x} in model ${this.model}`;
  }
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/** `A op B` with exactly one comparison outside parentheses, or null. */
export function splitComparison(expr: string): { left: string; op: string; right: string } | null {
  let depth = 0;
  let found: { at: number; op: string } | null = null;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (depth === 0 && (ch === '>' || ch === '<' || ch === '=' || ch === '!')) {
      const two = expr.slice(i, i + 2);
      const op = ['>=', '<=', '==', '!='].includes(two) ? two : ch === '>' || ch === '<' ? ch : null;
      if (!op) return null;
      if (found) return null;
      found = { at: i, op };
      i += op.length - 1;
    }
  }
  if (!found) return null;
  const left = expr.slice(0, found.at).trim();
  const right = expr.slice(found.at + found.op.length).trim();
  return left && right ? { left, op: found.op, right } : null;
}

/** The file's text with everything but its consts, functions and the model blanked out (lines kept). */
function baseText(analysis: Analysis, model: string): { text: string; insertAt: number; uri: string } | null {
  const doc = analysis.document;
  let text = doc.textDocument.getText();
  const root = doc.parseResult.value;
  let insertAt = -1;
  const blank = (from: number, to: number) => {
    text = text.slice(0, from) + text.slice(from, to).replace(/[^\n\r]/g, ' ') + text.slice(to);
  };
  for (const d of root.declarations) {
    const cst = d.$cstNode;
    if (!cst) continue;
    if (NnAst.isModelDecl(d) && d.name === model) {
      insertAt = cst.end - 1; // before its closing brace
      continue;
    }
    if (NnAst.isConstDecl(d) || NnAst.isFunctionDecl(d)) continue;
    blank(cst.offset, cst.end);
  }
  if (insertAt < 0 || text[insertAt] !== '}') return null;
  const path = doc.uri.fsPath;
  return { text, insertAt, uri: join(dirname(path), '.nnlens-evaluate.nn') };
}

function findEvalDecl(a: Analysis, model: string): NnAst.ValueDecl | undefined {
  const m = a.document.parseResult.value.declarations.find((d): d is NnAst.ModelDecl => NnAst.isModelDecl(d) && d.name === model);
  return m?.members.find((x): x is NnAst.ValueDecl => NnAst.isValueDecl(x) && x.name === EVAL_NAME);
}

function offsetOf(text: string, pos: { line: number; character: number }): number {
  let offset = 0;
  for (let l = 0; l < pos.line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  return offset + pos.character;
}

/** The language's message, in the words of the expression the user typed. */
function cleanMessage(msg: string, aliases: ReadonlyMap<string, string>): string {
  let out = msg;
  for (const [alias, x] of aliases) out = out.split(`'${alias}'`).join(`'grad ${x}'`).split(alias).join(`grad ${x}`);
  out = out.split(`'${EVAL_NAME}'`).join('the expression').split(EVAL_NAME).join('the expression');
  return out;
}
