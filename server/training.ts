/**
 * Training over LSP: `nnlens/train` starts a run of a model's `train` block in the trainer's
 * worker (engine/train), streams `nnlens/trainProgress` (at most every 100 ms) and ends with one
 * `nnlens/trainDone`. Trained weights become the model's current weights (hovers and checks use
 * them) and are written next to the file as `NAME.weights.json` (the `P.json` layout).
 *
 * One run per model at a time; none at all in an untrusted workspace.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DocumentState, URI, type LangiumDocument } from 'langium';
import type { LangiumSharedServices } from 'langium/lsp';
import { DiagnosticSeverity, ErrorCodes, ResponseError } from 'vscode-languageserver';
import { existsSync } from 'node:fs';
import { cachedData, type IRModel, type IRProgram } from '../engine';
import { Codes } from '../engine/codes';
import { trainInWorker, type TrainJob, type TrainOutcome, type TrainPlan, type TrainPoint, type TrainProgress } from '../engine/train';
import { weightsJson } from '../engine/train/weights';
import type { NnServices } from '../language';
import { type Lowered, type NnLensEngine } from './engine-service';
import type {
  ModelInfo,
  TrainDoneParams,
  TrainParams,
  TrainProgressParams,
  TrainResult,
} from './protocol';
import { RESTRICTED_TRAIN_MESSAGE, type NnLensSettingsService } from './settings';
import type { StaleRequests } from './stale-requests';

/** The trainer's worker API (engine/train's `trainInWorker`). */
export type TrainRunner = (
  job: TrainJob,
  opts: { onProgress?: (p: TrainProgress) => void; onStart?: (plan: TrainPlan) => void; signal?: AbortSignal },
) => Promise<TrainOutcome>;

/** out/train-worker.js: next to the running bundle, or (tests from source) in ../out. */
export function trainWorkerScript(): string {
  const candidates = [join(__dirname, 'train-worker.js'), join(__dirname, '..', 'out', 'train-worker.js')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/** Training in engine/train's worker (out/train-worker.js). */
export const workerRunner: TrainRunner = (job, opts) => trainInWorker(job, { ...opts, workerScript: trainWorkerScript() });

export interface LiveRun {
  runId: string;
  uri: string;
  model: string;
  epochs: number;
  stepsPerEpoch: number;
  started: number;
  /** The latest progress. */
  progress: TrainProgress | null;
  abort: AbortController;
  /** Resolves when the run has ended (trainDone sent). */
  ended: Promise<void>;
}

export interface TrainingEvents {
  progress(p: TrainProgressParams): void;
  done(d: TrainDoneParams): void;
  /** Runs started or ended (code lenses change). */
  changed(): void;
}

/** Refuses a request with a message the client shows as is. */
export function refuse(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidRequest, message);
}

/** `P.json`: nested arrays by param name. */
export function toNested(values: ArrayLike<number>, shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  let at = 0;
  const build = (d: number): unknown => {
    if (d === shape.length - 1) {
      const row = Array.from({ length: shape[d] }, () => values[at++]);
      return row;
    }
    return Array.from({ length: shape[d] }, () => build(d + 1));
  };
  return build(0);
}

export class NnLensTraining {
  private readonly runs = new Map<string, LiveRun>();
  private nextRun = 1;
  /** How runs are executed (engine/train's worker; tests may run in process). */
  runner: TrainRunner = workerRunner;
  events: TrainingEvents = { progress: () => undefined, done: () => undefined, changed: () => undefined };

  constructor(
    private readonly Nn: NnServices,
    private readonly engine: NnLensEngine,
    private readonly settings: NnLensSettingsService,
    private readonly requests: StaleRequests,
  ) {}

  /** The models of a listModels answer, with the weights each has beyond its initial ones. */
  withCurrentWeights(uri: string, models: ModelInfo[]): ModelInfo[] {
    return models.map((m) => {
      const w = this.engine.weightsOf(uri, m.name);
      return w ? { ...m, currentWeights: w.label } : m;
    });
  }

  /** The live run of a model of a document, if any. */
  liveRun(uri: string, model: string): LiveRun | undefined {
    for (const r of this.runs.values()) if (r.uri === uri && r.model === model) return r;
    return undefined;
  }

  get live(): LiveRun[] {
    return [...this.runs.values()];
  }

  /** The document of `uri`, built and validated (open in the editor, or read from disk). */
  async document(uri: string): Promise<LangiumDocument> {
    const shared = this.Nn.shared as LangiumSharedServices;
    const docs = shared.workspace.LangiumDocuments;
    const builder = shared.workspace.DocumentBuilder;
    const parsed = URI.parse(uri);
    await shared.workspace.WorkspaceManager.ready;
    // An open document: its latest text, once built (builds wait until a burst of edits is read).
    await this.requests.settled(uri);
    // An opened document is added by its pending update: wait for the builder.
    if (!docs.hasDocument(parsed) && shared.workspace.TextDocuments.get(uri)) await builder.waitUntil(DocumentState.Validated);
    if (docs.hasDocument(parsed)) {
      await builder.waitUntil(DocumentState.Validated, parsed);
      return docs.getDocument(parsed)!;
    }
    let doc: LangiumDocument | undefined;
    let failure: unknown;
    await shared.workspace.WorkspaceLock.write(async (token) => {
      try {
        doc = await docs.getOrCreateDocument(parsed);
        if (doc.state < DocumentState.Validated) await builder.build([doc], { validation: true }, token);
      } catch (e) {
        failure = e;
      }
    });
    if (!doc) throw refuse(`cannot read ${uri}: ${failure instanceof Error ? failure.message : String(failure)}`);
    return doc;
  }

  /** Which model a request means: the one named, or the only one with a train block. */
  static pickModel(lowered: Lowered, doc: LangiumDocument, name: string | undefined): { model: IRModel; program: IRProgram } {
    const program = lowered.program;
    if (name !== undefined) {
      const model = program.models.find((m) => m.name === name);
      if (model) return { model, program };
      if (lowered.skipped.includes(name)) {
        const errors = (doc.diagnostics ?? []).filter((d) => d.severity === 1);
        const first = errors[0];
        throw refuse(
          `model ${name} has errors, so it cannot be trained` +
            (first ? ` (line ${first.range.start.line + 1}: ${first.message})` : ''),
        );
      }
      throw refuse(`there is no model named ${name} in this file`);
    }
    const trainable = program.models.filter((m) => program.trains.some((t) => t.model === m.name));
    if (trainable.length === 1) return { model: trainable[0], program };
    throw refuse(
      trainable.length === 0
        ? 'no model of this file can be trained: add a train block, e.g. `train MODEL on DATA { epochs: 10 }`'
        : `this file has several models with a train block (${trainable.map((m) => m.name).join(', ')}): say which`,
    );
  }

  async train(params: TrainParams): Promise<TrainResult> {
    if (!this.settings.workspaceTrusted) throw refuse(RESTRICTED_TRAIN_MESSAGE);
    const doc = await this.document(params.uri);
    const lowered = this.engine.lowered(doc);
    const { model, program } = NnLensTraining.pickModel(lowered, doc, params.model);
    const block = program.trains.find((t) => t.model === model.name);
    if (!block) {
      const hasBlock = (doc.parseResult.value as { declarations?: { $type: string; model?: { $refText?: string } }[] }).declarations?.some(
        (d) => d.$type === 'TrainDecl' && d.model?.$refText === model.name,
      );
      throw refuse(
        hasBlock
          ? `the train block of ${model.name} has errors (or its data does): fix them to train`
          : `model ${model.name} has no train block: add one, e.g. \`train ${model.name} on DATA { epochs: 10 }\``,
      );
    }
    const uri = doc.uri.toString();
    const running = this.liveRun(uri, model.name);
    if (running) throw refuse(`${model.name} is already training (run ${running.runId}); stop that run first`);
    const runId = `r${this.nextRun++}`;
    const abort = new AbortController();
    let markEnded!: () => void;
    const ended = new Promise<void>((r) => (markEnded = r));
    const run: LiveRun = {
      runId,
      uri,
      model: model.name,
      epochs: block.options.epochs,
      stepsPerEpoch: 0,
      started: Date.now(),
      progress: null,
      abort,
      ended,
    };
    this.runs.set(runId, run);
    this.engine.setTrainingDiagnostics(uri, []);
    this.events.changed();
    // A run starts from the initial weights of the train block's seed, as `nnlens train` does, or
    // (weights: 'resume') from the model's current weights. Its data goes to the worker as it is
    // when this thread has it parsed already (validating the file parsed it): the worker does not
    // parse it again.
    const job: TrainJob = { program, model: model.name, ctx: lowered.ctx };
    if (params.weights === 'resume') {
      const current = this.engine.weightsOf(doc.uri.toString(), model.name);
      if (!current) throw refuse(`${model.name} has no trained weights to continue from: train it from its initial weights first`);
      const wrong = model.params.find((p) => current.params[p.name]?.length !== p.size);
      if (wrong)
        throw refuse(
          `the current weights of ${model.name} do not fit the model as it is now (${wrong.name} is ${wrong.shape.join('×')}): train it from its initial weights`,
        );
      job.initialParams = current.params;
    }
    const threads = block.options.threads ?? this.settings.settings.trainThreads;
    if (threads !== undefined) job.options = { threads };
    const decl = program.data.find((d) => d.name === block.data);
    try {
      const data = decl ? cachedData(decl.spec, lowered.ctx) : null;
      if (data) job.loadedData = data;
    } catch {
      // the worker loads it and reports why it cannot
    }
    let onStart!: (plan: TrainPlan) => void;
    let onFail!: (e: unknown) => void;
    const started = new Promise<TrainPlan>((resolve, reject) => {
      onStart = resolve;
      onFail = reject;
    });
    void this.execute(run, this.runner, job, (plan) => {
      run.epochs = plan.epochs;
      run.stepsPerEpoch = plan.stepsPerEpoch;
      onStart(plan);
    }, onFail).finally(() => {
      this.runs.delete(runId);
      markEnded();
      this.events.changed();
    });
    let plan: TrainPlan;
    try {
      plan = await started;
    } catch (e) {
      throw refuse(`cannot train ${model.name}: ${e instanceof Error ? e.message.replace(/^training failed: /, '') : String(e)}`);
    }
    return {
      runId,
      model: model.name,
      epochs: plan.epochs,
      stepsPerEpoch: plan.stepsPerEpoch,
      hasValidation: plan.validationExamples > 0,
      hasAccuracy: plan.accuracy !== null,
    };
  }

  private async execute(
    run: LiveRun,
    runner: TrainRunner,
    job: TrainJob,
    onStart: (plan: TrainPlan) => void,
    onFailBeforeStart: (e: unknown) => void,
  ): Promise<void> {
    const base = { runId: run.runId, uri: run.uri, model: run.model };
    let outcome: TrainOutcome;
    let isStarted = false;
    // the latest decision boundary goes out with the next notification (the throttle merges reports)
    let boundary: TrainProgress['boundary'];
    const progress = new ProgressThrottle((p, loss, points) => {
      this.events.progress({ ...progressParams(base, p, loss, points), ...(boundary ? { boundary } : {}) });
      boundary = undefined;
    });
    try {
      outcome = await runner(job, {
        signal: run.abort.signal,
        onStart: (plan) => {
          isStarted = true;
          onStart(plan);
        },
        onProgress: (p) => {
          if (p.boundary) boundary = p.boundary;
          run.progress = p;
          progress.add(p);
        },
      });
      progress.flush();
    } catch (e) {
      // A run that never started is refused by the train request itself (the client knows no run).
      if (!isStarted) {
        onFailBeforeStart(e);
        return;
      }
      this.events.done({
        ...base,
        reason: 'error',
        weightsPath: null,
        message: e instanceof Error ? e.message : String(e),
        finalLoss: null,
        finalValLoss: null,
        finalAccuracy: null,
        elapsedMs: Date.now() - run.started,
      });
      return;
    }
    if (!isStarted) {
      // stopped (shutdown) before the first step: the train request is still waiting
      onFailBeforeStart(new Error(outcome.message));
      return;
    }
    const d = outcome.divergence;
    if (outcome.reason === 'diverged' && d?.range) {
      this.engine.setTrainingDiagnostics(run.uri, [
        {
          range: d.range,
          severity: DiagnosticSeverity.Warning,
          code: Codes.TrainingDiverged,
          source: 'nnlens',
          message: `training ${run.model} (run ${run.runId}) diverged here at epoch ${d.epoch}, step ${d.step}: ${d.cause}`,
        },
      ]);
    }
    let weightsPath: string | null = null;
    let note = '';
    const keep = outcome.reason === 'completed' || outcome.reason === 'stopped';
    if (keep) {
      const time = new Date().toTimeString().slice(0, 5);
      this.engine.setWeights(run.uri, run.model, {
        params: outcome.params,
        label: `the weights trained by run ${run.runId} (${outcome.reason} at ${time}, epoch ${outcome.epochs}${job.initialParams ? ', continued from earlier weights' : ''})`,
      });
      if (this.settings.settings.training.saveWeights) {
        try {
          weightsPath = await this.writeWeights(run, job, outcome);
        } catch (e) {
          note = ` (the weights could not be written: ${e instanceof Error ? e.message : String(e)})`;
        }
      }
    }
    this.events.done({
      ...base,
      reason: outcome.reason,
      weightsPath,
      message: (outcome.message || defaultMessage(outcome)) + note,
      finalLoss: outcome.finalLoss,
      finalValLoss: outcome.finalValLoss,
      finalAccuracy: outcome.finalAccuracy,
      elapsedMs: outcome.elapsedMs,
    });
  }

  private async writeWeights(run: LiveRun, job: TrainJob, outcome: TrainOutcome): Promise<string | null> {
    const uri = URI.parse(run.uri);
    if (uri.scheme !== 'file') return null;
    const model = job.program.models.find((m) => m.name === run.model);
    if (!model) return null;
    const path = join(dirname(uri.fsPath), `${run.model}.weights.json`);
    // the P.json format nnlens train writes (each number the shortest that reads back as its float32)
    await writeFile(path, weightsJson(model.params.filter((p) => outcome.params[p.name]), outcome.params));
    return path;
  }

  /** Stops a run; resolves once it has ended. */
  async stop(runId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (!run) throw refuse(`no live training run ${runId}`);
    run.abort.abort();
    await run.ended;
  }

  /** Stops every run (shutdown). */
  async stopAll(): Promise<void> {
    const all = [...this.runs.values()];
    for (const r of all) r.abort.abort();
    await Promise.all(all.map((r) => r.ended));
  }
}

/** The `nnlens/trainProgress` notification of a (merged) report and the points since the last one. */
export function progressParams(
  base: { runId: string; uri: string; model: string },
  p: TrainProgress,
  loss: number,
  points: readonly TrainPoint[],
): TrainProgressParams {
  return {
    ...base,
    epoch: p.epoch,
    step: p.step,
    loss,
    valLoss: p.valLoss,
    accuracy: p.accuracy,
    elapsedMs: p.elapsedMs,
    points: points.map((q) => ({ step: q.step, epoch: q.epoch, loss: q.loss, valLoss: q.valLoss, accuracy: q.accuracy, elapsedMs: q.elapsedMs })),
  };
}

/**
 * Notifications at most every PROGRESS_INTERVAL_MS: the loss of the reports in between is averaged
 * by steps, and every point of the loss curve they carried goes out with the next notification
 * (the messages are throttled, not the data).
 */
export const PROGRESS_INTERVAL_MS = 40;

export class ProgressThrottle {
  private last: TrainProgress | null = null;
  private sentAt = 0;
  private sum = 0;
  private steps = 0;
  private lastStep = 0;
  private points: TrainPoint[] = [];

  constructor(
    private readonly send: (p: TrainProgress, loss: number, points: TrainPoint[]) => void,
    private readonly interval = PROGRESS_INTERVAL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(p: TrainProgress): void {
    const k = Math.max(1, p.step - this.lastStep);
    this.lastStep = p.step;
    if (Number.isFinite(p.loss)) {
      this.sum += p.loss * k;
      this.steps += k;
    }
    this.last = p;
    if (p.points) for (const q of p.points) this.points.push(q);
    if (this.now() - this.sentAt >= this.interval) this.flush();
  }

  flush(): void {
    const p = this.last;
    if (!p) return;
    const points = this.points;
    this.points = [];
    this.send(p, this.steps > 0 ? this.sum / this.steps : p.loss, points);
    this.last = null;
    this.sum = 0;
    this.steps = 0;
    this.sentAt = this.now();
  }
}

function defaultMessage(o: TrainOutcome): string {
  const parts = [`${o.reason} after ${o.epochs} epoch${o.epochs === 1 ? '' : 's'} (${o.steps} steps)`];
  if (o.finalLoss !== null) parts.push(`loss ${o.finalLoss.toPrecision(4)}`);
  if (o.finalValLoss !== null) parts.push(`validation loss ${o.finalValLoss.toPrecision(4)}`);
  if (o.finalAccuracy !== null) parts.push(`accuracy ${(o.finalAccuracy * 100).toFixed(1)}%`);
  return parts.join(', ');
}
