/**
 * Diagnostics in two speeds, and the engine numbers hovers read.
 *
 * Fast: Langium's validation (names, shapes) runs on every change; as soon as a document is
 * validated its diagnostics are published together with the slow ones (below).
 *
 * Slow: a short while after the last edit (DEBOUNCE_MS) the document is lowered and a check job
 * goes to the engine worker: the gradient check of every model, blame of hand-written
 * derivatives, gradient health, and the numbers hovers show. A newer edit cancels the older job.
 * A job's findings are published only while the document is still at the version they were
 * computed on; until the next job finishes, the previous findings are carried over (moved with
 * the text, dropped where it changed) so that they do not flicker while typing.
 *
 * A model with a syntax or shape error is not lowered, so it cannot be checked; its findings from
 * the last version that had none stay visible (moved with the text, dropped where it changed),
 * each marked "(from the last version of M without errors)", until it can be checked again.
 *
 * The server publishes all diagnostics itself (Langium's default handler is not installed), so
 * both sets always go out together.
 */
import { DocumentState, URI, type LangiumDocument, type LangiumSharedCoreServices } from 'langium';
import type { LangiumSharedServices } from 'langium/lsp';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  DiagnosticSeverity,
  type Diagnostic,
  type DiagnosticRelatedInformation,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver';
import type { CheckOptions, DataContext, Finding, IRProgram } from '../engine';
import { Codes } from '../engine/codes';
import { lowerDocument, NnAst, type NnServices } from '../language';
import { EngineWorker, JobCancelled, WorkerCrash, type JobHandle } from './engine-host';
import type { CheckJobRequest, CheckJobResult, CurrentWeights, ModelNumbers } from '../engine/session/types';
import type { CoalescedBuilds } from './builds';
import type { NnLensSettingsService } from './settings';

export const DEBOUNCE_MS = 300;
/** An on-edit check that runs longer than this is stopped (its worker restarted). */
export const EDIT_JOB_TIMEOUT_MS = 60_000;
/** A model whose check needs more memory than this is not checked as you type. */
export const MEMORY_LIMIT = 512 * 1024 * 1024;
/** Above this many parameters, the settings' `full` mode checks in fast mode as you type. */
export const FULL_CHECK_PARAM_LIMIT = 200_000;
/** At most this many diagnostics are published per document (a file of junk has thousands). */
export const MAX_DIAGNOSTICS = 500;

/** A document's lowered program, with what its check depends on. */
export interface Lowered {
  version: number;
  /** The settings and weights the keys were computed with. */
  context: string;
  program: IRProgram;
  skipped: string[];
  /** Per lowered model: a key of everything its numbers depend on (not source positions). */
  keys: Record<string, string>;
  ctx: DataContext;
}

interface SlowDiagnostics {
  version: number;
  /** The text they were computed on (to move them with later edits). */
  text: TextDocument;
  diagnostics: Diagnostic[];
}

interface DocState {
  timer?: NodeJS.Timeout;
  running?: { version: number; handle: JobHandle; done: Promise<CheckJobResult | undefined> };
  slow?: SlowDiagnostics;
  /** About the latest training run (where it diverged). */
  training?: SlowDiagnostics;
  /** The latest result whose numbers hovers may use (keys say for which models they still hold). */
  numbers?: { keys: Record<string, string>; result: CheckJobResult };
  /** Key of the content whose check failed (crash/timeout): not retried until it changes. */
  failed?: { key: string; message: string };
  /** Per model: its findings from the last version in which it could be checked. */
  lastGood?: Map<string, SlowDiagnostics>;
  lastPublished?: PublishDiagnosticsParams;
}

export type NumbersAnswer =
  | { status: 'ok'; numbers: ModelNumbers }
  | { status: 'not-lowered' | 'pending' | 'failed' | 'skipped'; message: string };

const SEVERITY: Record<Finding['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function findingToDiagnostic(f: Finding, uri: string): Diagnostic {
  const related: DiagnosticRelatedInformation[] | undefined = f.related?.map((r) => ({
    location: { uri, range: r.range },
    message: r.message,
  }));
  return {
    range: f.range,
    severity: SEVERITY[f.severity],
    code: f.code,
    source: 'nnlens',
    message: f.message,
    ...(related && related.length ? { relatedInformation: related } : {}),
  };
}

/** cyrb53: a fast 53-bit string hash (keys of models' content). */
export function hashString(s: string, seed = 0): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36) + ':' + s.length.toString(36);
}

const withoutRanges = (k: string, v: unknown) => (k === 'range' || k === 'stmtRange' ? undefined : v);

/**
 * Moves diagnostics computed on `before` to `after`: those entirely before the first changed
 * character or entirely after the last keep their place in the text; those touching the change are
 * dropped.
 */
export function carryOver(before: TextDocument, after: TextDocument, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const a = before.getText();
  const b = after.getText();
  if (a === b) return [...diagnostics];
  let p = 0;
  const n = Math.min(a.length, b.length);
  while (p < n && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  let s = 0;
  while (s < n - p && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  const changeEnd = a.length - s;
  const delta = b.length - a.length;
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const start = before.offsetAt(d.range.start);
    const end = before.offsetAt(d.range.end);
    if (end < p) out.push(d);
    else if (start > changeEnd) {
      out.push({ ...d, range: { start: after.positionAt(start + delta), end: after.positionAt(end + delta) } });
    }
  }
  return out;
}

export class NnLensEngine {
  private readonly docs = new Map<string, DocState>();
  private readonly lowerCache = new WeakMap<LangiumDocument, Lowered>();
  private readonly weights = new Map<string, Map<string, CurrentWeights>>();
  private readonly shared: LangiumSharedServices;
  readonly editWorker: EngineWorker;
  readonly fullWorker: EngineWorker;
  /** Where diagnostics go (the connection, when there is one). */
  publisher: (p: PublishDiagnosticsParams) => void = () => undefined;
  /** Where the server's log lines go (window/logMessage, when there is a connection). */
  logger: { info(m: string): void; error(m: string): void } = { info: () => undefined, error: () => undefined };

  constructor(
    private readonly Nn: NnServices,
    private readonly settings: NnLensSettingsService,
    workerScript: string | undefined,
    /** Which version each open document was parsed from. */
    private readonly builds: CoalescedBuilds,
  ) {
    this.shared = Nn.shared as LangiumSharedServices;
    const onCrash = (which: string) => (e: WorkerCrash) => {
      if (e.reason !== 'shutdown') this.logger.error(`${which}: ${e.message}`);
    };
    this.editWorker = new EngineWorker('checks as you type', workerScript, onCrash('engine worker (checks as you type)'));
    this.fullWorker = new EngineWorker('full checks', workerScript, onCrash('engine worker (full checks)'));
    const builder = (Nn.shared as LangiumSharedCoreServices).workspace.DocumentBuilder;
    builder.onDocumentPhase(DocumentState.Validated, (doc) => this.onValidated(doc));
    builder.onUpdate((_changed, deleted) => {
      for (const uri of deleted) this.forget(uri.toString(), true);
    });
    settings.onDidChange((now, before) => {
      const check = (x: typeof now) => JSON.stringify(x.gradientCheck);
      if (check(now) !== check(before)) this.recheckAll();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Documents

  private state(uri: string): DocState {
    let s = this.docs.get(uri);
    if (!s) {
      s = {};
      this.docs.set(uri, s);
    }
    return s;
  }

  private isOpen(uri: string): boolean {
    return this.shared.workspace.TextDocuments.get(uri) !== undefined;
  }

  /**
   * The built document of `uri`, if it is validated at its latest version. (An open document's
   * text document always holds the newest text; its syntax tree may be an older version's until
   * the next build, server/builds.ts.)
   */
  private current(uri: string): LangiumDocument | undefined {
    const docs = this.shared.workspace.LangiumDocuments;
    const parsed = URI.parse(uri);
    if (!docs.hasDocument(parsed)) return undefined;
    const doc = docs.getDocument(parsed);
    if (!doc || doc.state < DocumentState.Validated) return undefined;
    const open = this.shared.workspace.TextDocuments.get(uri);
    if (open && this.builds.parsedVersion(uri) !== open.version) return undefined;
    return doc;
  }

  /** The lowered program of a validated document (cached per document object and version). */
  lowered(doc: LangiumDocument): Lowered {
    const version = doc.textDocument.version;
    const uri = doc.uri.toString();
    const weightLabels = [...(this.weights.get(uri) ?? [])].map(([m, w]) => [m, w.label]);
    const context = JSON.stringify([this.checkDefaults(), weightLabels, this.Nn.analysis.DataContext.fileAccessBlocked ?? null]);
    const known = this.lowerCache.get(doc);
    if (known && known.version === version && known.context === context) return known;
    let program: IRProgram;
    let skipped: string[];
    try {
      const r = lowerDocument(this.Nn, doc);
      program = r.program;
      skipped = r.skippedModels;
    } catch (e) {
      this.logger.error(`lowering ${doc.uri.toString()} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      program = { functions: [], models: [], data: [], trains: [], checks: [] };
      skipped = [];
    }
    const blocked = this.Nn.analysis.DataContext.fileAccessBlocked !== undefined;
    if (blocked) program = { ...program, data: program.data.filter((d) => d.spec.kind !== 'csv') };
    const ctx: DataContext = this.Nn.analysis.DataContext.contextFor(doc) ?? { baseDir: process.cwd() };
    const defaults = JSON.stringify(this.checkDefaults());
    const shared = JSON.stringify({ f: program.functions, d: program.data }, withoutRanges);
    const keys: Record<string, string> = {};
    for (const m of program.models) {
      const own = JSON.stringify(
        {
          m,
          t: program.trains.filter((t) => t.model === m.name),
          c: program.checks.filter((c) => c.model === m.name),
          w: this.weights.get(doc.uri.toString())?.get(m.name)?.label ?? null,
        },
        withoutRanges,
      );
      keys[m.name] = hashString(own + shared + defaults);
    }
    const lowered: Lowered = { version, context, program, skipped, keys, ctx };
    this.lowerCache.set(doc, lowered);
    return lowered;
  }

  private checkDefaults(): Partial<CheckOptions> {
    const g = this.settings.settings.gradientCheck;
    return { mode: g.mode, tolerance: g.tolerance, eps: g.eps };
  }

  private onValidated(doc: LangiumDocument): void {
    const uri = doc.uri.toString();
    this.publish(uri);
    if (this.isOpen(uri) && this.settings.settings.gradientCheck.onEdit) this.schedule(uri, DEBOUNCE_MS);
  }

  /** Forgets a document's jobs and slow diagnostics (closed or deleted). */
  forget(uri: string, deleted: boolean): void {
    const s = this.docs.get(uri);
    if (!s) return;
    clearTimeout(s.timer);
    s.running?.handle.cancel();
    this.docs.delete(uri);
    if (deleted) this.publisher({ uri, diagnostics: [] });
    else this.publish(uri);
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing

  /**
   * Fast diagnostics of the current version + the slow ones (carried over when older). Undefined
   * until the document is validated, and while an open document's syntax tree is older than its
   * text (a newer edit came in during its build; the next build publishes).
   */
  diagnosticsOf(uri: string): { version: number; diagnostics: Diagnostic[] } | undefined {
    const docs = this.shared.workspace.LangiumDocuments;
    const parsed = URI.parse(uri);
    if (!docs.hasDocument(parsed)) return undefined;
    const doc = docs.getDocument(parsed);
    if (!doc || doc.state < DocumentState.Validated) return undefined;
    const open = this.shared.workspace.TextDocuments.get(uri);
    if (open && this.builds.parsedVersion(uri) !== open.version) return undefined;
    const fast = doc.diagnostics ?? [];
    const s = this.docs.get(uri);
    const carried = (x: SlowDiagnostics | undefined): Diagnostic[] =>
      !x ? [] : x.version === doc.textDocument.version ? x.diagnostics : carryOver(x.text, doc.textDocument as TextDocument, x.diagnostics);
    let all = [...fast, ...carried(s?.slow), ...carried(s?.training)];
    if (all.length > MAX_DIAGNOSTICS) {
      const more = all.length - MAX_DIAGNOSTICS + 1;
      all = all.slice(0, MAX_DIAGNOSTICS - 1);
      all.push({
        range: all[all.length - 1]?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: DiagnosticSeverity.Information,
        source: 'nnlens',
        message: `… and ${more.toLocaleString('en-US')} more problems in this file (only the first ${MAX_DIAGNOSTICS - 1} are shown)`,
      });
    }
    return { version: doc.textDocument.version, diagnostics: all };
  }

  publish(uri: string): void {
    const d = this.diagnosticsOf(uri);
    if (!d) return;
    const params: PublishDiagnosticsParams = { uri, version: d.version, diagnostics: d.diagnostics };
    this.state(uri).lastPublished = params;
    this.publisher(params);
  }

  /** What was last published for `uri` (tests and the debug request). */
  lastPublished(uri: string): PublishDiagnosticsParams | undefined {
    return this.docs.get(uri)?.lastPublished;
  }

  // ---------------------------------------------------------------------------------------------
  // Jobs

  private schedule(uri: string, delay: number): void {
    const s = this.state(uri);
    clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      void this.start(uri);
    }, delay);
  }

  /** Checks every open document again (settings changed, weights changed, trust granted). */
  recheckAll(): void {
    for (const doc of this.shared.workspace.TextDocuments.all()) {
      const uri = doc.uri;
      const s = this.docs.get(uri);
      if (s) s.failed = undefined;
      if (this.settings.settings.gradientCheck.onEdit) this.schedule(uri, 0);
      else if (s?.slow) {
        s.slow = undefined;
        this.publish(uri);
      }
    }
  }

  private request(uri: string, lowered: Lowered, extra: Partial<CheckJobRequest> = {}): CheckJobRequest {
    const weights: Record<string, CurrentWeights> = {};
    for (const [m, w] of this.weights.get(uri) ?? []) weights[m] = w;
    return {
      uri,
      version: lowered.version,
      program: lowered.program,
      ctx: lowered.ctx,
      defaults: this.checkDefaults(),
      weights,
      numbers: true,
      health: true,
      memoryLimit: MEMORY_LIMIT,
      fullCheckParamLimit: FULL_CHECK_PARAM_LIMIT,
      ...extra,
    };
  }

  private docKey(l: Lowered): string {
    return hashString(JSON.stringify(l.keys));
  }

  /**
   * Starts the check of a document's current version (or joins the one already running for it).
   * Resolves with the result, or undefined when it was cancelled, failed or is obsolete.
   */
  start(uri: string): Promise<CheckJobResult | undefined> {
    const doc = this.current(uri);
    if (!doc) return Promise.resolve(undefined);
    const s = this.state(uri);
    const version = doc.textDocument.version;
    if (s.running?.version === version) return s.running.done;
    s.running?.handle.cancel();
    const lowered = this.lowered(doc);
    if (lowered.program.models.length === 0) {
      s.running = undefined;
      this.acceptResult(uri, lowered, { uri, version, models: {}, findings: [], cancelled: false, elapsedMs: 0 }, true);
      return Promise.resolve(undefined);
    }
    if (s.failed?.key === this.docKey(lowered)) return Promise.resolve(undefined);
    const handle = this.editWorker.run(this.request(uri, lowered), { timeoutMs: EDIT_JOB_TIMEOUT_MS });
    const done = handle.promise.then(
      (result) => {
        if (s.running?.handle === handle) s.running = undefined;
        this.acceptResult(uri, lowered, result, this.settings.settings.gradientCheck.onEdit);
        return result;
      },
      (e: unknown) => {
        if (s.running?.handle === handle) s.running = undefined;
        if (e instanceof JobCancelled) return undefined;
        this.jobFailed(uri, lowered, e);
        return undefined;
      },
    );
    s.running = { version, handle, done };
    return done;
  }

  private acceptResult(uri: string, lowered: Lowered, result: CheckJobResult, publishFindings: boolean): void {
    const s = this.state(uri);
    s.numbers = { keys: lowered.keys, result };
    s.failed = undefined;
    const doc = this.current(uri);
    if (!doc || doc.textDocument.version !== result.version) return;
    if (publishFindings) {
      const text = TextDocument.create(uri, 'nn', result.version, doc.textDocument.getText());
      const diagnostics = result.findings.map((f) => findingToDiagnostic(f, uri));
      s.slow = { version: result.version, text, diagnostics: [...diagnostics, ...this.lastGoodOf(s, doc, text, diagnostics, result, lowered)] };
    }
    this.publish(uri);
  }

  /**
   * Remembers each checked model's findings (those within its declaration) as its last good ones,
   * and returns those of the models that could not be checked now (they have errors), carried over
   * to this text and marked as from the last version without errors.
   */
  private lastGoodOf(
    s: DocState,
    doc: LangiumDocument,
    text: TextDocument,
    diagnostics: Diagnostic[],
    result: CheckJobResult,
    lowered: Lowered,
  ): Diagnostic[] {
    const root = doc.parseResult.value;
    const spans = new Map<string, { start: number; end: number }>();
    if (NnAst.isProgram(root))
      for (const m of root.declarations.filter(NnAst.isModelDecl))
        if (m.name && m.$cstNode && !spans.has(m.name)) spans.set(m.name, { start: m.$cstNode.offset, end: m.$cstNode.end });
    const last = (s.lastGood ??= new Map());
    for (const name of [...last.keys()]) if (!spans.has(name)) last.delete(name);
    const out: Diagnostic[] = [];
    for (const [name, span] of spans) {
      if (result.models[name]) {
        const own = diagnostics.filter((d) => {
          const a = text.offsetAt(d.range.start);
          return a >= span.start && text.offsetAt(d.range.end) <= span.end;
        });
        last.set(name, { version: text.version, text, diagnostics: own });
        continue;
      }
      const prev = last.get(name);
      if (!lowered.skipped.includes(name) || !prev || prev.diagnostics.length === 0) continue;
      const note = ` (from the last version of ${name} without errors: it has errors now, so its gradients are not checked)`;
      for (const d of carryOver(prev.text, text, prev.diagnostics)) {
        const a = text.offsetAt(d.range.start);
        if (a < span.start || a > span.end) continue; // moved out of the model: not its finding any more
        out.push({ ...d, message: d.message + note });
      }
    }
    return out;
  }

  private jobFailed(uri: string, lowered: Lowered, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    const s = this.state(uri);
    s.failed = { key: this.docKey(lowered), message };
    this.logger.error(`checking ${uri} failed: ${e instanceof Error ? (e.stack ?? e.message) : message}`);
    const doc = this.current(uri);
    if (!doc || doc.textDocument.version !== lowered.version) return;
    const first = lowered.program.models[0];
    const restarted = e instanceof WorkerCrash ? ' The engine was restarted; edit the file to check again.' : '';
    s.slow = {
      version: lowered.version,
      text: TextDocument.create(uri, 'nn', lowered.version, doc.textDocument.getText()),
      diagnostics: first
        ? [
            {
              range: first.range,
              severity: DiagnosticSeverity.Warning,
              code: Codes.CheckFailed,
              source: 'nnlens',
              message: `the gradient check of this file failed: ${message}.${restarted}`,
            },
          ]
        : [],
    };
    this.publish(uri);
  }

  // ---------------------------------------------------------------------------------------------
  // Numbers for hovers

  /**
   * The numbers of a model at its current weights. Answers at once when a check of the same
   * content already ran; otherwise starts one and waits up to `waitMs` for it.
   */
  async numbers(doc: LangiumDocument, model: string, waitMs: number): Promise<NumbersAnswer> {
    const uri = doc.uri.toString();
    if (doc.state < DocumentState.Validated) return { status: 'pending', message: 'the file is still being checked' };
    const lowered = this.lowered(doc);
    const key = lowered.keys[model];
    if (key === undefined) {
      return { status: 'not-lowered', message: `no gradients: model ${model} has errors (fix them first)` };
    }
    const fromCache = (): NumbersAnswer | undefined => {
      const n = this.docs.get(uri)?.numbers;
      if (!n || n.keys[model] !== key) return undefined;
      const r = n.result.models[model];
      if (r?.numbers) return { status: 'ok', numbers: r.numbers };
      if (r?.skipped) return { status: 'skipped', message: r.skipped };
      return undefined;
    };
    const cached = fromCache();
    if (cached) return cached;
    const s = this.state(uri);
    if (s.failed?.key === this.docKey(lowered)) return { status: 'failed', message: `the gradient check failed: ${s.failed.message}` };
    const done = this.current(uri) === doc ? this.start(uri) : Promise.resolve(undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), waitMs);
    });
    const winner = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (winner === 'timeout') return { status: 'pending', message: 'the gradients are being computed (hover again in a moment)' };
    return fromCache() ?? { status: 'pending', message: 'the gradients are being computed (hover again in a moment)' };
  }

  // ---------------------------------------------------------------------------------------------
  // Explicit checks and weights

  /** A check the user asked for (full by default), in its own worker, publishing its findings. */
  async fullCheck(
    doc: LangiumDocument,
    opts: { models?: string[]; mode?: 'fast' | 'full'; onProgress?: (f: number) => void; isCancelled?: () => boolean; onCancel?: (cb: () => void) => void },
  ): Promise<{ result: CheckJobResult; lowered: Lowered }> {
    const uri = doc.uri.toString();
    const lowered = this.lowered(doc);
    const handle = this.fullWorker.run(
      this.request(uri, lowered, { models: opts.models, mode: opts.mode ?? 'full' }),
      { onProgress: opts.onProgress },
    );
    opts.onCancel?.(() => handle.cancel());
    const result = await handle.promise;
    this.acceptResult(uri, lowered, result, true);
    return { result, lowered };
  }

  /** Diagnostics about a training run (e.g. where it diverged), until the next run. */
  setTrainingDiagnostics(uri: string, diagnostics: Diagnostic[]): void {
    const docs = this.shared.workspace.LangiumDocuments;
    const parsed = URI.parse(uri);
    const doc = docs.hasDocument(parsed) ? docs.getDocument(parsed) : undefined;
    const s = this.state(uri);
    if (!doc || diagnostics.length === 0) s.training = undefined;
    else {
      const version = doc.textDocument.version;
      s.training = { version, text: TextDocument.create(uri, 'nn', version, doc.textDocument.getText()), diagnostics };
    }
    this.publish(uri);
  }

  /** The weights hovers and checks use for a model, instead of the initial ones. */
  setWeights(uri: string, model: string, weights: CurrentWeights | undefined): void {
    let m = this.weights.get(uri);
    if (!m) {
      m = new Map();
      this.weights.set(uri, m);
    }
    if (weights) m.set(model, weights);
    else m.delete(model);
    const s = this.docs.get(uri);
    if (s) s.failed = undefined;
    if (this.isOpen(uri) || s?.numbers) this.schedule(uri, 0);
  }

  weightsOf(uri: string, model: string): CurrentWeights | undefined {
    return this.weights.get(uri)?.get(model);
  }

  async dispose(): Promise<void> {
    for (const s of this.docs.values()) clearTimeout(s.timer);
    await Promise.all([this.editWorker.dispose(), this.fullWorker.dispose()]);
  }
}
