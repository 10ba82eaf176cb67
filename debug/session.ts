/**
 * The debug adapter of `nnlens dap` (§11): the Debug Adapter Protocol over a model's forward and
 * backward pass, on @vscode/debugadapter.
 *
 * Mode "check" (the default) steps through the trace of one example (./stops.ts): next/stepIn go
 * to the next stop, stepOut to the next pass, continue to the next breakpoint (a line of the
 * model, with an optional condition: an expression of the language), stepBack and
 * reverseContinue go back — the run is deterministic. Mode "train" runs the `train` block and
 * stops on the first op that produces NaN or Infinity (./train-run.ts).
 *
 * Variables: the scopes Values, Params and Gradients; a tensor's type is its shape, its children
 * are its rows, then its elements, paged by `start`/`count`. `evaluate` takes an expression of
 * the language (./evaluator.ts), in the stop's scope. A bad launch, a bad expression or anything
 * unexpected is an error response, never a crash of the adapter.
 */
import { basename, resolve } from 'node:path';
import {
  Breakpoint,
  DebugSession,
  Handles,
  InitializedEvent,
  OutputEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { err, ok, type Result } from '../engine/result';
import type { EvalEnv, Evaluated } from './evaluator';
import { Evaluator } from './evaluator';
import { fmt6, fmtShape, nestedFull, summary, withShape } from './format';
import { prepareLaunch, type CheckLaunch, type Launch, type LaunchArguments, type TrainLaunch } from './launch';
import { scopeAt, type ScopeTensor, type Stop } from './stops';
import { TrainRun, type TrainEnd } from './train-run';

const THREAD = 1;
const FRAME = 1;

/** Custom request of the VS Code extension: the text to show at the end of each executed line. */
export const INLINE_VALUES_REQUEST = 'nnlens/inlineValues';
export interface InlineValuesBody {
  values: { line: number; text: string }[];
}

type Ref =
  | { kind: 'scope'; tensors: ScopeTensor[] }
  | { kind: 'tensor'; value: ArrayLike<number>; shape: number[]; offset: number };

/** Where a session is stopped, whatever the mode. */
interface View {
  label: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  scope: { values: ScopeTensor[]; params: ScopeTensor[]; grads: ScopeTensor[] };
  evaluate(expr: string): Promise<Result<Evaluated, string>>;
  exception?: { id: string; description: string };
}

interface LineBreakpoints {
  /** null: stop whatever the conditions. */
  conditions: string[] | null;
}

export class NnDebugSession extends DebugSession {
  private launched: Launch | null = null;
  private readonly ready: Promise<Launch | null>;
  private resolveReady!: (l: Launch | null) => void;
  private started = false;
  private configured = false;
  private ended = false;
  private queue: Promise<void> = Promise.resolve();
  private breakpointUpdates: Promise<void> = Promise.resolve();
  private readonly handles = new Handles<Ref>();
  private lineBreakpoints = new Map<number, LineBreakpoints>();
  // mode "check"
  private cur = -1;
  // mode "train"
  private run: TrainRun | null = null;
  private trainView: View | null = null;
  private interrupt: 'pause' | 'stop' | null = null;
  private training = false;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.ready = new Promise((r) => (this.resolveReady = r));
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private fail(response: DebugProtocol.Response, message: string, id = 3000): void {
    this.sendErrorResponse(response, { id, format: message, showUser: true });
  }

  /** Runs a request's work; anything thrown becomes an error response. */
  private guard(response: DebugProtocol.Response, work: () => Promise<void> | void): void {
    try {
      const p = work();
      if (p) p.catch((e: unknown) => this.fail(response, internal(e)));
    } catch (e) {
      this.fail(response, internal(e));
    }
  }

  /** Execution requests (continue, next, …) one at a time, in order. */
  private serial(work: () => Promise<void> | void): void {
    this.queue = this.queue.then(work).catch((e: unknown) => {
      this.output(`NN Lens debugger: ${internal(e)}\n`, 'stderr');
    });
  }

  private output(text: string, category: 'console' | 'stdout' | 'stderr' = 'console'): void {
    this.sendEvent(new OutputEvent(text, category));
  }

  private end(message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.output(message.endsWith('\n') ? message : `${message}\n`);
    this.sendEvent(new TerminatedEvent());
  }

  // ---- initialize, launch, configuration -----------------------------------------------------

  protected initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsStepBack: true,
      supportsConditionalBreakpoints: true,
      supportsEvaluateForHovers: true,
      supportsClipboardContext: true,
      supportsExceptionInfoRequest: true,
      supportsTerminateRequest: true,
      supportsBreakpointLocationsRequest: true,
      supportsDelayedStackTraceLoading: false,
    };
    this.sendResponse(response);
  }

  protected launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments & LaunchArguments): void {
    this.guard(response, async () => {
      const r = await prepareLaunch(args ?? {});
      if (!r.ok) {
        this.resolveReady(null);
        this.fail(response, r.error, 1001);
        return;
      }
      const l = r.value;
      this.launched = l;
      for (const n of l.notes) this.output(`${n}\n`);
      if (l.mode === 'check') {
        const t = l.trace;
        this.output(`${basename(l.file)}: ${l.plan.stops[0].label.replace(/^entry: /, '')} — loss ${lossName(l)} = ${fmt6(t.loss)}\n`);
        if (t.nonFinite) this.output(`warning: ${t.nonFinite}\n`, 'stderr');
      } else {
        const p = l.trainer.plan;
        this.output(
          `${basename(l.file)}: training ${p.model}${p.data ? ` on ${p.data}` : ''}, ${p.epochs} epochs × ${p.stepsPerEpoch} steps of ${p.options.batch}` +
            `${l.stopOnNaN ? ', stopping at the first NaN or Infinity' : ''}\n`,
        );
        this.run = new TrainRun(l.trainer);
      }
      this.resolveReady(l);
      this.sendEvent(new InitializedEvent());
      this.sendResponse(response);
      if (this.configured) this.begin();
    });
  }

  protected configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.configured = true;
    if (this.launched) this.begin();
  }

  private begin(): void {
    if (this.started || !this.launched) return;
    this.started = true;
    const l = this.launched;
    if (l.mode === 'train') {
      this.serial(() => this.train(l));
      return;
    }
    this.serial(async () => {
      await this.breakpointUpdates; // the breakpoints set before configurationDone count
      if (l.stopOnEntry) this.stopAt(l, 0, 'entry');
      else await this.forwardTo(l, -1);
    });
  }

  protected disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments): void {
    this.interrupt = 'stop';
    super.disconnectRequest(response, args);
  }

  protected terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.interrupt = 'stop';
    this.sendResponse(response);
    this.end('stopped');
  }

  // ---- breakpoints -----------------------------------------------------------------------------

  protected setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    let done!: () => void;
    const settled = new Promise<void>((r) => (done = r));
    this.breakpointUpdates = this.breakpointUpdates.then(() => settled);
    this.guard(response, async () => {
      try {
        await this.setBreakpoints(response, args);
      } finally {
        done();
      }
    });
  }

  private async setBreakpoints(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    {
      const l = await this.ready;
      const requested = args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }) as DebugProtocol.SourceBreakpoint);
      const out: DebugProtocol.Breakpoint[] = [];
      const mine = l !== null && samePath(args.source.path, l.file);
      if (mine) this.lineBreakpoints = new Map();
      for (const bp of requested) {
        const b: DebugProtocol.Breakpoint = new Breakpoint(false, bp.line);
        out.push(b);
        if (!l || !mine) {
          b.message = l ? `not the program being debugged (${basename(l.file)})` : 'the launch failed';
          continue;
        }
        if (l.mode === 'train') {
          b.message = 'in "mode": "train" the debugger stops on NaN or Infinity, not on lines';
          continue;
        }
        const line = moveToStop(l, bp.line);
        if (line === null) {
          b.message = `not a line of model ${l.model.name} (lines ${l.lines.line}–${l.lines.endLine}): the debugger stops on its statements`;
          continue;
        }
        b.line = line;
        const condition = bp.condition?.trim();
        if (condition) {
          const r = await l.evaluator.evaluate(condition);
          if (!r.ok) {
            b.message = `condition: ${r.error}`;
            continue;
          }
          if (r.value.shape.length !== 0) {
            b.message = `condition: ${condition} is ${fmtShape(r.value.shape)}, not a scalar; reduce it with max(…), sum(…) or mean(…)`;
            continue;
          }
        }
        b.verified = true;
        const known = this.lineBreakpoints.get(line);
        if (!condition) this.lineBreakpoints.set(line, { conditions: null });
        else if (!known) this.lineBreakpoints.set(line, { conditions: [condition] });
        else if (known.conditions) known.conditions.push(condition);
      }
      response.body = { breakpoints: out };
      this.sendResponse(response);
    }
  }

  protected breakpointLocationsRequest(response: DebugProtocol.BreakpointLocationsResponse, args: DebugProtocol.BreakpointLocationsArguments): void {
    const l = this.launched;
    const lines = new Set<number>();
    if (l && l.mode === 'check' && samePath(args.source.path, l.file)) {
      const end = args.endLine ?? args.line;
      for (const s of l.plan.stops) if (s.line >= args.line && s.line <= end) lines.add(s.line);
    }
    response.body = { breakpoints: [...lines].sort((a, b) => a - b).map((line) => ({ line })) };
    this.sendResponse(response);
  }

  protected setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse): void {
    response.body = { breakpoints: [] };
    this.sendResponse(response);
  }

  /** Whether a breakpoint stops at this stop (its condition evaluated in the stop's scope). */
  private async hits(l: CheckLaunch, stop: Stop): Promise<boolean> {
    const bp = this.lineBreakpoints.get(stop.line);
    if (!bp) return false;
    if (bp.conditions === null) return true;
    for (const c of bp.conditions) {
      const r = await this.evaluateAt(l, stop, c);
      if (!r.ok) continue; // not in scope yet (e.g. a gradient during the forward pass): no stop
      const v = r.value.value;
      for (let i = 0; i < v.length; i++) if (v[i] !== 0 && v[i] === v[i]) return true;
    }
    return false;
  }

  // ---- stepping (mode "check") -----------------------------------------------------------------

  private stopAt(l: CheckLaunch, index: number, reason: string): void {
    this.cur = index;
    this.handles.reset();
    const stop = l.plan.stops[index];
    const e: DebugProtocol.StoppedEvent = new StoppedEvent(reason, THREAD);
    e.body.allThreadsStopped = true;
    e.body.description = stop.description ?? `${reason === 'entry' ? 'Stopped on entry' : reason === 'breakpoint' ? 'Paused on breakpoint' : 'Paused'}: ${stop.label}`;
    if (stop.description) this.output(`${stop.description}\n`, 'stderr');
    this.sendEvent(e);
  }

  /** Continue: to the next stop after `from` with a breakpoint, or to the end. */
  private async forwardTo(l: CheckLaunch, from: number): Promise<void> {
    const stops = l.plan.stops;
    for (let j = from + 1; j < stops.length; j++) {
      if (await this.hits(l, stops[j])) {
        this.stopAt(l, j, 'breakpoint');
        return;
      }
    }
    this.finishCheck(l);
  }

  private finishCheck(l: CheckLaunch): void {
    this.cur = l.plan.stops.length;
    const t = l.trace;
    this.end(`${t.model}, example ${t.example}: the forward and backward pass are done (loss ${lossName(l)} = ${fmt6(t.loss)})`);
  }

  /**
   * An execution request (continue, next, …): in mode "check", `work` moves through the stops; in
   * mode "train", the forward-going ones resume the run and the others are refused.
   */
  private execution(response: DebugProtocol.Response, what: string, work: (l: CheckLaunch) => Promise<void> | void): void {
    const l = this.launched;
    if (!l || this.ended) {
      this.fail(response, this.ended ? 'the session has ended' : 'nothing is running yet');
      return;
    }
    if (l.mode !== 'check') {
      if (what === 'continue' || what === 'next' || what === 'stepIn' || what === 'stepOut') {
        this.sendResponse(response);
        this.serial(() => this.train(l));
        return;
      }
      this.fail(response, `${what} works when stepping through one example ("mode": "check"); a training run only goes forward`);
      return;
    }
    this.sendResponse(response);
    this.serial(() => work(l));
  }

  protected continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.execution(response, 'continue', (l) => this.forwardTo(l, this.cur));
  }

  protected nextRequest(response: DebugProtocol.NextResponse): void {
    this.execution(response, 'next', (l) => this.step(l));
  }

  protected stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.execution(response, 'stepIn', (l) => this.step(l));
  }

  private step(l: CheckLaunch): void {
    if (this.cur + 1 < l.plan.stops.length) this.stopAt(l, this.cur + 1, 'step');
    else this.finishCheck(l);
  }

  /** Step out: to the first stop of the next pass (forward → backward → the end). */
  protected stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.execution(response, 'stepOut', (l) => {
      const stops = l.plan.stops;
      const backward = stops[this.cur]?.phase === 'backward';
      const next = backward ? -1 : stops.findIndex((s, i) => i > this.cur && s.phase === 'backward');
      if (next >= 0) this.stopAt(l, next, 'step');
      else this.finishCheck(l);
    });
  }

  protected stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    this.execution(response, 'stepBack', (l) => {
      if (this.cur > 0) this.stopAt(l, Math.min(this.cur, l.plan.stops.length) - 1, 'step');
      else this.stopAt(l, 0, 'entry');
    });
  }

  protected reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.execution(response, 'reverseContinue', async (l) => {
      const stops = l.plan.stops;
      for (let j = Math.min(this.cur, stops.length) - 1; j >= 0; j--) {
        if (await this.hits(l, stops[j])) {
          this.stopAt(l, j, 'breakpoint');
          return;
        }
      }
      this.stopAt(l, 0, 'entry');
    });
  }

  protected pauseRequest(response: DebugProtocol.PauseResponse): void {
    if (this.training) this.interrupt = 'pause';
    this.sendResponse(response);
  }

  // ---- mode "train" ----------------------------------------------------------------------------

  private async train(l: TrainLaunch): Promise<void> {
    const run = this.run;
    if (!run || this.ended) return;
    if (this.trainView?.exception) {
      this.end(`training stopped: the loss was not finite (${this.trainView.exception.description})`);
      return;
    }
    this.trainView = null;
    this.interrupt = null;
    this.training = true;
    let end: TrainEnd;
    try {
      end = await run.run(() => this.interrupt);
    } finally {
      this.training = false;
    }
    const t = l.trainer;
    if (end.kind === 'stopped') return;
    if (end.kind === 'completed') {
      this.end(`${t.model.name}: trained ${end.epochs} epochs (${end.steps} steps) without a NaN or Infinity; last loss ${fmt6(end.lastLoss)}`);
      return;
    }
    if (end.kind === 'paused') {
      t.program.forward(); // the values of the last batch at the current weights
      const s = run.batchScope(false);
      this.showTrainStop({
        label: `train: epoch ${t.epoch}, step ${t.steps} (paused): loss ${fmt6(t.lastLoss)}`,
        line: l.lines.line,
        column: l.lines.nameColumn,
        scope: s,
        evaluate: (expr) => this.batchEvaluator(l, s.env).evaluate(expr),
      }, 'pause');
      return;
    }
    const d = end.divergence;
    const where = d.range ? `${d.op ?? 'an op'} on line ${d.range.start.line + 1}` : (d.op ?? 'the update');
    const message = `NaN or Infinity at epoch ${d.epoch}, step ${d.step}: ${d.cause}`;
    if (!l.stopOnNaN) {
      this.end(`training stopped: ${message}`);
      return;
    }
    const s = run.batchScope(end.replayed);
    this.output(`${message} (${where})\n`, 'stderr');
    this.showTrainStop({
      label: `train: epoch ${d.epoch}, step ${d.step}: ${d.cause}`,
      line: d.range ? d.range.start.line + 1 : l.lines.line,
      column: d.range ? d.range.start.character + 1 : l.lines.nameColumn,
      endLine: d.range ? d.range.end.line + 1 : undefined,
      endColumn: d.range ? d.range.end.character + 1 : undefined,
      scope: s,
      evaluate: (expr) => this.batchEvaluator(l, s.env).evaluate(expr),
      exception: { id: 'NaN', description: message },
    }, 'exception');
  }

  private batchEvaluators = new WeakMap<object, Evaluator>();
  private batchEvaluator(l: TrainLaunch, env: EvalEnv): Evaluator {
    let e = this.batchEvaluators.get(env);
    if (!e) {
      e = new Evaluator(l.analysis, l.model.name, env);
      this.batchEvaluators.set(env, e);
    }
    return e;
  }

  private showTrainStop(view: View, reason: 'exception' | 'pause'): void {
    this.trainView = view;
    this.handles.reset();
    const e: DebugProtocol.StoppedEvent = new StoppedEvent(reason, THREAD);
    e.body.allThreadsStopped = true;
    e.body.description = reason === 'exception' ? 'Paused on NaN or Infinity' : 'Paused';
    if (view.exception) e.body.text = view.exception.description;
    this.sendEvent(e);
  }

  protected exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const x = this.trainView?.exception;
    if (!x) {
      this.fail(response, 'not stopped on NaN or Infinity');
      return;
    }
    response.body = { exceptionId: x.id, description: x.description, breakMode: 'always', details: { message: x.description } };
    this.sendResponse(response);
  }

  // ---- where it is stopped ---------------------------------------------------------------------

  private view(): View | null {
    const l = this.launched;
    if (!l || this.ended) return null;
    if (l.mode === 'train') return this.trainView;
    const stop = l.plan.stops[this.cur];
    if (!stop) return null;
    return {
      label: stop.label,
      line: stop.line,
      column: stop.column,
      endLine: stop.endLine,
      endColumn: stop.endColumn,
      scope: scopeAt(l.trace, stop),
      evaluate: (expr) => this.evaluateAt(l, stop, expr),
    };
  }

  /** An expression at a stop: its value, if every name it reads is known there. */
  private async evaluateAt(l: CheckLaunch, stop: Stop, expr: string): Promise<Result<Evaluated, string>> {
    const r = await l.evaluator.evaluate(expr);
    if (!r.ok) return r;
    const stops = l.plan.stops;
    for (const name of r.value.refs) {
      if (stop.values.has(name)) continue;
      const at = stops.find((s) => s.values.has(name));
      return err(`${name} is not computed yet: the forward pass computes it on line ${at?.line ?? '?'}`);
    }
    for (const x of r.value.gradRefs) {
      if (stop.grads.has(x)) continue;
      const at = stops.find((s) => s.grads.has(x));
      return err(
        at
          ? `grad ${x} is not known yet: the backward pass computes it at line ${at.line} (${at.label})`
          : `grad ${x} is not computed by the backward pass`,
      );
    }
    return ok(r.value);
  }

  protected threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const l = this.launched;
    const name = !l ? 'NN Lens' : l.mode === 'check' ? `${l.model.name} · example ${l.trace.example}` : `${l.model.name} · training`;
    response.body = { threads: [new Thread(THREAD, name)] };
    this.sendResponse(response);
  }

  protected stackTraceRequest(response: DebugProtocol.StackTraceResponse): void {
    const v = this.view();
    const l = this.launched;
    if (!v || !l) {
      response.body = { stackFrames: [], totalFrames: 0 };
      this.sendResponse(response);
      return;
    }
    const frame: DebugProtocol.StackFrame = new StackFrame(FRAME, v.label, new Source(basename(l.file), l.file), v.line, v.column);
    if (v.endLine !== undefined) frame.endLine = v.endLine;
    if (v.endColumn !== undefined) frame.endColumn = v.endColumn;
    response.body = { stackFrames: [frame], totalFrames: 1 };
    this.sendResponse(response);
  }

  protected scopesRequest(response: DebugProtocol.ScopesResponse): void {
    const v = this.view();
    if (!v) {
      response.body = { scopes: [] };
      this.sendResponse(response);
      return;
    }
    const scope = (name: string, tensors: ScopeTensor[], hint?: DebugProtocol.Scope['presentationHint']): DebugProtocol.Scope => {
      const s: DebugProtocol.Scope = new Scope(name, this.handles.create({ kind: 'scope', tensors }), false);
      s.namedVariables = tensors.length;
      if (hint) s.presentationHint = hint;
      return s;
    };
    response.body = {
      scopes: [scope('Values', v.scope.values, 'locals'), scope('Params', v.scope.params), scope('Gradients', v.scope.grads)],
    };
    this.sendResponse(response);
  }

  private tensorVariable(name: string, value: ArrayLike<number>, shape: number[], offset: number, extra: Partial<DebugProtocol.Variable> = {}, note?: string): DebugProtocol.Variable {
    const tail = note ? `  (${note})` : '';
    if (shape.length === 0) return { name, value: fmt6(value[offset]) + tail, type: '[]', variablesReference: 0, ...extra };
    return {
      name,
      value: summary(value, shape, offset) + tail,
      type: fmtShape(shape),
      variablesReference: this.handles.create({ kind: 'tensor', value, shape, offset }),
      indexedVariables: shape[0],
      ...extra,
    };
  }

  protected variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const ref = this.handles.get(args.variablesReference);
    const out: DebugProtocol.Variable[] = [];
    if (ref?.kind === 'scope') {
      for (const t of ref.tensors) {
        out.push(this.tensorVariable(t.name, t.value, t.shape, 0, t.evaluateName ? { evaluateName: t.evaluateName } : {}, t.note));
      }
    } else if (ref?.kind === 'tensor' && args.filter !== 'named') {
      const [n, ...rest] = ref.shape;
      const stride = rest.reduce((a, b) => a * b, 1);
      const start = Math.max(0, Math.min(n, args.start ?? 0));
      const count = args.count ? Math.min(args.count, n - start) : n - start;
      for (let i = start; i < start + count; i++) {
        const offset = ref.offset + i * stride;
        if (rest.length === 0) out.push({ name: `[${i}]`, value: fmt6(ref.value[offset]), variablesReference: 0 });
        else out.push(this.tensorVariable(`[${i}]`, ref.value, rest, offset));
      }
    }
    response.body = { variables: out };
    this.sendResponse(response);
  }

  protected evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    this.guard(response, async () => {
      const v = this.view();
      if (!v) {
        this.fail(response, this.ended ? 'the session has ended' : 'not stopped: evaluate works at a stop', 3001);
        return;
      }
      const r = await v.evaluate(args.expression);
      if (!r.ok) {
        this.fail(response, r.error, 3002);
        return;
      }
      const l = this.launched!;
      const n = l.mode === 'train' ? l.trainer.program.batchSize : 1;
      const shape = r.value.batched && n > 1 ? [n, ...r.value.shape] : r.value.shape;
      const value = r.value.value;
      const full = args.context === 'clipboard' || args.context === 'variables';
      const result = full ? nestedFull(value, shape) : withShape(value, shape);
      response.body = {
        result,
        type: fmtShape(shape),
        variablesReference: shape.length ? this.handles.create({ kind: 'tensor', value, shape, offset: 0 }) : 0,
        ...(shape.length ? { indexedVariables: shape[0] } : {}),
      };
      this.sendResponse(response);
    });
  }

  /** `nnlens/inlineValues`: for each line executed so far, its value (and gradient) in short. */
  protected customRequest(command: string, response: DebugProtocol.Response, _args: unknown): void {
    if (command !== INLINE_VALUES_REQUEST) {
      super.customRequest(command, response, _args);
      return;
    }
    const l = this.launched;
    const texts = new Map<number, string[]>();
    if (l && l.mode === 'check' && !this.ended && this.cur >= 0) {
      const byName = new Map(l.trace.nodes.map((n) => [n.name, n]));
      const userLine = new Map(l.trace.backward.map((b) => [b.name, b]));
      for (const s of l.plan.stops.slice(0, this.cur + 1)) {
        if (!s.subject) continue;
        const add = (t: string) => texts.set(s.line, [...(texts.get(s.line) ?? []), t]);
        const node = byName.get(s.subject);
        if (s.phase === 'forward' && node) add(`${s.subject} = ${withShape(node.value, node.shape, 4)}`);
        if (s.phase === 'backward') {
          if (l.plan.backward === 'block') {
            const b = userLine.get(s.subject);
            if (b?.user) add(`grad ${b.name} = ${withShape(b.user, b.shape, 4)}${b.status === 'wrong' ? '  ✗ wrong' : ''}`);
          } else if (node?.grad) add(`grad ${s.subject} = ${withShape(node.grad, node.shape, 4)}`);
        }
      }
    }
    const body: InlineValuesBody = { values: [...texts].map(([line, t]) => ({ line, text: t.join('   ') })) };
    response.body = body;
    this.sendResponse(response);
  }
}

/** The line a breakpoint on `line` stops at: the nearest stop line at or after it inside the model, else before it. */
function moveToStop(l: CheckLaunch, line: number): number | null {
  if (line < l.lines.line || line > l.lines.endLine) return null;
  const lines = [...new Set(l.plan.stops.map((s) => s.line))].sort((a, b) => a - b);
  const after = lines.find((x) => x >= line);
  if (after !== undefined) return after;
  return lines.length ? lines[lines.length - 1] : null;
}

function samePath(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const norm = (p: string) => (process.platform === 'win32' || process.platform === 'darwin' ? p.toLowerCase() : p);
  return norm(resolve(a)) === norm(resolve(b));
}

function lossName(l: CheckLaunch): string {
  return l.trace.nodes.find((n) => n.kind === 'loss')?.name ?? 'C';
}

function internal(e: unknown): string {
  return `internal error: ${e instanceof Error ? e.message : String(e)}`;
}
