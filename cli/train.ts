/**
 * `nnlens train FILE [--model NAME] [--json] [--workspace DIR]` (§8).
 *
 * 1. Analyse the file: errors are printed and the exit status is 1; an unknown `--model`, no model
 *    with a `train` block, or several without `--model`, is a usage error (2).
 * 2. A fast gradient check of the model (as `nnlens check --mode fast`), summarised in one line;
 *    an error it finds (a wrong `grad` line, a non-finite loss) is printed and stops here (1).
 * 3. Train in a worker thread (`trainInWorker`), so that this thread draws the progress and
 *    handles Ctrl-C while the loop runs: on a terminal a progress bar with epoch, loss and ETA
 *    under a live loss curve, and a line per epoch (at most about 20); with `--json`, one JSON
 *    object per finished epoch on stdout, `{"epoch", "step", "loss", "valLoss", "accuracy"}`
 *    (loss = the epoch's mean training loss; null where there is no value), everything else on
 *    stderr.
 * 4. Write the weights next to the file as `NAME.weights.json` (the P.json format of
 *    `nnlens grad`): the trained weights, the weights after the last finished step when stopped,
 *    the last good weights when the loss exploded.
 *
 * Exit status: 0 completed; 130 stopped by Ctrl-C (SIGINT) or SIGTERM — the weights are written;
 * a second Ctrl-C quits at once without writing; 1 the file has errors, the check found one, the
 * data cannot be loaded, or the loss exploded (the last good weights are written); 2 unusable
 * arguments.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import {
  dedupeFindings,
  describeOptimizer,
  trainInWorker,
  type IRProgram,
  type TrainOutcome,
  type TrainPlan,
  type TrainProgress,
} from '../engine';
import { checkProgramModel } from '../engine/session/pipeline';
import { brailleChart, type Series } from './chart';
import { formatDiagnostic, sortDiagnostics, toCliDiagnostic } from './diagnostics';
import { analyzeCliFile } from './load';
import { toNested, UsageError } from './tensorJson';

export interface TrainCliOptions {
  model?: string;
  json: boolean;
  workspaceRoot?: string;
  /** The training worker (default: train-worker.js next to the CLI bundle). */
  workerScript?: string;
}

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

  // ---- the fast gradient check --------------------------------------------------------------------
  const check = checkProgramModel({ program, model, ctx, mode: 'fast' });
  const findings = sortDiagnostics(dedupeFindings(check.report.findings).map(toCliDiagnostic));
  const colourErr = process.stderr.isTTY === true && !process.env.NO_COLOR;
  for (const d of findings) if (d.severity === 'error' || d.severity === 'warning') process.stderr.write(formatDiagnostic(file, d, colourErr) + '\n');
  const checkErrors = findings.filter((d) => d.severity === 'error').length;
  say(checkSummary(check.report, check.source, checkErrors));
  if (checkErrors) {
    process.stderr.write(`the gradient check found ${checkErrors === 1 ? 'an error' : `${checkErrors} errors`}: not training\n`);
    return 1;
  }

  // ---- training -----------------------------------------------------------------------------------
  const tty = !opts.json && process.stdout.isTTY === true;
  const colour = tty && !process.env.NO_COLOR;
  const view = new TrainView(opts.json, tty, colour);
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
      { program, model, ctx },
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
  const m = program.models.find((x) => x.name === model)!;
  if (outcome.reason === 'stopped' && outcome.steps === 0) {
    say(`${outcome.message}; no weights written`);
    return 130;
  }
  writeWeights(target, m.params, outcome.params);
  if (outcome.reason === 'completed') {
    say(`wrote the trained weights to ${shown}`);
    return 0;
  }
  if (outcome.reason === 'stopped') {
    say(`wrote the weights after step ${outcome.steps.toLocaleString('en-US')} to ${shown}`);
    return 130;
  }
  say(`wrote the last good weights (before step ${outcome.divergence?.step ?? outcome.steps + 1}) to ${shown}`);
  return 1;
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

/** The shortest decimal that reads back as the same float32 (the weights are float32 values). */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const f = Math.fround(v);
  for (let p = 6; p < 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return s;
  }
  return Number(f.toPrecision(9));
}

/** Writes `{"W1": nested arrays, …}` (one param per line), atomically (a temporary file renamed). */
export function writeWeights(path: string, params: readonly { name: string; shape: number[] }[], values: Record<string, ArrayLike<number>>): void {
  const lines = params.map((p) => {
    const v = values[p.name];
    const flat = Array.from(v, shortestFloat32);
    return `  ${JSON.stringify(p.name)}: ${JSON.stringify(toNested(flat, p.shape))}`;
  });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `{\n${lines.join(',\n')}\n}\n`);
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
  private readonly trainPts: [number, number][] = [];
  private readonly valPts: [number, number][] = [];
  private last: TrainProgress | null = null;

  constructor(
    private readonly json: boolean,
    private readonly tty: boolean,
    private readonly colour: boolean,
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
    this.write(
      `training ${plan.model}${plan.data ? ` on ${plan.data}` : ''}: ${split}, batch ${o.batch}${last}, ` +
        `${fmtInt(plan.epochs)} epoch${plan.epochs === 1 ? '' : 's'} × ${fmtInt(plan.stepsPerEpoch)} step${plan.stepsPerEpoch === 1 ? '' : 's'}, ` +
        `${describeOptimizer(o.optimizer)}${o.gradients === 'manual' ? ', manual gradients' : ''}, ${fmtInt(plan.parameters)} parameters\n`,
    );
  }

  progress(p: TrainProgress): void {
    this.last = p;
    if (Number.isFinite(p.loss)) this.trainPts.push([p.step, p.loss]);
    if (p.epochEnd) {
      if (p.valLoss !== null) this.valPts.push([p.step, p.valLoss]);
      if (this.json) {
        process.stdout.write(
          JSON.stringify({
            epoch: p.epoch,
            step: p.step,
            loss: finiteOrNull(p.epochLoss),
            valLoss: finiteOrNull(p.valLoss),
            accuracy: finiteOrNull(p.accuracy),
          }) + '\n',
        );
        return;
      }
      const E = p.epochs;
      const every = Math.ceil(E / 20);
      if (E <= 25 || p.epoch === 1 || p.epoch === E || p.epoch % every === 0) this.above(this.epochLine(p));
    }
    if (this.tty) {
      const now = performance.now();
      if (p.epochEnd || now - this.lastDraw >= 100) {
        this.drawLive(p);
        this.lastDraw = now;
      }
    }
  }

  private epochLine(p: TrainProgress): string {
    const w = String(p.epochs).length;
    const parts = [`epoch ${String(p.epoch).padStart(w)}/${p.epochs}`, `loss ${fmtLoss(p.epochLoss)}`];
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

  private chart(height: number): string[] {
    const series: Series[] = [{ points: this.trainPts, colour: TRAIN_COLOUR }];
    if (this.valPts.length) series.push({ points: this.valPts, colour: VAL_COLOUR, dotsOnly: this.valPts.length < 3 });
    const total = this.plan?.totalSteps ?? 0;
    return brailleChart(series, { width: this.chartWidth(), height, colour: this.colour, xLabel: `step ${fmtInt(total)}`, xMin: 0, xMax: total });
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
    const chart = this.chart(10);
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
