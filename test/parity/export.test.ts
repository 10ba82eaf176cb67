/**
 * `nnlens export FILE --model NAME --to pytorch [-o OUT.py]`: usage errors; a standalone script
 * (only torch, numpy and the standard library); and, when PyTorch is there, the script run for
 * real — its float64 loss and gradients against the engine's on the parity models (two points)
 * and on every example (its embedded data and initial weights); its copy of NN Lens's generator
 * against engine/rng.ts; its training epoch by epoch against the trainer (runTraining: float64
 * exactly, float32 within rounding); and examples/xor.nn trained by the script and by
 * `nnlens train`, all 500 epochs, with the same losses and weights.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  DEFAULT_TRAIN_OPTIONS,
  initParams,
  loadData,
  lossAndGrads,
  Rng,
  EpochShuffler,
  splitData,
  type IRModel,
  type IRProgram,
  type SplitData,
  type TrainOptions,
} from '../../engine/index';
import { analyzeFile } from '../../language/index';
import { trainingSeeds } from '../../engine/train/index';
import {
  PARITY,
  PYTHON,
  ROOT,
  batchJson,
  flat,
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
  type Nested,
} from './harness';
import { PARITY_MODELS } from './models';
import { jsBackend } from '../../engine/index';
import { runTraining } from '../../engine/train/index';
import { generatePyTorch } from '../../cli/export/pytorch';

interface EpochLine {
  epoch: number;
  step: number;
  loss: number;
  valLoss: number | null;
  accuracy: number | null;
}

const EXAMPLES_DIR = join(ROOT, 'examples');
/** Names Python reserves, a partial grad line, manual gradients with an unbatched line. */
const AWKWARD = join(PARITY, 'export-cases', 'awkward.nn');
const EXAMPLE_FILES = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.nn'));
const TOLERANCE = 1e-9;
/** --check on the first examples of each training set (all of them for small sets). */
const CHECK_EXAMPLES = 64;

interface Loaded {
  file: string;
  program: IRProgram;
  model: IRModel;
  options: TrainOptions;
  split: SplitData | null;
}

async function loadModel(file: string, name: string): Promise<Loaded> {
  const { program, diagnostics } = await analyzeFile(file);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${file}: ${errors.map((d) => d.message).join('; ')}`);
  const model = program.models.find((m) => m.name === name);
  if (!model) throw new Error(`${file} has no model ${name}`);
  const train = program.trains.find((t) => t.model === name);
  const options = train?.options ?? DEFAULT_TRAIN_OPTIONS;
  let split: SplitData | null = null;
  if (train) {
    const spec = program.data.find((d) => d.name === train.data)!.spec;
    split = splitData(loadData(spec, { baseDir: dirname(file) }), options.split, trainingSeeds(options.seed).split);
  }
  return { file, program, model, options, split };
}

function exportTo(file: string, model: string, out: string): string {
  const r = nnlens(['export', file, '--model', model, '--to', 'pytorch', '-o', out]);
  if (r.status !== 0) throw new Error(`nnlens export ${file} --model ${model} exited ${r.status}: ${r.stderr}`);
  return out;
}

/**
 * The script of a model `nnlens check` rejects on purpose (straight_through.nn: a grad line that is
 * not the body's derivative), which the CLI refuses to export (test/export/cli.test.ts): written
 * by the same generator in-process, without a train block.
 */
async function exportRejected(file: string, name: string, out: string): Promise<string> {
  const { program, model } = await loadModel(file, name);
  writeFileSync(
    out,
    generatePyTorch({
      program,
      model,
      source: file,
      command: `(test) ${name}`,
      options: DEFAULT_TRAIN_OPTIONS,
      dataText: null,
      data: null,
      initial: initParams(model, 0),
      statementText: () => null,
    }),
  );
  return out;
}

async function exampleModels(): Promise<{ file: string; model: string }[]> {
  const out: { file: string; model: string }[] = [];
  for (const f of EXAMPLE_FILES) {
    const { program } = await analyzeFile(join(EXAMPLES_DIR, f));
    for (const m of program.models) out.push({ file: f, model: m.name });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

describe('nnlens export: usage', () => {
  beforeAll(requireBuiltCli);
  const xor = join(EXAMPLES_DIR, 'xor.nn');

  test.each([
    [['--model', 'Nope', '--to', 'pytorch'], /has no model Nope \(models: Xor\)/],
    [['--model', 'Xor', '--to', 'tensorflow'], /cannot export to tensorflow: the targets are pytorch and onnx/],
    [['--model', 'Xor'], /needs --to pytorch or --to onnx/],
    [['--to', 'pytorch'], /needs --model NAME/],
    [['--model', 'Xor', '--to', 'pytorch', '--bogus'], /unknown option --bogus/],
  ])('%j exits 2 with a message', (args, message) => {
    const r = nnlens(['export', xor, ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  test('a model with errors exits 1 (nnlens check rejects the file) and names the error', () => {
    const dir = tempDir('export-err');
    const file = join(dir, 'bad.nn');
    writeFileSync(
      file,
      'model Bad {\n  input x: [3]\n  target t: [2]\n  param W: [2, 4]\n  loss C = mse(W @ x, t)\n}\n',
    );
    const r = nnlens(['export', file, '--model', 'Bad', '--to', 'pytorch']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/bad\.nn:5:\d+ - error shape-mismatch/);
    expect(r.stderr).toMatch(/nnlens check rejects .*bad\.nn \(1 error\); nothing exported/);
  });

  test('without -o the script goes to stdout; with -o to the file, the same script', () => {
    const dir = tempDir('export-out');
    const r = nnlens(['export', xor, '--model', 'Xor', '--to', 'pytorch']);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('#!/usr/bin/env python3\n')).toBe(true);
    const out = exportTo(xor, 'Xor', join(dir, 'xor.py'));
    // the header repeats the command, which differs only by -o
    const body = (s: string) => s.split('\n').slice(3).join('\n');
    expect(body(readFileSync(out, 'utf8'))).toBe(body(r.stdout));
  });

  test.each(EXAMPLE_FILES)('%s: every model exports to a script that imports only torch, numpy and the standard library', async (f) => {
    const { program } = await analyzeFile(join(EXAMPLES_DIR, f));
    for (const m of program.models) {
      const r = nnlens(['export', join(EXAMPLES_DIR, f), '--model', m.name, '--to', 'pytorch']);
      expect(r.status, r.stderr).toBe(0);
      const imports = [...r.stdout.matchAll(/^(?:import (\S+)|from (\S+) import)/gm)].map((x) => (x[1] ?? x[2]).split('.')[0]);
      expect(imports.length).toBeGreaterThan(0);
      for (const i of imports) expect(['argparse', 'base64', 'json', 'math', 'os', 'sys', 'zlib', 'numpy', 'torch']).toContain(i);
      expect(r.stdout).toContain(`class ${m.name}(torch.nn.Module):`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

const skip = torchUnavailable();

/** Models whose exported --check is compared with the engine on random batches. */
const CHECKED = [
  ...PARITY_MODELS,
  { file: 'awkward.nn', model: 'Awkward', targets: 'normal' as const },
  { file: 'awkward.nn', model: 'Edge', targets: 'normal' as const },
];

interface Job {
  script: string;
  args?: string[];
  rng?: { seed: number; count: number; shuffle: number };
}
interface JobResult {
  status: number;
  stdout: string;
}

function runJobs(dir: string, jobs: Job[]): unknown[] {
  return jsonOf<unknown[]>(
    run(PYTHON, [join(PARITY, 'run_exported.py'), writeJson(join(dir, `jobs-${Date.now()}.json`), jobs)]),
    'run_exported.py',
  );
}

function checkOutput(r: JobResult, what: string): { loss: number; grads: Record<string, Nested>; examples: number } {
  if (r.status !== 0) throw new Error(`${what}: status ${r.status}\n${r.stdout}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(skip !== null)(`exported scripts in PyTorch (${skip ?? PYTHON})`, () => {
  const dir = tempDir('export');
  const results = new Map<string, { ours: { loss: number; grads: Record<string, Nested> }; theirs: JobResult; model: IRModel }>();
  const weights = new Map<string, { path: string; model: IRModel; initial: Record<string, Float64Array>; result: JobResult }>();
  let examples: { file: string; model: string }[] = [];

  beforeAll(async () => {
    requireBuiltCli();
    examples = await exampleModels();
    const jobs: Job[] = [];
    const expect_: { key: string; model: IRModel; ours: { loss: number; grads: Record<string, Nested> } }[] = [];
    // parity models (and the awkward cases): --check --params P --batch B at the initial weights and a perturbation
    for (const [i, m] of CHECKED.entries()) {
      const file = m.file === 'awkward.nn' ? AWKWARD : join(PARITY, 'models', m.file);
      const { program, model } = await loadModel(file, m.model);
      const script =
        m.model === 'StraightThrough' ? await exportRejected(file, m.model, join(dir, `${m.model}.py`)) : exportTo(file, m.model, join(dir, `${m.model}.py`));
      const initial = initParams(model, 0);
      for (const [k, values] of [initial, perturbed(initial, 0.3, 300 + i)].entries()) {
        const P = paramsJson(model, values);
        const B = batchJson(model, 5, m.targets, 400 + 10 * i + k);
        const batch = {
          n: 5,
          data: Object.fromEntries(Object.entries(B).map(([name, v]) => [name, Float64Array.from(flat(v))])),
        };
        const { loss, grads } = lossAndGrads(program, model, values, batch);
        const ours = { loss, grads: paramsJson(model, grads) };
        const Pp = writeJson(join(dir, `${m.model}-${k}.P.json`), P);
        const Bp = writeJson(join(dir, `${m.model}-${k}.B.json`), B);
        jobs.push({ script, args: ['--check', '--params', Pp, '--batch', Bp] });
        expect_.push({ key: `${m.model} at point ${k}`, model, ours });
      }
    }
    // examples: --check on the embedded training set at the embedded initial weights, and the
    // embedded initial weights written back (--epochs 0)
    for (const e of examples) {
      const file = join(EXAMPLES_DIR, e.file);
      const L = await loadModel(file, e.model);
      const script = exportTo(file, e.model, join(dir, `example-${e.model}.py`));
      const initial = initParams(L.model, trainingSeeds(L.options.seed).init);
      const train = L.split!.train;
      const n = Math.min(CHECK_EXAMPLES, train.n);
      const x = L.model.inputs[0].name;
      const t = L.model.targets[0].name;
      const dx = train.x.length / train.n;
      const dy = train.y.length / train.n;
      const batch = { n, data: { [x]: train.x.subarray(0, n * dx), [t]: train.y.subarray(0, n * dy) } };
      const { loss, grads } = lossAndGrads(L.program, L.model, initial, batch);
      jobs.push({ script, args: ['--check', '--examples', String(CHECK_EXAMPLES)] });
      expect_.push({ key: `example ${e.model}`, model: L.model, ours: { loss, grads: paramsJson(L.model, grads) } });
      const w = join(dir, `example-${e.model}.weights.json`);
      jobs.push({ script, args: ['--epochs', '0', '--dtype', 'float64', '--weights', w] });
      weights.set(e.model, { path: w, model: L.model, initial, result: { status: -1, stdout: '' } });
    }
    const out = runJobs(dir, jobs) as JobResult[];
    let j = 0;
    for (const e of expect_) {
      results.set(e.key, { ours: e.ours, theirs: out[j++], model: e.model });
      if (e.key.startsWith('example ')) weights.get(e.key.slice(8))!.result = out[j++];
    }
  });

  const parityCases = CHECKED.flatMap((m) => [0, 1].map((k) => ({ ...m, k })));
  test.each(parityCases)('$file exported: --check --params --batch gives nnlens’s loss and gradients (point $k)', ({ model, k }) => {
    const r = results.get(`${model} at point ${k}`)!;
    const theirs = checkOutput(r.theirs, model);
    expect(theirs.examples).toBe(5);
    const w = worstError(r.ours, theirs, r.model.params.map((p) => p.name));
    console.info(`export ${model} point ${k}: worst relative error ${fmtWorst(w)}`);
    expect(w.error, fmtWorst(w)).toBeLessThanOrEqual(TOLERANCE);
  });

  test('every example model is covered', () => {
    expect(examples.map((e) => e.model).sort()).toEqual(['ByHand', 'Digits', 'Iris', 'Lecture', 'M', 'Ring', 'Xor']);
  });

  test.each(EXAMPLE_FILES)('examples/%s exported: the initial loss and gradients on the embedded training set are nnlens’s; the embedded weights are exact', (f) => {
    for (const e of examples.filter((x) => x.file === f)) {
      const r = results.get(`example ${e.model}`)!;
      const theirs = checkOutput(r.theirs, e.model);
      const w = worstError(r.ours, theirs, r.model.params.map((p) => p.name));
      console.info(`export example ${e.model} (${theirs.examples} examples): worst relative error ${fmtWorst(w)}`);
      expect(theirs.examples).toBeGreaterThan(0);
      expect(w.error, fmtWorst(w)).toBeLessThanOrEqual(TOLERANCE);

      const wt = weights.get(e.model)!;
      expect(wt.result.status).toBe(0);
      const written = JSON.parse(readFileSync(wt.path, 'utf8')) as Record<string, Nested>;
      expect(Object.keys(written)).toEqual(wt.model.params.map((p) => p.name));
      for (const p of wt.model.params) expect(Float64Array.from(flat(written[p.name]))).toEqual(wt.initial[p.name]);
    }
  });

  test('the script’s generator is NN Lens’s: the same u32 and uniform streams and the same epoch shuffles', () => {
    const script = join(dir, 'example-Xor.py');
    const seeds = [0, 1, 42, 4294967295];
    const out = runJobs(dir, seeds.map((seed) => ({ script, rng: { seed, count: 50, shuffle: 37 } }))) as {
      u32: number[];
      uniform: number[];
      epochs: number[][];
    }[];
    seeds.forEach((seed, i) => {
      const a = new Rng(seed);
      const b = new Rng(seed);
      expect(out[i].u32).toEqual(Array.from({ length: 50 }, () => a.nextU32()));
      expect(out[i].uniform).toEqual(Array.from({ length: 50 }, () => b.uniform()));
      const s = new EpochShuffler(37, seed);
      expect(out[i].epochs).toEqual([Array.from(s.next()), Array.from(s.next())]);
    });
  });

  const compareEpochs = (got: EpochLine[], want: EpochLine[], tolerance: number, accuracyStep = 0, floor = 1e-12): number => {
    expect(got.map((g) => [g.epoch, g.step])).toEqual(want.map((g) => [g.epoch, g.step]));
    let worst = 0;
    got.forEach((g, e) => {
      for (const key of ['loss', 'valLoss', 'accuracy'] as const) {
        const [a, b] = [g[key], want[e][key]];
        expect(a === null, `${key} epoch ${e + 1}: ${a} vs ${b}`).toBe(b === null);
        if (a === null || b === null) continue;
        if (key === 'accuracy' && accuracyStep) {
          // float32: an output within rounding of the decision boundary may flip one example
          expect(Math.abs(a - b), `accuracy epoch ${e + 1}: ${a} vs ${b}`).toBeLessThanOrEqual(accuracyStep * 1.0001);
          continue;
        }
        const err = Math.abs(a - b) / Math.max(Math.abs(b), floor);
        worst = Math.max(worst, err);
        expect(err, `${key} epoch ${e + 1}: ${a} vs ${b}`).toBeLessThan(tolerance);
      }
    });
    return worst;
  };

  /** A csv of values float32 holds exactly (multiples of 1/64), three classes, and three models on it. */
  const exactFixture = (): string => {
    const fx = tempDir('export-exact');
    const rng = new Rng(11);
    const rows = ['a,b,c,label'];
    for (let i = 0; i < 61; i++) {
      const v = [0, 1, 2].map(() => (rng.int(257) - 128) / 64);
      const label = v[0] + 0.5 * v[1] > 0.5 ? 2 : v[2] > 0 ? 1 : 0;
      rows.push(`${v.join(',')},${label}`);
    }
    writeFileSync(join(fx, 'points.csv'), rows.join('\n') + '\n');
    writeFileSync(
      join(fx, 'exact.nn'),
      `data D = csv("points.csv", label: "label", classes: 3)
model Adam { input x: [3]  target t: [3]
  h = dense(x, 6, tanh)
  y = softmax(dense(h, 3))
  loss C = cross_entropy(y, t) }
train Adam on D { optimizer: adam(lr: 0.05)  batch: 8  epochs: 3  split: 0.75  seed: 5 }
model Momentum { input x: [3]  target t: [3]
  param W: [3, 3] = he
  param b: [3] = constant(0.1)
  y = softmax(W @ relu(x) + b)
  loss C = cross_entropy(y, t) + 0.01 * sum(square(W)) }
train Momentum on D { optimizer: sgd(lr: 0.2, momentum: 0.8)  batch: 16  epochs: 4  split: 0.6  seed: 9 }
model Plain { input x: [3]  target t: [3]
  y = dense(x, 3, sigmoid)
  loss C = mse(y, t) }
train Plain on D { optimizer: sgd(lr: 0.5)  batch: 64  epochs: 3  seed: 2 }
`,
    );
    return join(fx, 'exact.nn');
  };

  const TRAININGS = [
    { file: 'exact.nn', model: 'Adam', epochs: 3, dtype: 'float64', what: 'adam, csv, split with validation, one-hot accuracy, a last smaller batch' },
    { file: 'exact.nn', model: 'Momentum', epochs: 4, dtype: 'float64', what: 'sgd with momentum, split 0.6' },
    { file: 'exact.nn', model: 'Plain', epochs: 3, dtype: 'float64', what: 'plain sgd, one batch larger than the data, accuracy on the training set' },
    { file: 'byhand.nn', model: 'ByHand', epochs: 8, dtype: 'float64', what: 'sgd with momentum, gradients: manual, binary accuracy' },
    { file: 'xor.nn', model: 'Xor', epochs: 8, dtype: 'float64', what: 'adam, binary accuracy' },
    { file: 'functions.nn', model: 'Ring', epochs: 2, dtype: 'float32', what: 'user functions, split 0.8' },
    { file: 'data.nn', model: 'Iris', epochs: 2, dtype: 'float32', what: 'csv, one-hot accuracy' },
    { file: 'training.nn', model: 'M', epochs: 2, dtype: 'float32', what: 'three dense layers, sgd with momentum' },
    { file: 'awkward.nn', model: 'Edge', epochs: 3, dtype: 'float64', what: 'gradients: manual, a scalar param, a backward line independent of the batch' },
  ] as const;

  describe('training, epoch by epoch, against the trainer (engine/train runTraining)', () => {
    // float64: the trainer on a float64 backend, on data whose values float32 holds exactly (the
    // trainer stores its data in float32), tightly; float32: as `nnlens train` runs, loosely.
    const scripts = new Map<string, { L: Loaded; got: EpochLine[] }>();

    beforeAll(async () => {
      const exact = exactFixture();
      const jobs: Job[] = [];
      const loaded: Loaded[] = [];
      for (const c of TRAININGS) {
        const file = c.file === 'exact.nn' ? exact : c.file === 'awkward.nn' ? AWKWARD : join(EXAMPLES_DIR, c.file);
        loaded.push(await loadModel(file, c.model));
        const script = EXAMPLE_FILES.includes(c.file) ? join(dir, `example-${c.model}.py`) : exportTo(file, c.model, join(dir, `case-${c.model}.py`));
        jobs.push({ script, args: ['--epochs', String(c.epochs), '--dtype', c.dtype, '--json', '--no-weights'] });
      }
      const out = runJobs(dir, jobs) as JobResult[];
      TRAININGS.forEach((c, i) => {
        if (out[i].status !== 0) throw new Error(`${c.model}: status ${out[i].status}\n${out[i].stdout}`);
        const got = out[i].stdout.trim().split('\n').map((l) => JSON.parse(l) as EpochLine);
        scripts.set(c.model, { L: loaded[i], got });
      });
    });

    test.each(TRAININGS)('$dtype: $model ($file) — $what', ({ model, epochs, dtype }) => {
      const { L, got } = scripts.get(model)!;
      const lines: EpochLine[] = [];
      const out = runTraining(
        { program: L.program, model, ctx: { baseDir: dirname(L.file) }, options: { epochs } },
        (p) => {
          if (p.epochEnd) lines.push({ epoch: p.epoch, step: p.step, loss: p.epochLoss!, valLoss: p.valLoss, accuracy: p.accuracy });
        },
        undefined,
        { backend: dtype === 'float64' ? jsBackend('f64') : undefined },
      );
      expect(out.reason).toBe('completed');
      expect(lines).toHaveLength(epochs);
      const evaluated = L.split!.validation?.n ?? L.split!.train.n;
      const worst = dtype === 'float64' ? compareEpochs(got, lines, TOLERANCE) : compareEpochs(got, lines, 1e-4, 1 / evaluated);
      console.info(`export training ${model} (${dtype}): ${epochs} epochs, ${got[epochs - 1].step} steps, worst relative difference ${worst.toExponential(2)}`);
    });
  });

  test('examples/xor.nn: `python3 xor.py` trains like `nnlens train` (float32, all 500 epochs), the loss falls, and nnlens reads its weights', () => {
    // both run as a user runs them, in a folder of their own (each writes Xor.weights.json there)
    const work = tempDir('export-xor');
    const file = join(work, 'xor.nn');
    writeFileSync(file, readFileSync(join(EXAMPLES_DIR, 'xor.nn')));
    const trained = nnlens(['train', file, '--json']);
    expect(trained.status, trained.stderr).toBe(0);
    const want = trained.stdout.trim().split('\n').map((l) => JSON.parse(l) as EpochLine);
    const script = exportTo(file, 'Xor', join(work, 'xor.py'));
    const w = join(work, 'torch.weights.json');
    const r = run(PYTHON, [script, '--json', '--weights', w], { cwd: work });
    expect(r.status, r.stderr).toBe(0);
    const got = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as EpochLine);
    expect(got).toHaveLength(500);
    expect(got[499].step).toBe(500); // 4 examples, batch 4: one step per epoch
    expect(got[499].loss).toBeLessThan(0.75 * got[0].loss);
    // float32 rounding drifts, slowly: measured 4e-6 in the loss, 4e-5 in the weights after 500
    // steps. Once the loss is small (p near 0 or 1), float32's log(p) is only accurate relative to
    // 1 − p, so losses are compared relative to at least 0.01.
    const worst = compareEpochs(got, want, 1e-4, 0.25, 1e-2);
    const ours = JSON.parse(readFileSync(join(work, 'Xor.weights.json'), 'utf8')) as Record<string, Nested>;
    const theirs = JSON.parse(readFileSync(w, 'utf8')) as Record<string, Nested>;
    expect(Object.keys(theirs)).toEqual(Object.keys(ours));
    for (const k of Object.keys(ours)) {
      const [a, b] = [flat(ours[k]), flat(theirs[k])];
      a.forEach((v, i) => expect(Math.abs(v - b[i]) / Math.max(Math.abs(v), 1e-2), `${k}[${i}]`).toBeLessThan(1e-3));
    }
    console.info(`export xor: 500 epochs against nnlens train, worst relative loss difference ${worst.toExponential(2)}`);
    const B = writeJson(join(work, 'xor.B.json'), { x: [[0, 0], [0, 1], [1, 0], [1, 1]], t: [[0], [1], [1], [0]] });
    const g = jsonOf<{ loss: number }>(nnlens(['grad', file, '--model', 'Xor', '--params', w, '--batch', B, '--json']), 'nnlens grad');
    expect(g.loss).toBeLessThan(0.75 * got[0].loss);
  });
});
