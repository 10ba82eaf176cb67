/**
 * PyTorch parity of `nnlens trace` (§10): for five example models that together use `dense`, a
 * user function with a `grad` line, a `backward` block, and softmax with cross-entropy, the
 * trace's value and per-example gradient ∂Cⁿ/∂X of every named tensor, its loss, and the true
 * values of the backward block's lines equal a hand-written PyTorch float64 autograd
 * (test/parity/torch_trace.py) to a relative error of 1e-9. The weights are the initial ones
 * moved by a random step (so no gradient is trivially zero). Skipped, with the reason, without torch.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { initParams } from '../../engine/index';
import { analyzeFile } from '../../language/index';
import type { TraceJson } from '../../engine/session/trace';
import {
  PYTHON,
  PARITY,
  ROOT,
  flat,
  jsonOf,
  nnlens,
  paramsJson,
  perturbed,
  relError,
  requireBuiltCli,
  run,
  tempDir,
  torchUnavailable,
  writeJson,
} from './harness';

const TOLERANCE = 1e-9;

const MODELS = [
  { file: 'examples/byhand.nn', model: 'ByHand', example: 2, uses: 'a backward block' },
  { file: 'examples/functions.nn', model: 'Ring', example: 17, uses: 'a user function with a grad line' },
  { file: 'examples/data.nn', model: 'Iris', example: 60, uses: 'dense, softmax and cross_entropy' },
  { file: 'examples/digits.nn', model: 'Digits', example: 9, uses: 'softmax and cross_entropy on 256 inputs' },
  { file: 'examples/training.nn', model: 'M', example: 5, uses: 'three dense layers' },
];

interface Torch {
  values: Record<string, unknown>;
  grads: Record<string, unknown>;
}

const skip = torchUnavailable();

describe.skipIf(skip !== null)(`PyTorch parity of nnlens trace (${skip ?? PYTHON})`, () => {
  const results = new Map<string, { ours: TraceJson; theirs: Torch }>();
  let worstOverall = 0;

  beforeAll(async () => {
    requireBuiltCli();
    const dir = tempDir('trace-parity');
    const jobs: unknown[] = [];
    const ours: TraceJson[] = [];
    for (const [i, m] of MODELS.entries()) {
      const file = join(ROOT, m.file);
      const { program } = await analyzeFile(file);
      const model = program.models.find((x) => x.name === m.model);
      if (!model) throw new Error(`${m.file} has no model ${m.model} (or it has errors)`);
      const seed = program.trains.find((t) => t.model === m.model)?.options.seed ?? 0;
      const W = writeJson(join(dir, `${m.model}.json`), paramsJson(model, perturbed(initParams(model, seed), 0.3, 500 + i)));
      const t = jsonOf<TraceJson>(
        nnlens(['trace', file, '--model', m.model, '--example', String(m.example), '--weights', W, '--json']),
        `nnlens trace ${m.file}`,
      );
      ours.push(t);
      const node = (kind: string) => t.nodes.find((n) => n.kind === kind)!.value;
      jobs.push({ model: m.model, params: W, example: { x: node('input'), t: node('target') } });
    }
    const theirs = jsonOf<Torch[]>(run(PYTHON, [join(PARITY, 'torch_trace.py'), writeJson(join(dir, 'jobs.json'), jobs)]), 'torch_trace.py');
    MODELS.forEach((m, i) => results.set(m.model, { ours: ours[i], theirs: theirs[i] }));
  });

  test.each(MODELS)('$file ($uses): every value and ∂Cⁿ/∂X within 1e-9 of PyTorch autograd', ({ model }) => {
    const { ours, theirs } = results.get(model)!;
    let worst = { error: 0, where: '' };
    const compare = (where: string, a: unknown, b: unknown) => {
      const x = flat(a);
      const y = flat(b);
      expect(x.length, where).toBe(y.length);
      x.forEach((v, k) => {
        const e = relError(v, y[k]);
        if (!(e <= worst.error)) worst = { error: e, where: `${where}[${k}] ours ${v} torch ${y[k]}` };
      });
    };
    // every named tensor of the model is in both, and nothing else
    expect(ours.nodes.map((n) => n.name).sort()).toEqual(Object.keys(theirs.values).sort());
    for (const n of ours.nodes) {
      compare(`value of ${n.name}`, n.value, theirs.values[n.name]);
      if (n.kind === 'target') expect(n.grad).toBeNull();
      else compare(`∂C/∂${n.name}`, n.grad, theirs.grads[n.name]);
    }
    compare('loss', ours.loss, theirs.values.C);
    for (const l of ours.backward) compare(`true value of grad ${l.name} (line ${l.line})`, l.true, theirs.grads[l.name]);
    worstOverall = Math.max(worstOverall, worst.error);
    console.info(`trace parity ${model}: worst relative error ${worst.error.toExponential(2)} ${worst.where}`);
    expect(worst.error, worst.where).toBeLessThanOrEqual(TOLERANCE);
    // the comparison can fail: gradients are not all zero, the loss is not a trivial constant
    const someGrad = ours.nodes.filter((n) => n.kind === 'param').flatMap((n) => flat(n.grad));
    expect(Math.max(...someGrad.map(Math.abs))).toBeGreaterThan(1e-3);
  });

  test('the backward block of byhand.nn: every line as written equals the true gradient', () => {
    const { ours, theirs } = results.get('ByHand')!;
    expect(ours.backward.map((l) => l.name)).toEqual(['z2', 'W2', 'b2', 'a1', 'z1', 'W1', 'b1']);
    for (const l of ours.backward) {
      const u = flat(l.user);
      const t = flat(theirs.grads[l.name]);
      u.forEach((v, k) => expect(relError(v, t[k]), `grad ${l.name}[${k}]`).toBeLessThanOrEqual(TOLERANCE));
    }
  });

  test('the comparison notices a change of 1e-7 in one gradient element', () => {
    const { ours, theirs } = results.get('Digits')!;
    const W1 = ours.nodes.find((n) => n.name === 'W1')!;
    const g = flat(W1.grad);
    const k = g.findIndex((v) => Math.abs(v) > 1e-4);
    expect(relError(g[k] * (1 + 1e-7), flat(theirs.grads.W1)[k])).toBeGreaterThan(TOLERANCE);
    console.info(`trace parity: the largest relative error over all models is ${worstOverall.toExponential(2)}`);
  });
});
