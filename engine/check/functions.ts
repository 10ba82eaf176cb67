/**
 * Checking the `grad` lines of user functions (§4), each on its own: the user's expression
 * against a central difference of the function's body, at the points the model actually
 * evaluates the function at plus a spread of points (a grid over [-3, 3]; for functions of
 * several arguments, combinations). Points where the body is not finite, or where a kink of
 * relu/abs/leaky_relu inside the body lies within the step, are skipped.
 *
 * Relative error: |user − numeric| / max(|user|, |numeric|, floor) with
 *   floor = (8 · ε_mach · M / h + 4 · T) / tolerance
 *   M = max(|f(x)|, |f(x ± h)|, |x_j · numeric|)          roundoff ≈ ε·M/h
 *   T = |D(2h) − D(h)| / 3                               truncation of D(h) (≈ h² f'''/6)
 * i.e. the error a central difference D of step h = eps · max(1, |x_j|) can have, divided by the
 * tolerance: neither roundoff nor truncation alone can exceed the tolerance.
 */
import type { Finding, IRFunction, Range } from '../ir';
import { compileFunctions, type CompiledFunction, type FunctionLib } from '../functions';
import { Rng } from '../rng';
import { Codes } from '../codes';
import { describePattern, fmtErr, fmtNum, fmtTol, relError } from './compare';

const EPS_MACH = 2.220446049250313e-16;

export interface FunctionLineDetail {
  function: string;
  /** The argument the line differentiates by (its name and index). */
  arg: string;
  argIndex: number;
  /** The `grad ARG = EXPR` line. */
  range: Range;
  status: 'ok' | 'wrong' | 'unchecked';
  /** Points compared, and points skipped (body not finite there, or a kink within the step). */
  points: number;
  skipped: number;
  /** The largest relative error over the compared points. */
  relError: number;
  worst: { at: number[]; user: number; numeric: number } | null;
  pattern: string | null;
  /** One sentence for a hover or a diagnostic. */
  message: string;
}

export interface FunctionCheckOptions {
  eps: number;
  tolerance: number;
  /** Points where the model evaluates each function (argument tuples), by function name. */
  actual?: ReadonlyMap<string, readonly number[][]>;
  /** At most this many of the actual points per function (evenly sampled). Default 512. */
  maxActual?: number;
  seed?: number;
}

/** The spread of points a grad line is checked at, besides the model's own. */
export function gridPoints(arity: number, seed = 0): number[][] {
  const pts: number[][] = [];
  if (arity === 0) return [[]];
  if (arity === 1) {
    for (let i = 0; i <= 60; i++) pts.push([(i - 30) / 10]);
  } else if (arity === 2) {
    for (let i = 0; i <= 12; i++) for (let j = 0; j <= 12; j++) pts.push([(i - 6) / 2, (j - 6) / 2]);
  } else if (arity === 3) {
    for (let i = 0; i <= 6; i++) for (let j = 0; j <= 6; j++) for (let k = 0; k <= 6; k++) pts.push([i - 3, j - 3, k - 3]);
  } else {
    const rng = new Rng(seed + 7919);
    for (let p = 0; p < 300; p++) pts.push(Array.from({ length: arity }, () => rng.range(-3, 3)));
  }
  return pts;
}

function sample(points: readonly number[][], max: number): number[][] {
  const seen = new Set<string>();
  const uniq: number[][] = [];
  for (const p of points) {
    const k = p.join(',');
    if (seen.has(k)) continue;
    seen.add(k);
    uniq.push(p);
  }
  if (uniq.length <= max) return uniq;
  const out: number[][] = [];
  for (let i = 0; i < max; i++) out.push(uniq[Math.floor((i * uniq.length) / max)]);
  return out;
}

function argsText(fn: CompiledFunction, at: readonly number[]): string {
  return fn.ir.params.map((p, i) => `${p} = ${fmtNum(at[i])}`).join(', ');
}

/** Checks one grad line of one function. */
export function checkFunctionLine(fn: CompiledFunction, j: number, opts: FunctionCheckOptions): FunctionLineDetail {
  const line = fn.ir.grads[j];
  const user = fn.dUser[j];
  if (!line || !user) throw new Error(`${fn.name} has no grad line for argument ${j}`);
  const { eps, tolerance: tol } = opts;
  const pts = [...sample(opts.actual?.get(fn.name) ?? [], opts.maxActual ?? 512), ...gridPoints(fn.arity, opts.seed)];
  const us: number[] = [];
  const ns: number[] = [];
  const floors: number[] = [];
  const at: number[][] = [];
  let skipped = 0;
  const x = new Array<number>(fn.arity);
  for (const p of pts) {
    for (let k = 0; k < fn.arity; k++) x[k] = p[k];
    const f0 = fn.f(...x);
    const sig0 = fn.kinkSig ? fn.kinkSig(...x) : 0;
    const u = user(...x);
    const xj = p[j];
    const h = eps * Math.max(1, Math.abs(xj));
    x[j] = xj + h;
    const fp = fn.f(...x);
    const sp = fn.kinkSig ? fn.kinkSig(...x) : 0;
    const xp = x[j];
    x[j] = xj - h;
    const fm = fn.f(...x);
    const sm = fn.kinkSig ? fn.kinkSig(...x) : 0;
    const xm = x[j];
    x[j] = xj;
    if (!Number.isFinite(f0) || !Number.isFinite(fp) || !Number.isFinite(fm) || sp !== sig0 || sm !== sig0) {
      skipped++;
      continue;
    }
    const num = (fp - fm) / (xp - xm);
    // truncation: compare with the central difference of twice the step
    x[j] = xj + 2 * h;
    const fp2 = fn.f(...x);
    const sp2 = fn.kinkSig ? fn.kinkSig(...x) : 0;
    const xp2 = x[j];
    x[j] = xj - 2 * h;
    const fm2 = fn.f(...x);
    const sm2 = fn.kinkSig ? fn.kinkSig(...x) : 0;
    const xm2 = x[j];
    x[j] = xj;
    const num2 = (fp2 - fm2) / (xp2 - xm2);
    const trunc = Number.isFinite(num2) && sp2 === sig0 && sm2 === sig0 ? Math.abs(num2 - num) / 3 : 0;
    const M = Math.max(Math.abs(f0), Math.abs(fp), Math.abs(fm), Math.abs(xj * num));
    floors.push((8 * EPS_MACH * M) / h / tol + (4 * trunc) / tol);
    us.push(u);
    ns.push(num);
    at.push([...p]);
  }
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < us.length; i++) {
    const r = relError(us[i], ns[i], floors[i]);
    if (worst < 0 || r > worstErr || Number.isNaN(r)) {
      worst = i;
      worstErr = Number.isNaN(r) ? Infinity : r;
    }
  }
  const argName = fn.ir.params[j];
  const head = `grad ${argName} of ${fn.name}`;
  if (worst < 0) {
    return {
      function: fn.name,
      arg: argName,
      argIndex: j,
      range: line.range,
      status: 'unchecked',
      points: 0,
      skipped,
      relError: 0,
      worst: null,
      pattern: null,
      message: `${head} could not be checked: the body is not finite (or has a kink) at every point tried`,
    };
  }
  const wrong = worstErr > tol;
  let pattern: string | null = null;
  if (wrong) {
    // compare shapes point by point on a common scale
    const un = us.map((u, i) => u / Math.max(Math.abs(u), Math.abs(ns[i]), floors[i]));
    const nn = ns.map((n, i) => n / Math.max(Math.abs(us[i]), Math.abs(n), floors[i]));
    pattern = describePattern(un, nn, 1, Math.max(10 * tol, 1e-9), {
      worst,
      zeroWording: 'the line gives 0 where the numeric derivative is not: a missing path',
    });
  }
  const w = { at: at[worst], user: us[worst], numeric: ns[worst] };
  const message = wrong
    ? `${head} is wrong${pattern ? `: ${pattern}` : ''} — at ${argsText(fn, w.at)} the line gives ${fmtNum(w.user)} but the derivative of the body is ${fmtNum(w.numeric)} (relative error ${fmtErr(worstErr)} > tolerance ${fmtTol(tol)})`
    : `${head} matches the numeric derivative of the body at ${us.length} points (largest relative error ${fmtErr(worstErr)})`;
  return {
    function: fn.name,
    arg: argName,
    argIndex: j,
    range: line.range,
    status: wrong ? 'wrong' : 'ok',
    points: us.length,
    skipped,
    relError: worstErr,
    worst: w,
    pattern,
    message,
  };
}

/** Checks every grad line of the named functions (all functions when `names` is omitted). */
export function checkFunctionLines(
  lib: FunctionLib,
  opts: FunctionCheckOptions,
  names?: readonly string[],
): { details: FunctionLineDetail[]; findings: Finding[] } {
  const details: FunctionLineDetail[] = [];
  const findings: Finding[] = [];
  for (const fn of lib.all()) {
    if (names && !names.includes(fn.name)) continue;
    fn.ir.grads.forEach((g, j) => {
      if (!g) return;
      const d = checkFunctionLine(fn, j, opts);
      details.push(d);
      if (d.status === 'wrong') findings.push({ code: Codes.GradMismatch, severity: 'error', message: d.message, range: d.range });
    });
  }
  return { details, findings };
}

/**
 * Checks the grad lines of every function of a program on the spread of points alone (for
 * functions no model calls; `checkModel` checks the others at the model's points too).
 */
export function checkFunctions(
  program: { functions: readonly IRFunction[] },
  opts: Omit<FunctionCheckOptions, 'actual'>,
  lib: FunctionLib = compileFunctions(program.functions),
): { details: FunctionLineDetail[]; findings: Finding[] } {
  return checkFunctionLines(lib, opts);
}
