/**
 * A launch of `nnlens dap` (§11): its arguments checked, the file analyzed, and what the session
 * runs on — the trace of one example (mode "check", the default) or a training run (mode
 * "train"). Every way a launch can fail is a one-line message for the launch's error response.
 */
import { statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { analysisServices, analyzeFile, NnAst, type Analysis } from '../language';
import type { IRModel } from '../engine/ir';
import { err, ok, type Result } from '../engine/result';
import { traceModel, type Trace } from '../engine/session/trace';
import { Trainer } from '../engine/train/trainer';
import { Evaluator } from './evaluator';
import { planStops, traceEnv, type StopPlan } from './stops';
import { readWeights } from './weights';

/** The launch configuration's attributes (package.json's `contributes.debuggers` documents them). */
export interface LaunchArguments {
  program?: unknown;
  model?: unknown;
  example?: unknown;
  weights?: unknown;
  stopOnEntry?: unknown;
  mode?: unknown;
  stopOnNaN?: unknown;
  /** Data files must stay inside this folder (default: the program's folder). */
  workspaceRoot?: unknown;
  /** Set by VS Code in Restricted Mode: no data files are read (random check data instead). */
  restricted?: unknown;
  /** Relative paths are resolved against it (default: the adapter's working directory). */
  cwd?: unknown;
}

export const RESTRICTED_DATA = 'not read: this workspace is in Restricted Mode, so the debugger reads no data files (it uses random check data)';

interface Common {
  file: string;
  /** The file as the messages name it (relative to the working directory when inside it). */
  shown: string;
  analysis: Analysis;
  model: IRModel;
  /** 1-based: the model's first and last lines, and its name's column. */
  lines: { line: number; endLine: number; nameColumn: number };
  stopOnEntry: boolean;
  /** Lines for the Debug Console. */
  notes: string[];
}

export interface CheckLaunch extends Common {
  mode: 'check';
  trace: Trace;
  plan: StopPlan;
  evaluator: Evaluator;
}

export interface TrainLaunch extends Common {
  mode: 'train';
  trainer: Trainer;
  stopOnNaN: boolean;
}

export type Launch = CheckLaunch | TrainLaunch;

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

function flag(v: unknown, name: string, dflt: boolean): Result<boolean, string> {
  if (v === undefined || v === null) return ok(dflt);
  if (typeof v === 'boolean') return ok(v);
  return err(`"${name}" must be true or false, not ${JSON.stringify(v)}`);
}

/** Checks a launch's arguments and prepares what the session runs on. */
export async function prepareLaunch(args: LaunchArguments): Promise<Result<Launch, string>> {
  if (typeof args.program !== 'string' || !args.program.trim()) {
    return err('the launch configuration needs "program": the path of a .nn file');
  }
  const cwd = typeof args.cwd === 'string' && args.cwd ? args.cwd : process.cwd();
  const file = resolve(cwd, args.program);
  const rel = relative(cwd, file);
  const shown = rel && !rel.startsWith('..') ? rel : file;
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    return err(`cannot debug ${shown}: the file does not exist`);
  }
  if (!isFile) return err(`cannot debug ${shown}: it is not a file`);

  const mode = args.mode ?? 'check';
  if (mode !== 'check' && mode !== 'train') return err(`"mode" must be "check" (step through one example) or "train", not ${JSON.stringify(mode)}`);
  let example = 1;
  if (args.example !== undefined && args.example !== null) {
    const n = typeof args.example === 'string' && /^\s*\d+\s*$/.test(args.example) ? Number(args.example) : args.example;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
      return err(`"example" must be a whole number from 1 (the first example), not ${JSON.stringify(args.example)}`);
    }
    example = n;
  }
  const stopOnEntry = flag(args.stopOnEntry, 'stopOnEntry', false);
  if (!stopOnEntry.ok) return stopOnEntry;
  const stopOnNaN = flag(args.stopOnNaN, 'stopOnNaN', true);
  if (!stopOnNaN.ok) return stopOnNaN;
  const restricted = flag(args.restricted, 'restricted', false);
  if (!restricted.ok) return restricted;
  if (args.weights !== undefined && args.weights !== null && typeof args.weights !== 'string') {
    return err(`"weights" must be the path of a weights file (P.json), not ${JSON.stringify(args.weights)}`);
  }
  const workspaceRoot = typeof args.workspaceRoot === 'string' && args.workspaceRoot ? resolve(cwd, args.workspaceRoot) : undefined;

  // the file: analyzed as `nnlens check` does (data files unread in Restricted Mode)
  const contexts = analysisServices().analysis.DataContext;
  contexts.fileAccessBlocked = restricted.value ? RESTRICTED_DATA : undefined;
  const analysis = await analyzeFile(file, workspaceRoot ? { workspaceRoot } : {});
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error' && !d.message.includes(RESTRICTED_DATA));
  if (errors.length) {
    const d = errors[0];
    return err(
      `${shown} has ${plural(errors.length, 'error')}; the first, on line ${d.range.start.line + 1}, column ${d.range.start.character + 1}: ${d.message} (${d.code})`,
    );
  }
  const names = analysis.program.models.map((m) => m.name);
  let modelName: string;
  if (args.model === undefined || args.model === null || args.model === '') {
    if (names.length === 0) return err(`${shown} has no model to debug`);
    if (names.length > 1) return err(`${shown} has ${names.length} models (${names.join(', ')}): say which one with "model"`);
    modelName = names[0];
  } else if (typeof args.model !== 'string') {
    return err(`"model" must be a model's name, not ${JSON.stringify(args.model)}`);
  } else modelName = args.model;
  const model = analysis.program.models.find((m) => m.name === modelName);
  if (!model) return err(`${shown} has no model ${modelName}${names.length ? ` (models: ${names.join(', ')})` : ''}`);
  const decl = analysis.document.parseResult.value.declarations.find((d): d is NnAst.ModelDecl => NnAst.isModelDecl(d) && d.name === modelName);
  const cst = decl?.$cstNode;
  const lines = {
    line: model.range.start.line + 1,
    endLine: cst ? cst.range.end.line + 1 : model.range.end.line + 1,
    nameColumn: model.range.start.character + 1,
  };
  if (cst) lines.line = cst.range.start.line + 1;

  const notes: string[] = [];
  let params: Record<string, Float64Array> | undefined;
  let weightsLabel: string | undefined;
  if (typeof args.weights === 'string' && args.weights) {
    if (restricted.value) notes.push(`Restricted Mode: the weights file ${args.weights} is not read; the initial weights are used`);
    else {
      const path = resolve(dirname(file), args.weights);
      const w = readWeights(path, model);
      if (!w.ok) return w;
      params = w.value;
      weightsLabel = `the weights of ${relative(dirname(file), path) || path}`;
    }
  }
  if (restricted.value) notes.push('Restricted Mode: no data files are read; examples come from the random check data');
  const ctx = { baseDir: dirname(file), ...(workspaceRoot ? { workspaceRoot } : {}) };
  const common: Common = { file, shown, analysis, model, lines, stopOnEntry: stopOnEntry.value, notes };

  if (mode === 'train') {
    if (restricted.value) return err('training is off in Restricted Mode: it reads data files. Trust the workspace to train');
    if (!analysis.program.trains.some((t) => t.model === modelName)) {
      return err(`model ${modelName} has no train block, and "mode": "train" runs it (add one, e.g. train ${modelName} on DATA { epochs: 10 })`);
    }
    let trainer: Trainer;
    try {
      trainer = new Trainer({ program: analysis.program, model: modelName, ctx, ...(params ? { initialParams: params } : {}) });
    } catch (e) {
      return err(`cannot train ${modelName}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return ok({ ...common, mode: 'train', trainer, stopOnNaN: stopOnNaN.value });
  }

  const r = traceModel({
    program: analysis.program,
    model: modelName,
    example,
    ctx,
    ...(params ? { params, weightsLabel } : {}),
  });
  if (!r.ok) return err(`${modelName}: ${r.error.message}`);
  const trace = r.value;
  const plan = planStops(trace, lines);
  const evaluator = new Evaluator(analysis, modelName, traceEnv(trace));
  return ok({ ...common, mode: 'check', trace, plan, evaluator });
}
