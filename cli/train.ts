/**
 * `nnlens train FILE [--model NAME] [--json] [--workspace DIR] [--epochs N] [--lr X] [--batch N]
 *  [--seed N] [--threads N|auto] [--resume W.json]` (§8).
 *
 * 1. Analyse the file: errors are printed and the exit status is 1; an unknown `--model`, no model
 *    with a `train` block, or several without `--model`, is a usage error (2).
 *    The overrides replace the train block's epochs, the optimizer's lr, batch, seed and threads;
 *    `--resume W.json` starts from those weights (the P.json format) instead of the initial ones.
 * 2. A fast gradient check of the model (as `nnlens check --mode fast`), summarised in one line;
 *    an error it finds (a wrong `grad` line, a non-finite loss) is printed and stops here (1).
 * 3. Load the data here, once (the check already parsed it), and hand it to the worker.
 * 4. Train in a worker thread (`trainInWorker`), so that this thread draws the progress and
 *    handles Ctrl-C while the loop runs: on a terminal a progress bar with epoch, loss and ETA
 *    under a live loss curve, and a line per epoch (at most about 20); with `--json`, one JSON
 *    object per finished epoch on stdout, `{"epoch", "step", "loss", "valLoss", "accuracy"}`
 *    (loss = the epoch's mean training loss; null where there is no value), everything else on
 *    stderr. The curve has every point of the run (one per epoch, or per N steps of long epochs).
 * 5. Write the weights next to the file as `NAME.weights.json` (the P.json format of
 *    `nnlens grad`): the trained weights, the weights after the last finished step when stopped,
 *    the last good weights when the loss exploded.
 *
 * Exit status: 0 completed; 130 stopped by Ctrl-C (SIGINT) or SIGTERM — the weights are written;
 * a second Ctrl-C quits at once without writing; 3 the run diverged — the loss became NaN or
 * ±Infinity (the last good weights are written) or its last epoch's loss is 10× its lowest epoch's
 * (the weights are written) — with a warning; 1 the file has errors, the check found one, or the
 * data cannot be loaded; 2 unusable arguments (a missing --workspace folder or --resume file,
 * overrides out of range, weights of the wrong shapes).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import {
  dedupeFindings,
  describeOptimizer,
  loadData,
  trainInWorker,
  type Dataset,
  type IRProgram,
  type TrainOptions,
  type TrainOutcome,
  type TrainPlan,
  type TrainPoint,
  type TrainProgress,
} from '../engine';
import { shortestFloat32, weightsJson } from '../engine/train/weights';
import { checkProgramModel } from '../engine/session/pipeline';
import { brailleChart, CurvePoints, type Series } from './chart';
import { formatDiagnostic, sortDiagnostics, toCliDiagnostic } from './diagnostics';
import { readParams } from './grad';
import { analyzeCliFile } from './load';
import { UsageError } from './tensorJson';

export { shortestFloat32 };

export interface TrainCliOptions {
  model?: string;
  json: boolean;
  workspaceRoot?: string;
  /** The training worker (default: train-worker.js next to the CLI bundle). */
  workerScript?: string;
  /** Overrides of the train block's options. */
  epochs?: number;
  lr?: number;
  batch?: number;
  seed?: number;
  threads?: number | 'auto';
  /** Start from these weights (a P.json file). */
  resume?: string;
}

/** Exit status of a run that diverged (the loss became non-finite, or rose 10×). */
export const EXIT_DIVERGED = 3;

const TRAIN_COLOUR = 36; // cyan
const VAL_COLOUR = 33; // yellow

export async function runTrain(file: string, opts: TrainCliOptions): Promise<number> {
  const analysis = await analyzeCliFile(file, opts.workspaceRoot);
  const program = analysis.program;
  const human = opts.json ? process.stderr : process.stdout;
  const say = (s: string) => human.write(s + '\n');

  // ---- which model -------------------------------------------------------------------------------
  const known = [...program.models.map((m) => m.name), ...analysis.skippedModels];
  if (opts.model !== undefined && !known.includes(opts.model))
    throw new UsageError(`${file} has no model ${opts.model}${known.length ? ` (models: ${known.join(', ')})` : ''}`);
  const errors = sortDiagnostics(analysis.diagnostics.filter((d) => d.severity === 'error').map(toCliDiagnostic));
  if (errors.length) {
    const colour = process.stderr.isTTY === true && !process.env.NO_COLOR;
    for (const d of errors) process.stderr.write(formatDiagnostic(file, d, colour) + '\n');
    process.stderr.write(`${errors.length} error${errors.length === 1 ? '' : 's'}: not training\n`);
    return 1;
  }
  const model = chooseModel(file, program, opts.model);
  const ctx = { baseDir: dirname(resolve(file)), workspaceRoot: opts.workspaceRoot };
  const irModel = program.models.find((x) => x.name === model)!;
  const block = program.trains.find((t) => t.model === model)!;
  const overrides = trainOverrides(block.options, opts);
  let initialParams: Record<string, Float64Array> | undefined;
  if (opts.resume !== undefined) {
    try {
      initialParams = readParams(opts.resume, irModel);
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(`--resume: ${e.message}`);
      throw e;
    }
  }

  // ---- the fast gradient check --------------------------------------------------------------------
  // the check and the run share one loading of the data (a csv is parsed once: by the analysis's
  // validating pass when it keeps its numbers, else here)
  const decl = program.data.find((d) => d.name === block.data);
  let loaded: { spec: unknown; data: Dataset } | null = null;
  const load = (spec: Parameters<typeof loadData>[0], c: Parameters<typeof loadData>[1]): Dataset => {
    if (loaded?.spec === spec) return loaded.data;
    const data = loadData(spec, c);
    if (spec === decl?.spec) loaded = { spec, data };
    return data;
  };
  const check = checkProgramModel({ program, model, ctx, mode: 'fast', load });
  const findings = sortDiagnostics(dedupeFindings(check.report.findings).map(toCliDiagnostic));
  const colourErr = process.stderr.isTTY === true && !process.env.NO_COLOR;
  for (const d of findings) if (d.severity === 'error' || d.severity === 'warning') process.stderr.write(formatDiagnostic(file, d, colourErr) + '\n');
  const checkErrors = findings.filter((d) => d.severity === 'error').length;
  say(checkSummary(check.report, check.source, checkErrors));
  if (checkErrors) {
    process.stderr.write(`the gradient check found ${checkErrors === 1 ? 'an error' : `${checkErrors} errors`}: not training\n`);
    return 1;
  }

  // ---- the data, parsed once (the check above already read it) and handed to the worker ----------
  let loadedData: Dataset;
  try {
    if (!decl) throw new Error(`no data named ${block.data}`);
    loadedData = load(decl.spec, ctx);
  } catch (e) {
    process.stderr.write(`nnlens train: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }

  // ---- training -----------------------------------------------------------------------------------
  const tty = !opts.json && process.stdout.isTTY === true;
  const colour = tty && !process.env.NO_COLOR;
  const view = new TrainView(opts.json, tty, colour, opts.resume);
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      ac.abort();
      view.note('stopping… (Ctrl-C again quits without writing the weights)');
    } else {
      view.clearLive();
      process.stderr.write('interrupted again: quit without writing the weights\n');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let outcome: TrainOutcome;
  try {
    outcome = await trainInWorker(
      { program, model, ctx, options: overrides, loadedData, ...(initialParams ? { initialParams } : {}) },
      {
        signal: ac.signal,
        workerScript: opts.workerScript,
        onStart: (plan) => view.start(plan),
        onProgress: (p) => view.progress(p),
      },
    );
  } catch (e) {
    view.clearLive();
    process.stderr.write(`nnlens train: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  view.finish(outcome);

  // ---- the weights -------------------------------------------------------------------------------
  const target = join(dirname(resolve(file)), `${model}.weights.json`);
  const shown = relative(process.cwd(), target) || target;
  if (outcome.reason === 'stopped' && outcome.steps === 0) {
    say(`${outcome.message}; no weights written`);
    return 130;
  }
  writeWeights(target, irModel.params, outcome.params);
  const lr = overrides.optimizer?.lr ?? block.options.optimizer.lr;
  if (outcome.reason === 'completed') {
    say(`wrote the trained weights to ${shown}`);
    const rose = outcome.lossRose;
    if (!rose) return 0;
    process.stderr.write(
      `warning: the training loss rose from ${fmtLoss(rose.bestLoss)} (epoch ${rose.bestEpoch}) to ${fmtLoss(rose.finalLoss)} (epoch ${rose.finalEpoch}), ` +
        `${fmtRatio(rose.finalLoss / rose.bestLoss)} its lowest: the run diverged — try a lower lr (now ${lr})\n`,
    );
    return EXIT_DIVERGED;
  }
  if (outcome.reason === 'stopped') {
    say(`wrote the weights after step ${outcome.steps.toLocaleString('en-US')} to ${shown}`);
    return 130;
  }
  say(`wrote the last good weights (before step ${outcome.divergence?.step ?? outcome.steps + 1}) to ${shown}`);
  process.stderr.write(`warning: the run diverged: the loss became ${outcome.divergence && /Infinity/.test(outcome.divergence.cause) ? 'infinite' : 'non-finite'} — try a lower lr (now ${lr})\n`);
  return EXIT_DIVERGED;
}

const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r >= 100 ? Math.round(r) : r.toPrecision(2)}×` : 'far above');

/** The train block's options with the command line's overrides (checked: usage errors). */
function trainOverrides(block: TrainOptions, o: TrainCliOptions): Partial<TrainOptions> {
  const out: Partial<TrainOptions> = {};
  if (o.epochs !== undefined) {
    if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new UsageError(`--epochs must be a positive integer, not ${o.epochs}`);
    out.epochs = o.epochs;
  }
  if (o.batch !== undefined) {
    if (!Number.isInteger(o.batch) || o.batch < 1) throw new UsageError(`--batch must be a positive integer, not ${o.batch}`);
    out.batch = o.batch;
  }
  if (o.seed !== undefined) {
    if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 4294967295) throw new UsageError(`--seed must be an integer from 0 to 4294967295, not ${o.seed}`);
    out.seed = o.seed;
  }
  if (o.lr !== undefined) {
    if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw new UsageError(`--lr must be a positive number, not ${o.lr}`);
    out.optimizer = { ...block.optimizer, lr: o.lr };
  }
  if (o.threads !== undefined) {
    if (o.threads !== 'auto' && !(Number.isInteger(o.threads) && o.threads >= 1 && o.threads <= 256))
      throw new UsageError(`--threads must be auto or an integer from 1 to 256, not ${o.threads}`);
    out.threads = o.threads;
  }
  return out;
}

function chooseModel(file: string, program: IRProgram, wanted: string | undefined): string {
  const trained = [...new Set(program.trains.map((t) => t.model))].filter((n) => program.models.some((m) => m.name === n));
  if (wanted !== undefined) {
    if (!trained.includes(wanted)) throw new UsageError(`model ${wanted} has no train block: nothing says how to train it`);
    return wanted;
  }
  if (trained.length === 0) throw new UsageError(`${file} has no model with a train block`);
  if (trained.length > 1) throw new UsageError(`${file} trains several models (${trained.join(', ')}); choose one with --model NAME`);
  return trained[0];
}

function checkSummary(report: ReturnType<typeof checkProgramModel>['report'], source: string, errors: number): string {
  const ps = Object.values(report.params);
  const checked = ps.filter((p) => Number.isFinite(p.maxRelError));
  const worst = checked.reduce((m, p) => Math.max(m, p.maxRelError), 0);
  const lines = report.backwardLines.length ? `, ${report.backwardLines.length} backward line${report.backwardLines.length === 1 ? '' : 's'}` : '';
  const on = `${report.examples} example${report.examples === 1 ? '' : 's'} of ${source === 'random' ? 'random data' : source}`;
  const verdict = errors ? `${errors} error${errors === 1 ? '' : 's'}` : checked.length < ps.length ? 'some not checked' : 'ok';
  return `gradient check (fast, ${on}): ${ps.length} param${ps.length === 1 ? '' : 's'}${lines}, max relative error ${checked.length ? worst.toExponential(1) : 'n/a'} — ${verdict}`;
}

// ---- the weights file ---------------------------------------------------------------------------

/**
 * Writes `{"W1": nested arrays, …}` (one param per line, each number the shortest decimal that
 * reads back as the same float32), atomically (a temporary file renamed).
 */
export function writeWeights(path: string, params: readonly { name: string; shape: number[] }[], values: Record<string, ArrayLike<number>>): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, weightsJson(params, values));
  renameSync(tmp, path);
}

// ---- what the terminal shows ----------------------------------------------------------------------

export function fmtLoss(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toFixed(4);
}

const fmtPct = (a: number | null) => (a === null ? '—' : `${(100 * a).toFixed(1)}%`);
const fmtInt = (n: number) => n.toLocaleString('en-US');

function fmtDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}

const finiteOrNull = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : v);

/** Progress, epoch lines and the loss curve (terminal), or the JSON lines (--json). */
class TrainView {
  private plan: TrainPlan | null = null;
  private live = 0;
  private lastDraw = 0;
  /** The curves: every point of the run, decimated beyond a cap (a chart is ~150 dots wide). */
  private readonly trainPts = new CurvePoints(4000);
  private readonly valPts = new CurvePoints(4000);
  private last: TrainProgress | null = null;

  constructor(
    private readonly json: boolean,
    private readonly tty: boolean,
    private readonly colour: boolean,
    private readonly resume?: string,
  ) {}

  private write(s: string): void {
    (this.json ? process.stderr : process.stdout).write(s);
  }

  start(plan: TrainPlan): void {
    this.plan = plan;
    const o = plan.options;
    const split = plan.validationExamples
      ? `${fmtInt(plan.trainExamples)} training + ${fmtInt(plan.validationExamples)} validation examples`
      : `${fmtInt(plan.trainExamples)} examples (no validation split)`;
    const last = plan.lastBatch !== o.batch ? ` (last ${plan.lastBatch})` : '';
    const threads = plan.threads > 1 ? `, ${plan.threads} threads` : '';
    const from = this.resume ? `, from the weights in ${this.resume}` : '';
    this.write(
      `training ${plan.model}${plan.data ? ` on ${plan.data}` : ''}: ${split}, batch ${o.batch}${last}, ` +
        `${fmtInt(plan.epochs)} epoch${plan.epochs === 1 ? '' : 's'} × ${fmtInt(plan.stepsPerEpoch)} step${plan.stepsPerEpoch === 1 ? '' : 's'}, ` +
        `${describeOptimizer(o.optimizer)}${o.gradients === 'manual' ? ', manual gradients' : ''}, ${fmtInt(plan.parameters)} parameters${threads}${from}\n`,
    );
  }

  progress(p: TrainProgress): void {
    this.last = p;
    for (const pt of p.points ?? []) this.point(pt);
    if (this.tty) {
      const now = performance.now();
      if (now - this.lastDraw >= 100) {
        this.drawLive(p);
        this.lastDraw = now;
      }
    }
  }

  private point(pt: TrainPoint): void {
    this.trainPts.push(pt.step, pt.loss);
    if (!pt.epochEnd) return;
    if (pt.valLoss !== null) this.valPts.push(pt.step, pt.valLoss);
    if (this.json) {
      process.stdout.write(
        JSON.stringify({
          epoch: pt.epoch,
          step: pt.step,
          loss: finiteOrNull(pt.epochLoss),
          valLoss: finiteOrNull(pt.valLoss),
          accuracy: finiteOrNull(pt.accuracy),
        }) + '\n',
      );
      return;
    }
    const E = this.plan?.epochs ?? pt.epoch;
    const every = Math.ceil(E / 20);
    if (E <= 25 || pt.epoch === 1 || pt.epoch === E || pt.epoch % every === 0) this.above(this.epochLine(pt, E));
  }

  private epochLine(p: TrainPoint, epochs: number): string {
    const w = String(epochs).length;
    const parts = [`epoch ${String(p.epoch).padStart(w)}/${epochs}`, `loss ${fmtLoss(p.epochLoss)}`];
    if (p.valLoss !== null) parts.push(`val loss ${fmtLoss(p.valLoss)}`);
    if (p.accuracy !== null) parts.push(`accuracy ${fmtPct(p.accuracy)}${this.plan?.evaluatedOn === 'training' ? ' (training set)' : ''}`);
    parts.push(fmtDuration(p.elapsedMs));
    return parts.join('  ');
  }

  /** A line printed above the live area (which is redrawn below it). */
  private above(line: string): void {
    this.clearLive();
    this.write(line + '\n');
  }

  note(line: string): void {
    if (this.json) process.stderr.write(line + '\n');
    else {
      this.above(line);
      if (this.tty && this.last) this.drawLive(this.last);
    }
  }

  clearLive(): void {
    if (this.live > 0) {
      process.stdout.write(`\x1b[${this.live}F\x1b[J`);
      this.live = 0;
    }
  }

  private chartWidth(): number {
    const cols = process.stdout.columns || 80;
    return Math.max(20, Math.min(72, cols - 12));
  }

  /** The chart; its x axis runs to the run's last step (the steps done, for a stopped run). */
  private chart(height: number, stopped?: { epoch: number; steps: number }): string[] {
    const train = this.trainPts.points();
    const val = this.valPts.points();
    const series: Series[] = [{ points: train, colour: TRAIN_COLOUR }];
    if (val.length) series.push({ points: val, colour: VAL_COLOUR, dotsOnly: val.length < 3 });
    const total = stopped ? stopped.steps : (this.plan?.totalSteps ?? 0);
    const xLabel = stopped ? `step ${fmtInt(total)}, stopped at epoch ${stopped.epoch}` : `step ${fmtInt(total)}`;
    return brailleChart(series, { width: this.chartWidth(), height, colour: this.colour, xLabel, xMin: 0, xMax: total });
  }

  private drawLive(p: TrainProgress): void {
    const plan = this.plan;
    if (!plan) return;
    this.clearLive();
    const lines = this.trainPts.length >= 2 ? this.chart(6) : [];
    const total = plan.totalSteps;
    const frac = total ? Math.min(1, p.step / total) : 1;
    const eta = p.step > 0 ? fmtDuration((p.elapsedMs / p.step) * (total - p.step)) : '…';
    const parts = [
      `epoch ${p.epoch}/${p.epochs}`,
      `step ${fmtInt(p.step)}/${fmtInt(total)}`,
      `loss ${fmtLoss(p.loss)}`,
    ];
    if (p.valLoss !== null) parts.push(`val ${fmtLoss(p.valLoss)}`);
    if (p.accuracy !== null) parts.push(`acc ${fmtPct(p.accuracy)}`);
    parts.push(`ETA ${eta}`);
    const text = parts.join('  ');
    // the bar takes what the line leaves; a wrapped line would throw off the cursor movement
    // that redraws this area
    const cols = process.stdout.columns || 80;
    const W = Math.max(8, Math.min(30, cols - 4 - text.length));
    const done = Math.round(frac * W);
    lines.push(`[${'█'.repeat(done)}${'░'.repeat(W - done)}]  ${text}`.slice(0, Math.max(10, cols - 1)));
    process.stdout.write(lines.join('\n') + '\n');
    this.live = lines.length;
  }

  finish(o: TrainOutcome): void {
    this.clearLive();
    if (this.json) {
      process.stderr.write(o.message + '\n');
      return;
    }
    const stopped = o.reason === 'stopped' ? { epoch: o.stoppedInEpoch ?? o.epochs + 1, steps: o.steps } : undefined;
    const chart = this.chart(10, stopped);
    if (chart.length) {
      this.write('\n' + chart.join('\n') + '\n');
      const dot = (c: number, s: string) => (this.colour ? `\x1b[${c}m${s}\x1b[0m` : s);
      const legend = [`${dot(TRAIN_COLOUR, '⠤⠤')} training loss`];
      if (this.valPts.length) legend.push(`${dot(VAL_COLOUR, '⠤⠤')} validation loss`);
      this.write(`   ${legend.join('   ')}\n\n`);
    }
    const tail: string[] = [];
    if (o.finalValLoss !== null) tail.push(`validation loss ${fmtLoss(o.finalValLoss)}`);
    if (o.finalAccuracy !== null)
      tail.push(`${this.plan?.evaluatedOn === 'training' ? 'training' : 'validation'} accuracy ${fmtPct(o.finalAccuracy)}`);
    if (o.finalLoss !== null) tail.unshift(`training loss ${fmtLoss(o.finalLoss)}`);
    const head = o.reason === 'completed' ? o.message : o.reason === 'stopped' ? o.message : `diverged: ${o.message}`;
    this.write(`${head}${tail.length && o.reason !== 'diverged' ? ` — ${tail.join(', ')}` : ''}\n`);
  }
}
