/**
 * The engine side of checking a document: for each lowered model, pick the weights and the
 * check batch (§7), run the gradient checker, and summarise. Pure (no LSP, no I/O except
 * reading data files through the engine), so the CLI calls it directly and the language
 * server's worker calls it off the main thread.
 */
import {
  DEFAULT_CHECK_OPTIONS,
  DEFAULT_TRAIN_OPTIONS,
  DataError,
  Rng,
  checkModel,
  initParams,
  loadData,
  randomBatch,
  subset,
  type Batch,
  type CheckOptions,
  type CheckReport,
  type DataContext,
  type DataSpec,
  type Dataset,
  type IRModel,
  type IRProgram,
  type Shape,
} from '../index';

export interface ModelSummary {
  loss: number;
  params: Record<string, { shape: Shape; maxRelError: number }>;
}

export interface CheckBatchChoice {
  batch: Batch;
  /** Where the examples came from: a data set's name, or 'random' (§7). */
  source: string;
}

/**
 * The options of a model's check: the `check` block's, over `defaults` (e.g. the editor's
 * settings), over the language's defaults.
 */
export function checkOptionsFor(program: IRProgram, model: string, defaults: Partial<CheckOptions> = {}): CheckOptions {
  const block = program.checks.find((c) => c.model === model);
  return { ...DEFAULT_CHECK_OPTIONS, ...defaults, ...(block?.options ?? {}) };
}

/** Loads a data set (the engine's `loadData`, or a caching wrapper around it). */
export type DataLoader = (spec: DataSpec, ctx: DataContext) => Dataset;

/** The seed of a model's initial weights: its `train` block's (default 0). */
export function trainSeedOf(program: IRProgram, model: string): number {
  return program.trains.find((t) => t.model === model)?.options.seed ?? DEFAULT_TRAIN_OPTIONS.seed;
}

/**
 * The examples a check runs on (§7): the `check` block's data, else the `train` block's, else
 * seeded random data of the right shapes. From a data set, `n` examples are drawn with the train
 * seed. A data set that cannot be loaded (the language reports why, on its declaration) falls
 * back to random data.
 */
export function checkBatchFor(
  program: IRProgram,
  model: IRModel,
  ctx: DataContext,
  n: number,
  load: DataLoader = loadData,
): CheckBatchChoice {
  const seed = trainSeedOf(program, model.name);
  const found = checkDataOf(program, model, ctx, load);
  if (found) {
    const { ds, name } = found;
    const idx = new Uint32Array(ds.n);
    for (let i = 0; i < ds.n; i++) idx[i] = i;
    new Rng(seed).shuffle(idx);
    const chosen = idx.subarray(0, Math.min(n, ds.n));
    const part = subset(ds, chosen);
    const data: Batch['data'] = { [model.inputs[0].name]: part.x };
    if (model.targets.length === 1) data[model.targets[0].name] = part.y;
    // messages number an example by its row of the data set (1-based), as `nnlens trace` does
    return { batch: { n: part.n, data, rows: Array.from(chosen, (i) => i + 1) }, source: name };
  }
  return { batch: randomBatch(program, model, n, seed), source: 'random' };
}

/**
 * The data set a model is checked (and traced) on: the `check` block's, else the `train`
 * block's, loaded; null when there is none, the model has not exactly one input, or the data
 * cannot be loaded (the language reports why, on its declaration) — then random data is used.
 */
export function checkDataOf(
  program: IRProgram,
  model: IRModel,
  ctx: DataContext,
  load: DataLoader = loadData,
): { name: string; ds: Dataset } | null {
  const dataName =
    program.checks.find((c) => c.model === model.name)?.data ?? program.trains.find((t) => t.model === model.name)?.data;
  const decl = dataName === undefined ? undefined : program.data.find((d) => d.name === dataName);
  if (!decl || model.inputs.length !== 1) return null;
  try {
    return { name: decl.name, ds: load(decl.spec, ctx) };
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return null;
  }
}

export interface ModelCheckJob {
  program: IRProgram;
  model: string;
  ctx: DataContext;
  /** Overrides the `check` block's mode. */
  mode?: 'fast' | 'full';
  /** Options below the `check` block's (the editor's settings). */
  defaults?: Partial<CheckOptions>;
  /** How data sets are loaded (default: the engine's loadData). */
  load?: DataLoader;
  /** Weights to check at (default: the initial weights from the train seed). */
  params?: Readonly<Record<string, ArrayLike<number>>>;
  shouldStop?: () => boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ModelCheckResult {
  model: string;
  report: CheckReport;
  summary: ModelSummary;
  source: string;
  /** The batch and weights the check ran on (for further evaluation at the same point). */
  batch: Batch;
  params: Readonly<Record<string, ArrayLike<number>>>;
  options: CheckOptions;
}

/** Gradient-checks one model of a lowered program. */
export function checkProgramModel(job: ModelCheckJob): ModelCheckResult {
  const model = job.program.models.find((m) => m.name === job.model);
  if (!model) throw new Error(`no lowered model named ${job.model}`);
  const options = checkOptionsFor(job.program, model.name, job.defaults);
  if (job.mode) options.mode = job.mode;
  const { batch, source } = checkBatchFor(job.program, model, job.ctx, options.examples, job.load);
  const params = job.params ?? initParams(model, trainSeedOf(job.program, model.name));
  const report = checkModel(job.program, model, params, batch, {
    ...options,
    seed: trainSeedOf(job.program, model.name),
    shouldStop: job.shouldStop,
    onProgress: job.onProgress,
  });
  return { model: model.name, report, summary: summarize(report), source, batch, params, options };
}

export function summarize(report: CheckReport): ModelSummary {
  const params: ModelSummary['params'] = {};
  for (const [name, p] of Object.entries(report.params)) params[name] = { shape: p.shape, maxRelError: p.maxRelError };
  return { loss: report.loss, params };
}
