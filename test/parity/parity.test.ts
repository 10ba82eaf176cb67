/**
 * PyTorch parity: for every model of test/parity/models/, `nnlens grad` (the built CLI, float64)
 * and a hand-written PyTorch equivalent (test/parity/torch_models.py, float64, batch-first,
 * loss = mean over the batch of per-example losses) agree on the loss and on every element of
 * every gradient to a relative error of 1e-9, at two points: the model's initial weights
 * (seed 0) and a random perturbation of them. Skipped, with the reason, when PyTorch is absent.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { initParams, type IRModel } from '../../engine/index';
import { analyzeFile } from '../../language/index';
import {
  PARITY,
  PYTHON,
  batchJson,
  fmtWorst,
  jsonOf,
  nnlens,
  paramsJson,
  perturbed,
  requireBuiltCli,
  run,
  tempDir,
  torchUnavailable,
  worstError,
  writeJson,
  type Worst,
} from './harness';
import { PARITY_MODELS } from './models';


const TOLERANCE = 1e-9;
const EXAMPLES = 5;
const POINTS = ['initial weights', 'perturbed weights'] as const;

interface GradResult {
  loss: number | null;
  grads: Record<string, unknown>;
}

const skip = torchUnavailable();

describe.skipIf(skip !== null)(`PyTorch parity of nnlens grad (${skip ?? PYTHON})`, () => {
  const results = new Map<string, { model: IRModel; ours: GradResult; theirs: GradResult }>();

  beforeAll(async () => {
    requireBuiltCli();
    const dir = tempDir('parity');
    const jobs: { model: string; params: string; batch: string }[] = [];
    const ours: { key: string; model: IRModel; out: GradResult }[] = [];
    for (const [i, m] of PARITY_MODELS.entries()) {
      const file = join(PARITY, 'models', m.file);
      const { program } = await analyzeFile(file);
      const model = program.models.find((x) => x.name === m.model);
      if (!model) throw new Error(`${m.file} has no model ${m.model} (or it has errors)`);
      const initial = initParams(model, 0);
      for (const [k, point] of POINTS.entries()) {
        const values = k === 0 ? initial : perturbed(initial, 0.3, 100 + i);
        const P = writeJson(join(dir, `${m.model}-${k}.P.json`), paramsJson(model, values));
        const B = writeJson(join(dir, `${m.model}-${k}.B.json`), batchJson(model, EXAMPLES, m.targets, 200 + 10 * i + k));
        const r = nnlens(['grad', file, '--model', m.model, '--params', P, '--batch', B, '--json']);
        ours.push({ key: `${m.model} at ${point}`, model, out: jsonOf<GradResult>(r, `nnlens grad ${m.file}`) });
        jobs.push({ model: m.model, params: P, batch: B });
      }
    }
    const theirs = jsonOf<GradResult[]>(
      run(PYTHON, [join(PARITY, 'torch_models.py'), 'grads', writeJson(join(dir, 'jobs.json'), jobs)]),
      'torch_models.py',
    );
    ours.forEach((o, i) => results.set(o.key, { model: o.model, ours: o.out, theirs: theirs[i] }));
  });

  const cases = PARITY_MODELS.flatMap((m) => POINTS.map((point) => ({ ...m, point })));
  const worst: Record<string, Worst> = {};

  test.each(cases)('$file: $model at $point — loss and every gradient within 1e-9 of PyTorch', ({ model, point }) => {
    const r = results.get(`${model} at ${point}`);
    expect(r).toBeDefined();
    const { model: ir, ours, theirs } = r!;
    expect(Object.keys(ours.grads).sort()).toEqual(ir.params.map((p) => p.name).sort());
    const w = worstError(ours, theirs, ir.params.map((p) => p.name));
    worst[`${model} at ${point}`] = w;
    console.info(`parity ${model} at ${point}: worst relative error ${fmtWorst(w)}`);
    expect(w.error, fmtWorst(w)).toBeLessThanOrEqual(TOLERANCE);
    // the comparison can fail: the losses are not trivially equal constants
    expect(Math.abs(ours.loss ?? 0)).toBeGreaterThan(1e-3);
  });

  test('the comparison notices a wrong gradient (a 1e-7 change of one element)', () => {
    const r = results.get(`Classifier at ${POINTS[1]}`)!;
    const grads = JSON.parse(JSON.stringify(r.ours.grads)) as Record<string, number[][]>;
    grads.W1[2][3] *= 1 + 1e-7;
    const w = worstError({ loss: r.ours.loss, grads }, r.theirs, r.model.params.map((p) => p.name));
    expect(w.where).toBe('W1[13]');
    expect(w.error).toBeGreaterThan(TOLERANCE);
  });
});
