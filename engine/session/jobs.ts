/**
 * The engine side of a check job, as the worker runs it (and tests can, in process): for each
 * model, the gradient check at its current weights (pipeline.ts), the numbers hovers
 * show, and gradient-health findings on a larger batch.
 */
import {
  dedupeFindings,
  evaluateModel,
  initParams,
  loadData,
  sizeOf,
  type DataContext,
  type DataSpec,
  type Dataset,
  type Finding,
  type IRModel,
} from '../index';
import type { CheckJobRequest, CheckJobResult, CurrentWeights, ModelJobResult } from './types';
import { Codes } from '../codes';
import { healthFindings } from './health';
import { modelNumbers } from './numbers';
import { checkBatchFor, checkOptionsFor, checkProgramModel, trainSeedOf, type DataLoader } from './pipeline';

/** Examples gradient health is judged on (a superset of the check batch when the data has them). */
export const HEALTH_EXAMPLES = 32;

/** An estimate of the working memory (bytes) a check and its evaluations need. */
export function estimateBytes(model: IRModel, examples: number): number {
  const B = Math.max(examples, HEALTH_EXAMPLES);
  let values = 0;
  for (const n of model.nodes) values += sizeOf(n.shape) * (n.batched ? B : 1);
  const params = model.params.reduce((s, p) => s + p.size, 0);
  // value + gradient + per-example copies + scratch; params: value, grad, copies, numeric
  return 8 * (4 * values + 6 * params);
}

const MB = 1024 * 1024;
const fmtBytes = (b: number) => (b >= 1024 * MB ? `${(b / (1024 * MB)).toFixed(1)} GB` : `${Math.round(b / MB)} MB`);

/** Generated data sets are cached across jobs (csv files have the engine's own cache). */
function cachingLoader(): DataLoader {
  const cache = new Map<string, Dataset>();
  return (spec: DataSpec, ctx: DataContext) => {
    if (spec.kind === 'csv') return loadData(spec, ctx);
    const key = JSON.stringify(spec);
    let ds = cache.get(key);
    if (!ds) {
      ds = loadData(spec, ctx);
      cache.set(key, ds);
      while (cache.size > 4) cache.delete(cache.keys().next().value as string);
    } else {
      cache.delete(key);
      cache.set(key, ds);
    }
    return ds;
  };
}

const load = cachingLoader();

function usableWeights(model: IRModel, w: CurrentWeights | undefined): CurrentWeights | undefined {
  if (!w) return undefined;
  for (const p of model.params) if (w.params[p.name]?.length !== p.size) return undefined;
  return w;
}

/** Runs a check job. `shouldStop` is polled; `onProgress` gets the fraction done (0–1). */
export function runCheckJob(
  req: CheckJobRequest,
  shouldStop: () => boolean = () => false,
  onProgress?: (fraction: number) => void,
): CheckJobResult {
  const started = Date.now();
  const names = req.models ?? req.program.models.map((m) => m.name);
  const models: Record<string, ModelJobResult> = {};
  const findings: Finding[] = [];
  const result = (cancelled: boolean): CheckJobResult => ({
    uri: req.uri,
    version: req.version,
    models,
    findings: dedupeFindings(findings),
    cancelled,
    elapsedMs: Date.now() - started,
  });
  for (let k = 0; k < names.length; k++) {
    if (shouldStop()) return result(true);
    const model = req.program.models.find((m) => m.name === names[k]);
    if (!model) continue;
    const options = checkOptionsFor(req.program, model.name, req.defaults);
    const size = model.params.reduce((s, p) => s + p.size, 0);
    let mode = req.mode ?? options.mode;
    let note: string | null = null;
    if (!req.mode && mode === 'full' && size > req.fullCheckParamLimit) {
      mode = 'fast';
      note = `${size.toLocaleString('en-US')} parameters: checked in fast mode as you type (a full check compares every element)`;
    }
    const bytes = estimateBytes(model, options.examples);
    if (bytes > req.memoryLimit) {
      const skipped =
        `model ${model.name} is not checked as you type: its check would need about ${fmtBytes(bytes)} ` +
        `(the limit is ${fmtBytes(req.memoryLimit)}); run "Check Gradients" (nnlens check) to check it anyway`;
      models[model.name] = { model: model.name, summary: null, source: '', mode, numbers: null, skipped, note };
      findings.push({ code: Codes.CheckSkipped, severity: 'info', range: model.range, message: skipped });
      continue;
    }
    const weights = usableWeights(model, req.weights[model.name]);
    const seed = trainSeedOf(req.program, model.name);
    const params = weights?.params ?? initParams(model, seed);
    const label = weights?.label ?? `the initial weights (seed ${seed})`;
    const share = 1 / names.length;
    const r = checkProgramModel({
      program: req.program,
      model: model.name,
      ctx: req.ctx,
      mode,
      defaults: req.defaults,
      params,
      load,
      shouldStop,
      onProgress: onProgress ? (done, total) => onProgress((k + (total > 0 ? done / total : 0)) * share) : undefined,
    });
    if (r.report.cancelled) return result(true);
    findings.push(...r.report.findings);
    let numbers = null;
    if (req.numbers) {
      const ev = evaluateModel(req.program, model, r.params, r.batch);
      numbers = modelNumbers(ev, model, { report: r.report, rows: r.batch.rows, source: r.source, weights: label, eps: r.options.eps });
    }
    if (shouldStop()) return result(true);
    if (req.health) {
      const hb = checkBatchFor(req.program, model, req.ctx, HEALTH_EXAMPLES, load);
      const ev = evaluateModel(req.program, model, r.params, hb.batch);
      findings.push(...healthFindings(req.program, model, ev));
    }
    models[model.name] = { model: model.name, summary: r.summary, source: r.source, mode, numbers, skipped: null, note };
    onProgress?.((k + 1) * share);
  }
  return result(false);
}
