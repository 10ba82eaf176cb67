/**
 * `nnlens grad FILE --model NAME --params P.json --batch B.json [--json]` (§8): the loss and the
 * exact float64 gradients of a model at the given parameters on the given batch.
 */
import { lossAndGrads, type Batch, type IRModel } from '../engine';
import { formatDiagnostic, sortDiagnostics, toCliDiagnostic } from './diagnostics';
import { analyzeCliFile, readJsonObject } from './load';
import { fmtShape, sameShape } from '../engine/shape';
import { readTensor, shapeOfNested, toNested, UsageError } from './tensorJson';

export async function runGrad(
  file: string,
  opts: { model?: string; params?: string; batch?: string; json: boolean },
): Promise<number> {
  if (!opts.model) throw new UsageError('nnlens grad needs --model NAME');
  if (!opts.params) throw new UsageError('nnlens grad needs --params P.json');
  if (!opts.batch) throw new UsageError('nnlens grad needs --batch B.json');
  const analysis = await analyzeCliFile(file);
  const errors = sortDiagnostics(analysis.diagnostics.filter((d) => d.severity === 'error').map(toCliDiagnostic));
  const model = analysis.program.models.find((m) => m.name === opts.model);
  if (!model) {
    if (analysis.skippedModels.includes(opts.model) || errors.length) {
      for (const d of errors) console.error(formatDiagnostic(file, d, false));
      console.error(`model ${opts.model} has errors; no gradients`);
      return 1;
    }
    const names = analysis.program.models.map((m) => m.name);
    throw new UsageError(`${file} has no model ${opts.model}${names.length ? ` (models: ${names.join(', ')})` : ''}`);
  }
  const params = readParams(opts.params, model);
  const batch = readBatch(opts.batch, model);
  const { loss, grads } = lossAndGrads(analysis.program, model, params, batch);
  const out = {
    loss: Number.isFinite(loss) ? loss : null,
    grads: Object.fromEntries(model.params.map((p) => [p.name, toNested(grads[p.name], p.shape)])),
  };
  const nonFinite = !Number.isFinite(loss) || model.params.some((p) => grads[p.name].some((g) => !Number.isFinite(g)));
  if (nonFinite) console.error('warning: the loss or a gradient is not finite (printed as null); run `nnlens check` to find the op');
  process.stdout.write(JSON.stringify(out, null, opts.json ? undefined : 2) + '\n');
  return 0;
}

/** P.json: every param of the model, by name (`dense` params as "h.W"), with its declared shape. */
export function readParams(path: string, model: IRModel): Record<string, Float64Array> {
  const json = readJsonObject(path, 'params file');
  const known = new Set(model.params.map((p) => p.name));
  for (const key of Object.keys(json)) {
    if (!known.has(key)) {
      throw new UsageError(`${path}: "${key}" is not a param of ${model.name} (params: ${[...known].join(', ')})`);
    }
  }
  const out: Record<string, Float64Array> = {};
  for (const p of model.params) {
    if (!(p.name in json)) throw new UsageError(`${path}: missing param "${p.name}" of shape ${fmtShape(p.shape)}`);
    out[p.name] = readTensor(path, p.name, json[p.name], p.shape);
  }
  return out;
}

/** B.json: `{"x": [example, …], "t": [example, …]}` keyed by the model's input and target names. */
export function readBatch(path: string, model: IRModel): Batch {
  const json = readJsonObject(path, 'batch file');
  const decls = [...model.inputs, ...model.targets];
  const known = new Set(decls.map((d) => d.name));
  for (const key of Object.keys(json)) {
    if (!known.has(key)) {
      throw new UsageError(`${path}: "${key}" is not an input or target of ${model.name} (expected: ${[...known].join(', ')})`);
    }
  }
  let n: number | null = null;
  let first = '';
  const data: Record<string, Float64Array> = {};
  for (const d of decls) {
    if (!(d.name in json)) {
      throw new UsageError(`${path}: missing "${d.name}": a list of examples of shape ${fmtShape(d.shape)}`);
    }
    const v = json[d.name];
    const r = shapeOfNested(v);
    if (!r.ok) throw new UsageError(`${path}: "${d.name}" is not a tensor: ${r.error}`);
    const shape = r.value;
    if (shape.length === 0 || shape[0] === 0) {
      throw new UsageError(`${path}: "${d.name}" must be a non-empty list of examples of shape ${fmtShape(d.shape)}`);
    }
    const count = shape[0];
    if (n === null) {
      n = count;
      first = d.name;
    } else if (count !== n) {
      throw new UsageError(`${path}: "${d.name}" has ${count} examples but "${first}" has ${n}`);
    }
    const perExample = shape.slice(1);
    if (!sameShape(perExample, d.shape)) {
      throw new UsageError(
        `${path}: "${d.name}" has examples of shape ${fmtShape(perExample)} but the model declares ${fmtShape(d.shape)}`,
      );
    }
    data[d.name] = readTensor(path, d.name, v, [count, ...d.shape]);
  }
  return { n: n ?? 0, data };
}
