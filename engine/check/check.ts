/**
 * The gradient checker (§4, §5, §7): every gradient of a model compared with an independent
 * source, and every user-written derivative checked on its own.
 *
 * 1. Forward pass; NaN/Infinity → `non-finite` on the op that produced it.
 * 2. True gradients (automatic everywhere, user functions' grad lines ignored) and, when the
 *    model calls functions with grad lines, the gradients backpropagation actually uses.
 * 3. Each function `grad` line against a central difference of the body (./functions).
 * 4. Each backward line `grad X = EXPR`, evaluated with the TRUE per-example gradients in place
 *    of its `grad Y` references, against the true gradient of X: a line wrong on its own is a
 *    `grad-mismatch` error; a line right on its own but wrong as written (because it uses a
 *    wrong line) gets an info `grad-dependent` pointing to the root line(s).
 * 5. Params: analytic gradients against central differences of the loss, in float64 —
 *    `fast`: two random directions per tensor (Rademacher ±1, Gaussian); `full`: every element.
 *    Perturbations that carry a kink's input (relu/abs/leaky_relu at 0, a max tie, a kinky user
 *    function) across its kink are detected by comparing branch codes; a mismatch they explain
 *    is a `grad-kink` hint on that op. A mismatch explained by wrong function grad lines adds
 *    nothing (the line already has its error). Anything else is a `grad-unexplained` warning.
 */
import type { CheckOptions, Finding, IRModel, IRProgram, Range, Shape } from '../ir';
import { DEFAULT_CHECK_OPTIONS } from '../ir';
import { Codes } from '../codes';
import type { Backend } from '../kernels/backend';
import { jsBackend } from '../kernels/js';
import { compileFunctions } from '../functions';
import { compileModel, type Batch, type CompiledModel } from '../exec/program';
import { exampleNumber, findNonFiniteBackward, findNonFiniteForward, type NonFinite } from '../exec/nonfinite';
import { broadcastMap, formatIndex, sizeOf } from '../shape';
import { nodeEntry } from '../ops/index';
import { backwardLineValues, meanOverExamples, nodeOfName, PerExampleGrads } from '../exec/examples';
import { paramSeed } from '../init';
import { Rng } from '../rng';
import { describePattern, fmtErr, fmtNum, fmtTol, maxAbs, relError, worstOf } from './compare';
import { checkFunctionLines, type FunctionLineDetail } from './functions';
import { factorMeanings, squareMatmulsOf, valueLineCandidates } from './patterns';
import type { FunctionLib } from '../functions';
import { lossRoundoff, numericFloor } from './noise';

export interface CheckRunOptions extends Partial<CheckOptions> {
  /** Polled during the check; returning true stops it (the report says `cancelled`). */
  shouldStop?: () => boolean;
  onProgress?: (done: number, total: number) => void;
  /** A float64 backend (default: the register-blocked JavaScript one). */
  backend?: Backend;
  /** Fuse softmax/sigmoid with their losses (default true, as training does). */
  fuse?: boolean;
  /** Seed of the random directions of `fast` mode and of the functions' spread points. */
  seed?: number;
}

export interface ParamCheck {
  shape: Shape;
  /**
   * The largest relative error between the gradient backpropagation computes and the numeric
   * one, over the comparisons whose perturbation crossed no kink (NaN when not checked).
   */
  maxRelError: number;
  status: 'ok' | 'mismatch' | 'explained' | 'kink' | 'unchecked';
  /** The worst comparison: an element (`W1[3,0]`) or a direction. */
  worst: { where: string; analytic: number; numeric: number; relError: number } | null;
  comparisons: number;
  /** Comparisons whose perturbation crossed a kink (not counted in maxRelError). */
  kinkCrossings: number;
  /** The floor of the relative error used for this tensor. */
  floor: number;
}

export interface BackwardLineDetail {
  target: string;
  targetKind: 'param' | 'value';
  range: Range;
  status: 'ok' | 'wrong' | 'dependent' | 'unchecked';
  /** Relative error of the line evaluated with the true gradients it uses. */
  relError: number;
  /** Relative error of the line as written (with the user's own earlier lines). */
  relErrorAsWritten: number;
  /**
   * At the worst index: the line's value and the true gradient; `example` is the example's
   * number as messages say it (its row of the data set, else 1-based; null for a param's line).
   */
  worst: { where: string; example: number | null; user: number; truth: number } | null;
  pattern: string | null;
  /** For a dependent line: the wrong lines (targets) that make it wrong as written. */
  dependsOn: string[];
  message: string;
}

export interface KinkDetail {
  node: number;
  op: string;
  range: Range;
  /** The params whose perturbations crossed it with a mismatch. */
  params: string[];
  message: string;
}

export interface CheckReport {
  model: string;
  /** The loss on the check batch (mean over its examples). */
  loss: number;
  params: Record<string, ParamCheck>;
  findings: Finding[];
  functionLines: FunctionLineDetail[];
  backwardLines: BackwardLineDetail[];
  kinks: KinkDetail[];
  nonFinite: NonFinite | null;
  options: CheckOptions;
  examples: number;
  cancelled: boolean;
  /** Loss evaluations spent on central differences. */
  forwardPasses: number;
  /** The estimated rounding error of one loss evaluation (see ./noise). */
  roundoff: number;
}

class Cancelled extends Error {}

/**
 * Checks every gradient of `model` at `params` on `batch` (float64). With `examples` smaller
 * than the batch, only its first `examples` examples are used. Never throws for a problem of
 * the model (those are findings); throws only for unusable arguments (missing params or data,
 * a non-float64 backend).
 */
export function checkModel(
  program: IRProgram,
  model: IRModel,
  params: Readonly<Record<string, ArrayLike<number>>>,
  batch: Batch,
  options: CheckRunOptions = {},
): CheckReport {
  if (options.examples !== undefined && options.examples >= 1 && options.examples < batch.n)
    batch = firstExamples(model, batch, options.examples);
  const opts: CheckOptions = {
    examples: batch.n,
    eps: options.eps ?? DEFAULT_CHECK_OPTIONS.eps,
    tolerance: options.tolerance ?? DEFAULT_CHECK_OPTIONS.tolerance,
    mode: options.mode ?? DEFAULT_CHECK_OPTIONS.mode,
  };
  const backend = options.backend ?? jsBackend('f64');
  if (backend.dtype !== 'f64') throw new Error('the gradient check needs a float64 backend');
  const fuse = options.fuse ?? true;
  const seed = options.seed ?? 0;
  const { eps, tolerance: tol } = opts;

  const lib = compileFunctions(program.functions);
  const p = compileModel(program, model, backend, { grads: 'all', fuse, functionGrads: 'true', lib });
  p.setBatch(batch);
  p.setParams(params);
  const B = p.batchSize;

  const findings: Finding[] = [];
  const report: CheckReport = {
    model: model.name,
    loss: NaN,
    params: {},
    findings,
    functionLines: [],
    backwardLines: [],
    kinks: [],
    nonFinite: null,
    options: opts,
    examples: B,
    cancelled: false,
    forwardPasses: 0,
    roundoff: NaN,
  };
  for (const prm of model.params)
    report.params[prm.name] = {
      shape: prm.shape,
      maxRelError: NaN,
      status: 'unchecked',
      worst: null,
      comparisons: 0,
      kinkCrossings: 0,
      floor: NaN,
    };

  // ---- progress ----------------------------------------------------------------------------------
  const fnNames = new Set<string>();
  for (const id of p.forwardOrder) if (p.nodes[id].op === 'call') for (const f of lib.closure(p.nodes[id].fn!)) fnNames.add(f);
  const fnLineCount = [...fnNames].reduce((s, f) => s + lib.get(f).ir.grads.filter(Boolean).length, 0);
  const paramUnits = model.params.reduce((s, q) => s + (opts.mode === 'full' ? q.size : 2), 0);
  const total = fnLineCount + (model.backward?.length ?? 0) + paramUnits;
  let done = 0;
  const progress = (units: number) => {
    done += units;
    options.onProgress?.(done, total);
  };
  const stopIfAsked = () => {
    if (options.shouldStop?.()) throw new Cancelled();
  };

  try {
    // ---- 1. forward ------------------------------------------------------------------------------
    report.loss = p.forward();
    const nfF = findNonFiniteForward(p, batch.rows);
    if (nfF) {
      report.nonFinite = nfF;
      findings.push({ code: Codes.NonFinite, severity: 'error', message: nfF.message, range: nfF.range });
    }

    // ---- 2. true gradients, per-example truths, the gradients backprop uses -----------------
    let gradsOk = !nfF;
    const trueGrads: Record<string, Float64Array> = {};
    let truthPE = new Map<string, Float64Array>();
    const matmulGrads = new Map<number, Float64Array>();
    if (gradsOk) {
      p.backward();
      for (const prm of model.params) trueGrads[prm.name] = Float64Array.from(p.grads[prm.name]);
      if (Object.values(trueGrads).some((g) => g.some((x) => !Number.isFinite(x)))) {
        const nfB = findNonFiniteBackward(p, batch.rows);
        gradsOk = false;
        if (nfB) {
          report.nonFinite = nfB;
          findings.push({ code: Codes.NonFinite, severity: 'error', message: nfB.message, range: nfB.range });
        }
      }
    }
    if (gradsOk) {
      report.roundoff = lossRoundoff(p);
      truthPE = perExampleTruths(program, model, p, params, batch, backend, lib);
      // ∂Cⁿ/∂(W @ X) for the square weights a backward line's value X meets (the "W for Wᵀ" pattern)
      for (const l of model.backward ?? []) {
        const id = l.targetKind === 'value' ? nodeOfName(p, model, l.target) : undefined;
        if (id === undefined) continue;
        for (const m of squareMatmulsOf(p, id)) {
          if (matmulGrads.has(m.node)) continue;
          const buf = new Float64Array(B * p.slot(m.node).size);
          if (p.perExampleGrad(m.node, buf)) matmulGrads.set(m.node, buf);
        }
      }
    }
    let usedGrads = trueGrads;
    const usesGradLines = [...fnNames].some((f) => lib.get(f).ir.grads.some(Boolean));
    if (gradsOk && usesGradLines) {
      p.setFunctionGrads('user');
      p.backward();
      usedGrads = {};
      for (const prm of model.params) usedGrads[prm.name] = Float64Array.from(p.grads[prm.name]);
      p.setFunctionGrads('true');
    }

    // ---- 3. function grad lines ----------------------------------------------------------------
    const fnCheck = checkFunctionLines(
      lib,
      { eps, tolerance: tol, actual: actualPoints(p), seed },
      [...fnNames],
    );
    report.functionLines = fnCheck.details;
    findings.push(...fnCheck.findings);
    progress(fnLineCount);
    const wrongFunctionLine = fnCheck.details.some((d) => d.status === 'wrong');

    // ---- 4. backward lines -----------------------------------------------------------------------
    if (model.backward?.length) {
      if (gradsOk) {
        const r = checkBackwardLines(p, model, trueGrads, truthPE, tol, { program, lib, matmulGrads, rows: batch.rows });
        report.backwardLines = r.details;
        findings.push(...r.findings);
      }
      progress(model.backward.length);
    }
    stopIfAsked();

    // ---- 5. params against central differences -----------------------------------------------
    if (gradsOk) {
      const kinkHits = new Map<number, Set<string>>();
      for (const prm of model.params) {
        const pc = checkParam(p, prm.name, prm.shape, usedGrads[prm.name], trueGrads[prm.name], opts, report.roundoff, seed, {
          stopIfAsked,
          progress,
          kinkHits,
          onNonFinite: (when) => {
            if (report.nonFinite) return;
            const nf = findNonFiniteForward(p, batch.rows);
            if (!nf) return;
            nf.message = `${nf.message}, ${when}`;
            report.nonFinite = nf;
            findings.push({ code: Codes.NonFinite, severity: 'error', message: nf.message, range: nf.range });
          },
        });
        report.forwardPasses += pc.passes;
        report.params[prm.name] = pc.check;
        const prmDecl = model.params.find((q) => q.name === prm.name)!;
        if (pc.check.status === 'mismatch' || (pc.check.status === 'explained' && !wrongFunctionLine)) {
          const w = pc.check.worst!;
          const why =
            pc.check.status === 'explained'
              ? 'backpropagation through the grad lines of user functions disagrees with the numeric gradient'
              : 'the automatic and numeric gradients disagree, and no kink or user-written derivative explains it';
          findings.push({
            code: Codes.GradUnexplained,
            severity: 'warning',
            range: prmDecl.range,
            message: `gradient of ${prm.name}: ${why} — at ${w.where} analytic ${fmtNum(w.analytic)}, numeric ${fmtNum(w.numeric)} (relative error ${fmtErr(w.relError)} > tolerance ${fmtTol(tol)}); the step eps = ${fmtTol(eps)} may not suit this model`,
          });
        }
      }
      for (const [node, prms] of kinkHits) {
        const k = kinkDetail(p, node, [...prms]);
        report.kinks.push(k);
        findings.push({ code: Codes.GradKink, severity: 'hint', range: k.range, message: k.message });
      }
    }
  } catch (e) {
    if (!(e instanceof Cancelled)) throw e;
    report.cancelled = true;
  }
  return report;
}

/** The first n examples of a batch. */
function firstExamples(model: IRModel, batch: Batch, n: number): Batch {
  const data: Batch['data'] = {};
  for (const d of [...model.inputs, ...model.targets]) {
    const src = batch.data[d.name];
    if (src) data[d.name] = Array.prototype.slice.call(src, 0, n * sizeOf(d.shape)) as number[];
  }
  return batch.rows ? { n, data, rows: batch.rows.slice(0, n) } : { n, data };
}

// ---- per-example true gradients -----------------------------------------------------------------

/**
 * ∂Cⁿ/∂X for every X the backward block names (targets and `grad Y` references), [B, ...shape].
 */
function perExampleTruths(
  program: IRProgram,
  model: IRModel,
  p: CompiledModel,
  params: Readonly<Record<string, ArrayLike<number>>>,
  batch: Batch,
  backend: Backend,
  lib: ReturnType<typeof compileFunctions>,
): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  if (!model.backward) return out;
  const names = new Set<string>();
  for (const l of model.backward) {
    names.add(l.target);
    for (const u of l.uses) names.add(u);
  }
  const known = [...names].map((name) => ({ name, id: nodeOfName(p, model, name) })).filter((x) => x.id !== undefined);
  const grads = new PerExampleGrads(p, batch, () => {
    const p1 = compileModel(program, model, backend, { grads: 'all', fuse: p.fuse, functionGrads: 'true', lib });
    p1.setBatchSize(1);
    p1.setParams(params);
    return p1;
  }).ofMany(known.map((x) => x.id!));
  known.forEach((x, i) => out.set(x.name, grads[i]));
  return out;
}

// ---- backward lines -------------------------------------------------------------------------------

function checkBackwardLines(
  p: CompiledModel,
  model: IRModel,
  trueGrads: Record<string, Float64Array>,
  truthPE: Map<string, Float64Array>,
  tol: number,
  ctx: { program: IRProgram; lib: FunctionLib; matmulGrads: ReadonlyMap<number, Float64Array>; rows?: readonly number[] },
): { details: BackwardLineDetail[]; findings: Finding[] } {
  const factors = factorMeanings(p, model, ctx.program);
  const lines = model.backward!;
  const B = p.batchSize;
  const { givenTrue, written: asWritten } = backwardLineValues(p, (name) => truthPE.get(name));

  interface Cmp {
    user: Float64Array;
    truth: Float64Array;
    floor: number;
    perExample: boolean;
    shape: Shape;
  }
  const compareOf = (i: number, values: Float64Array): Cmp | null => {
    const l = lines[i];
    const id = nodeOfName(p, model, l.target);
    if (id === undefined) return null;
    const shape = p.slot(id).shape;
    const size = p.slot(id).size;
    if (l.targetKind === 'param' || p.paramNodeId(l.target) !== undefined) {
      const truth = trueGrads[l.target];
      if (!truth) return null;
      return { user: meanOverExamples(values, B, size), truth, floor: 0, perExample: false, shape };
    }
    const truth = truthPE.get(l.target);
    if (!truth) return null;
    return { user: values, truth, floor: 0, perExample: true, shape };
  };
  const cmps = lines.map((_, i) => compareOf(i, givenTrue[i]));
  const global = Math.max(0, ...cmps.map((c) => (c ? maxAbs(c.truth) : 0)));
  for (const c of cmps) if (c) c.floor = 1e-3 * Math.max(maxAbs(c.truth), 1e-6 * global, 1e-300);

  const where = (c: Cmp, k: number, target: string) => {
    if (!c.perExample) return { where: formatIndex(target, c.shape, k), example: null as number | null };
    const size = sizeOf(c.shape);
    // one example and no data rows: nothing to tell apart (a trace of one example)
    const e = Math.floor(k / size);
    return { where: formatIndex(target, c.shape, k % size), example: B === 1 && !ctx.rows ? null : exampleNumber(e, ctx.rows) };
  };

  const status: BackwardLineDetail['status'][] = [];
  const details: BackwardLineDetail[] = lines.map((l, i) => {
    const c = cmps[i];
    if (!c) {
      status[i] = 'unchecked';
      return {
        target: l.target,
        targetKind: l.targetKind,
        range: l.range,
        status: 'unchecked',
        relError: NaN,
        relErrorAsWritten: NaN,
        worst: null,
        pattern: null,
        dependsOn: [],
        message: `grad ${l.target} could not be checked`,
      };
    }
    const wT = worstOf(c.user, c.truth, c.floor);
    let wW = wT;
    let userW = c.user;
    if (asWritten) {
      userW = c.perExample ? asWritten[i] : meanOverExamples(asWritten[i], B, c.user.length);
      wW = worstOf(userW, c.truth, c.floor);
    }
    const wrong = !(wT.relError <= tol);
    const dependent = !wrong && !(wW.relError <= tol);
    status[i] = wrong ? 'wrong' : dependent ? 'dependent' : 'ok';
    const w = wrong ? wT : wW;
    const loc = where(c, Math.max(0, w.index), l.target);
    const sq = c.shape.length === 2 && c.shape[0] === c.shape[1] ? c.shape[0] : undefined;
    const targetId = c.perExample ? nodeOfName(p, model, l.target) : undefined;
    const pattern = wrong
      ? describePattern(c.user, c.truth, c.floor, tol, {
          square: sq,
          examples: c.perExample ? B : 1,
          worst: w.index,
          factors,
          candidates: targetId === undefined ? [] : valueLineCandidates(p, model, ctx.lib, targetId, ctx.matmulGrads),
        })
      : null;
    return {
      target: l.target,
      targetKind: l.targetKind,
      range: l.range,
      status: status[i],
      relError: wT.relError,
      relErrorAsWritten: wW.relError,
      worst: { where: loc.where, example: loc.example, user: w.a, truth: w.b },
      pattern,
      dependsOn: [],
      message: '',
    };
  });

  // roots of dependent lines: the wrong lines reached through `grad Y` references
  const lineIndex = new Map(lines.map((l, i) => [l.target, i]));
  const rootsOf = (i: number, seen = new Set<number>()): string[] => {
    const roots: string[] = [];
    for (const u of lines[i].uses) {
      const j = lineIndex.get(u);
      if (j === undefined || seen.has(j)) continue;
      seen.add(j);
      if (status[j] === 'wrong') roots.push(u);
      else if (status[j] === 'dependent') roots.push(...rootsOf(j, seen));
    }
    return [...new Set(roots)];
  };

  const findings: Finding[] = [];
  details.forEach((d, i) => {
    const w = d.worst;
    if (!w) return;
    const at = `${w.where}${w.example === null ? '' : ` (example ${w.example})`}`;
    if (d.status === 'wrong') {
      d.message = `grad ${d.target} is wrong${d.pattern ? `: ${d.pattern}` : ''} — at ${at} the line gives ${fmtNum(w.user)} but the true gradient is ${fmtNum(w.truth)} (relative error ${fmtErr(d.relError)} > tolerance ${fmtTol(tol)})`;
      findings.push({ code: Codes.GradMismatch, severity: 'error', range: d.range, message: d.message });
    } else if (d.status === 'dependent') {
      d.dependsOn = rootsOf(i);
      if (d.dependsOn.length === 0) {
        // right on its own and every line it uses is right: rounding accumulated along the chain
        d.status = 'ok';
      } else {
        const lineNo = (t: string) => lines[lineIndex.get(t)!].range.start.line + 1;
        const roots = d.dependsOn.map((t) => `grad ${t} (line ${lineNo(t)})`).join(', ');
        const which = `which ${d.dependsOn.length > 1 ? 'are' : 'is'} wrong`;
        // Name the chain when the wrong line is reached through lines that are right on their own.
        const via = lines[i].uses.filter((u) => {
          const j = lineIndex.get(u);
          return j !== undefined && status[j] === 'dependent' && !d.dependsOn.includes(u);
        });
        const uses = via.length
          ? `it uses ${via.map((u) => `grad ${u}`).join(', ')}, which depend${via.length > 1 ? '' : 's'} on ${roots}, ${which}`
          : `it uses ${roots}, ${which}`;
        d.message = `grad ${d.target} is right given the true gradients it uses, but ${uses} — as written it gives ${fmtNum(w.user)} at ${at} where the true gradient is ${fmtNum(w.truth)}`;
        findings.push({
          code: Codes.GradDependent,
          severity: 'info',
          range: d.range,
          message: d.message,
          related: d.dependsOn.map((t) => ({ range: lines[lineIndex.get(t)!].range, message: `grad ${t} is wrong` })),
        });
      }
    }
    if (d.status === 'ok')
      d.message = `grad ${d.target} matches the true gradient (largest relative error ${fmtErr(Math.max(d.relError, d.relErrorAsWritten))})`;
  });
  return { details, findings };
}

// ---- params --------------------------------------------------------------------------------------

interface ParamCtx {
  stopIfAsked: () => void;
  progress: (units: number) => void;
  /** kink node → params whose mismatching perturbations crossed it */
  kinkHits: Map<number, Set<string>>;
  /** Called when a perturbed loss is not finite (at the perturbed values). */
  onNonFinite: (where: string) => void;
}

/** Branch codes of every kink node a param's perturbation affects, at the center. */
class KinkWatch {
  private readonly nodes: number[];
  private readonly center: Int32Array[];
  private readonly scratch: Int32Array[];
  constructor(private readonly p: CompiledModel, param: string) {
    const id = p.paramNodeId(param);
    const dep = new Set<number>();
    for (const n of p.model.nodes) if (n.op === 'param' && n.name === param) dep.add(n.id);
    if (id !== undefined) dep.add(id);
    for (const k of p.forwardOrder) if (p.nodes[k].args.some((a) => dep.has(a))) dep.add(k);
    this.nodes = p.kinkNodes().filter((k) => dep.has(k));
    this.center = this.nodes.map((k) => new Int32Array(p.kinkSize(k)));
    this.scratch = this.nodes.map((k) => new Int32Array(p.kinkSize(k)));
    this.nodes.forEach((k, i) => p.writeKink(k, this.center[i]));
  }
  get empty(): boolean {
    return this.nodes.length === 0;
  }
  /** Kink nodes whose branch differs from the center now; pushes into `into`. */
  crossed(into: Set<number>): void {
    for (let i = 0; i < this.nodes.length; i++) {
      const s = this.scratch[i];
      this.p.writeKink(this.nodes[i], s);
      const c = this.center[i];
      for (let j = 0; j < s.length; j++)
        if (s[j] !== c[j]) {
          into.add(this.nodes[i]);
          break;
        }
    }
  }
}

function checkParam(
  p: CompiledModel,
  name: string,
  shape: Shape,
  used: Float64Array,
  truth: Float64Array,
  opts: CheckOptions,
  roundoff: number,
  seed: number,
  ctx: ParamCtx,
): { check: ParamCheck; passes: number } {
  const buf = p.params[name];
  const n = buf.length;
  const { eps, tolerance: tol } = opts;
  const floor = numericFloor(roundoff, eps, tol);
  const watch = new KinkWatch(p, name);
  const crossedNow = new Set<number>();
  let passes = 0;
  const check: ParamCheck = {
    shape,
    maxRelError: 0,
    status: 'ok',
    worst: null,
    comparisons: 0,
    kinkCrossings: 0,
    floor,
  };
  let trueMismatch = false;
  let usedMismatch = false;
  let kinkMismatch = false;
  const kinkNodesHit = new Set<number>();
  let worstUsed: ParamCheck['worst'] = null;
  let worstTrue: ParamCheck['worst'] = null;

  /**
   * Records one comparison. `again` re-evaluates the numeric derivative with twice the step:
   * called only for a comparison that fails, to tell truncation error from a real mismatch.
   */
  const record = (where: string, aUsed: number, aTrue: number, num: number, again: () => number) => {
    check.comparisons++;
    let f = floor;
    let rUsed = relError(aUsed, num, f);
    let rTrue = relError(aTrue, num, f);
    if (crossedNow.size) {
      check.kinkCrossings++;
      if (rTrue > tol) {
        kinkMismatch = true;
        for (const k of crossedNow) kinkNodesHit.add(k);
      }
      return;
    }
    if (!(Math.max(rUsed, rTrue) <= tol)) {
      const num2 = again();
      if (crossedNow.size === 0 && Number.isFinite(num2)) {
        f = Math.max(floor, (4 * Math.abs(num2 - num)) / 3 / tol);
        rUsed = relError(aUsed, num, f);
        rTrue = relError(aTrue, num, f);
      }
    }
    if (!(rUsed <= check.maxRelError)) check.maxRelError = rUsed;
    if (!worstUsed || rUsed > worstUsed.relError) worstUsed = { where, analytic: aUsed, numeric: num, relError: rUsed };
    if (!worstTrue || rTrue > worstTrue.relError) worstTrue = { where, analytic: aTrue, numeric: num, relError: rTrue };
    if (!(rTrue <= tol)) trueMismatch = true;
    if (!(rUsed <= tol)) usedMismatch = true;
  };

  let perturbedNonFinite = false;
  const evalAt = (index?: number): number => {
    passes++;
    const l = p.forwardAffected(name, index);
    if (!watch.empty) watch.crossed(crossedNow);
    if (!Number.isFinite(l)) perturbedNonFinite = true;
    return l;
  };

  try {
    if (opts.mode === 'full') {
      for (let i = 0; i < n; i++) {
        if ((i & 63) === 63) {
          ctx.stopIfAsked();
          ctx.progress(64);
        }
        const x = buf[i];
        const central = (h: number) => {
          buf[i] = x + h;
          const xp = buf[i];
          const lp = evalAt(i);
          buf[i] = x - h;
          const xm = buf[i];
          const lm = evalAt(i);
          buf[i] = x;
          return (lp - lm) / (xp - xm);
        };
        crossedNow.clear();
        perturbedNonFinite = false;
        const where = formatIndex(name, shape, i);
        const num = central(eps);
        if (perturbedNonFinite) {
          // the loss is not finite within the step: report where, once, and skip the comparison
          for (const h of [eps, -eps]) {
            buf[i] = x + h;
            if (Number.isFinite(p.forwardAffected(name, i))) continue;
            ctx.onNonFinite(`when ${where} is moved by ${fmtTol(h)}`);
            break;
          }
          buf[i] = x;
          p.forwardAffected(name, i);
        } else record(where, used[i], truth[i], num, () => central(2 * eps));
        p.settleElement(name, i);
      }
      ctx.progress(n % 64);
    } else {
      const rng = new Rng(paramSeed(seed, `direction:${name}`));
      const x0 = Float64Array.from(buf);
      const dirs: [string, Float64Array][] = [
        ['a random ±1 direction', Float64Array.from({ length: n }, () => rng.sign())],
        ['a random Gaussian direction', Float64Array.from({ length: n }, () => rng.normal())],
      ];
      const hp = new Float64Array(n);
      for (const [label, d] of dirs) {
        ctx.stopIfAsked();
        // returns the numeric directional derivative and the analytic ones along the realised step
        const central = (h: number) => {
          for (let i = 0; i < n; i++) buf[i] = x0[i] + h * d[i];
          for (let i = 0; i < n; i++) hp[i] = buf[i];
          const lp = evalAt();
          for (let i = 0; i < n; i++) buf[i] = x0[i] - h * d[i];
          let aUsed = 0;
          let aTrue = 0;
          for (let i = 0; i < n; i++) {
            const s = (hp[i] - buf[i]) / (2 * h); // the realised step, per unit of h
            aUsed += used[i] * s;
            aTrue += truth[i] * s;
          }
          const lm = evalAt();
          buf.set(x0);
          return { num: (lp - lm) / (2 * h), aUsed, aTrue };
        };
        crossedNow.clear();
        perturbedNonFinite = false;
        const c = central(eps);
        if (perturbedNonFinite) {
          for (const h of [eps, -eps]) {
            for (let i = 0; i < n; i++) buf[i] = x0[i] + h * d[i];
            if (Number.isFinite(p.forwardAffected(name))) continue;
            ctx.onNonFinite(`when ${name} is moved by ${fmtTol(h)} along ${label}`);
            break;
          }
          buf.set(x0);
          p.forwardAffected(name);
        } else record(`${name} along ${label}`, c.aUsed, c.aTrue, c.num, () => central(2 * eps).num);
        ctx.progress(1);
      }
    }
  } finally {
    p.forwardAffected(name); // restore the center values of everything downstream
  }

  if (check.comparisons === 0 && n > 0) {
    // every perturbation gave a non-finite loss
    check.status = 'unchecked';
    check.maxRelError = NaN;
  } else if (trueMismatch) {
    check.status = 'mismatch';
    check.worst = worstTrue;
  } else if (usedMismatch) {
    check.status = 'explained';
    check.worst = worstUsed;
  } else {
    check.status = kinkMismatch ? 'kink' : 'ok';
    check.worst = worstUsed;
  }
  if (kinkMismatch) for (const k of kinkNodesHit) (ctx.kinkHits.get(k) ?? ctx.kinkHits.set(k, new Set()).get(k)!).add(name);
  return { check, passes };
}

function kinkDetail(p: CompiledModel, node: number, params: string[]): KinkDetail {
  const n = p.nodes[node];
  const entry = nodeEntry(n);
  const op = n.op === 'call' ? (n.fn ?? 'call') : entry.name;
  const what = entry.kink?.explain(n) ?? `${op} has a kink within the step`;
  return {
    node,
    op,
    range: n.range,
    params,
    message: `${what}: the numeric gradient of ${params.join(', ')} across the kink is not a derivative, so its mismatch with the automatic one there is not an error`,
  };
}

// ---- the points the model evaluates its functions at --------------------------------------------

function actualPoints(p: CompiledModel): Map<string, number[][]> {
  const out = new Map<string, number[][]>();
  const B = p.batchSize;
  for (const id of p.forwardOrder) {
    const n = p.nodes[id];
    if (n.op !== 'call') continue;
    const s = p.slot(id);
    const args = n.args.map((a) => p.slot(a));
    const maps = args.map((a) => broadcastMap(s.shape, a.shape));
    const list = out.get(n.fn!) ?? [];
    const nb = s.batched ? B : 1;
    for (let e = 0; e < nb; e++)
      for (let i = 0; i < s.size; i++)
        list.push(args.map((a, j) => a.v[(a.batched ? e * a.size : 0) + (maps[j] ? maps[j]![i] : i)]));
    out.set(n.fn!, list);
  }
  return out;
}

