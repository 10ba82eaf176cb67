/**
 * `nnlens dap` over stdio, driven by a real DAP client (@vscode/debugadapter-testsupport's
 * DebugClient) against the built `out/cli.js dap`, as VS Code or nvim-dap would: breakpoints,
 * stepping from the forward into the backward pass and back, Variables, evaluate, conditional
 * breakpoints, stop-on-NaN in train mode, and bad launches. The numbers are checked against
 * PyTorch float64 autograd (test/parity/torch_trace.py, skipped and saying so without torch) and
 * hand calculations.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { initParams } from '../../engine/index';
import { analyzeFile } from '../../language/index';
import { CLI, PARITY, PYTHON, ROOT, flat, jsonOf, paramsJson, perturbed, relError, requireBuiltCli, run, torchUnavailable, writeJson } from '../parity/harness';

const DIGITS = join(ROOT, 'examples/digits.nn');
const BYHAND = join(ROOT, 'examples/byhand.nn');

let dc: DebugClient | undefined;

async function adapter(): Promise<DebugClient> {
  requireBuiltCli();
  // DebugClient runs `RUNTIME EXECUTABLE`: the CLI itself, with the command `dap`
  const c = new DebugClient(CLI, 'dap', 'nnlens', { cwd: ROOT }, true);
  c.defaultTimeout = 60_000;
  await c.start();
  dc = c;
  return c;
}

afterEach(async () => {
  await dc?.stop().catch(() => undefined);
  dc = undefined;
});

/** Launches, sets breakpoints and waits for the first stop; `verdicts` receives the breakpoints' answer. */
async function launchTo(
  c: DebugClient,
  args: Record<string, unknown>,
  breakpoints: { line: number; condition?: string }[] = [],
  verdicts: DebugProtocol.Breakpoint[] = [],
): Promise<DebugProtocol.StoppedEvent> {
  const stopped = c.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await Promise.all([
    c.waitForEvent('initialized').then(async () => {
      if (breakpoints.length) {
        const r = await c.setBreakpointsRequest({ source: { path: String(args.program) }, breakpoints });
        verdicts.push(...r.body.breakpoints);
      }
      await c.configurationDoneRequest();
    }),
    c.launch(args),
  ]);
  return stopped;
}

async function top(c: DebugClient): Promise<DebugProtocol.StackFrame> {
  const st = await c.stackTraceRequest({ threadId: 1 });
  expect(st.body.stackFrames).toHaveLength(1);
  return st.body.stackFrames[0];
}

async function scopes(c: DebugClient): Promise<Record<string, DebugProtocol.Variable[]>> {
  const f = await top(c);
  const sc = await c.scopesRequest({ frameId: f.id });
  const out: Record<string, DebugProtocol.Variable[]> = {};
  for (const s of sc.body.scopes) out[s.name] = (await c.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
  return out;
}

async function step(c: DebugClient, how: 'next' | 'stepBack' | 'continue' | 'reverseContinue' | 'stepOut' = 'next'): Promise<DebugProtocol.StoppedEvent> {
  const stopped = c.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  if (how === 'next') await c.nextRequest({ threadId: 1 });
  else if (how === 'stepBack') await c.stepBackRequest({ threadId: 1 });
  else if (how === 'continue') await c.continueRequest({ threadId: 1 });
  else if (how === 'stepOut') await c.stepOutRequest({ threadId: 1 });
  else await c.reverseContinueRequest({ threadId: 1 });
  return stopped;
}

async function clipboard(c: DebugClient, expression: string): Promise<unknown> {
  const f = await top(c);
  const r = await c.evaluateRequest({ expression, frameId: f.id, context: 'clipboard' });
  return JSON.parse(r.body.result);
}

async function evalError(c: DebugClient, expression: string): Promise<string> {
  const f = await top(c);
  try {
    await c.evaluateRequest({ expression, frameId: f.id, context: 'watch' });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${expression} evaluated without an error`);
}

const names = (vs: DebugProtocol.Variable[]) => vs.map((v) => v.name);
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('nnlens dap: stepping through one example of digits.nn', () => {
  test('a breakpoint stops on its line with the statement in the frame name; lines between statements move to the next one', async () => {
    const c = await adapter();
    const verdicts: DebugProtocol.Breakpoint[] = [];
    const e = await launchTo(c, { program: DIGITS, model: 'Digits', example: 3 }, [{ line: 17 }, { line: 12 }, { line: 27 }], verdicts);
    expect(verdicts.map((b) => [b.verified, b.line])).toEqual([
      [true, 17],
      [true, 15], // `param W2: …` is no stop: the next statement, z1 = …
      [false, 27], // the train block is not a line of the model
    ]);
    expect(verdicts[2].message).toMatch(/not a line of model Digits \(lines 6–21\)/);
    expect(e.body.reason).toBe('breakpoint');
    const f = await top(c);
    expect(f.line).toBe(15);
    expect(f.name).toBe('forward: z1 = W1 @ x + b1');
    expect(f.source?.path).toBe(DIGITS);
    await step(c, 'continue');
    const g = await top(c);
    expect([g.line, g.name]).toEqual([17, 'forward: z2 = W2 @ a1 + b2']);
    // the forward pass so far is in Values; no gradient yet
    const s = await scopes(c);
    expect(names(s.Values)).toEqual(['x', 't', 'z1', 'a1', 'z2']);
    expect(names(s.Params)).toEqual(['W1', 'b1', 'W2', 'b2']);
    expect(s.Gradients).toEqual([]);
    const z2 = s.Values.find((v) => v.name === 'z2')!;
    expect(z2.type).toBe('[10]');
    expect(z2.evaluateName).toBe('z2');
  });

  test('stepping: entry, the forward pass statement by statement, then the backward pass in reverse; stepBack and reverseContinue go back', async () => {
    const c = await adapter();
    const text = (await import('node:fs')).readFileSync(DIGITS, 'utf8');
    const e = await launchTo(c, { program: DIGITS, model: 'Digits', example: 3, stopOnEntry: true }, [{ line: lineOf(text, 'a1 = sigmoid') }]);
    expect(e.body.reason).toBe('entry');
    let f = await top(c);
    expect(f.line).toBe(lineOf(text, 'model Digits'));
    expect(f.name).toMatch(/^entry: Digits, example 3 of 10000 \(data digits\)/);
    const entry = await scopes(c);
    expect(names(entry.Values)).toEqual(['x', 't']);
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      await step(c, 'next');
      f = await top(c);
      seen.push(`${f.line} ${f.name}`);
    }
    expect(seen).toEqual([
      `15 forward: z1 = W1 @ x + b1`,
      `16 forward: a1 = sigmoid(z1)`,
      `17 forward: z2 = W2 @ a1 + b2`,
      `18 forward: y = softmax(z2)`,
      `20 forward: C = cross_entropy(y, t)`,
      `20 backward: grad C → y`,
      `18 backward: grad y → z2`,
      `17 backward: grad z2 → W2, a1, b2`,
      `16 backward: grad a1 → z1`,
      `15 backward: grad z1 → W1, x, b1`,
    ]);
    // at the last stop every gradient is known
    const last = await scopes(c);
    expect(names(last.Gradients).sort()).toEqual(['grad C', 'grad W1', 'grad W2', 'grad a1', 'grad b1', 'grad b2', 'grad x', 'grad y', 'grad z1', 'grad z2'].sort());
    // ∂C/∂W2 = outer(δ2, a1): the Gradients scope against the lecture's formula, evaluated in the language
    const gW2 = flat(await clipboard(c, 'grad W2'));
    const outer = flat(await clipboard(c, 'outer(grad z2, a1)'));
    gW2.forEach((v, k) => expect(relError(v, outer[k])).toBeLessThan(1e-12));

    // back into the forward pass: the gradients are gone again
    await step(c, 'stepBack');
    expect((await top(c)).name).toBe('backward: grad a1 → z1');
    for (let i = 0; i < 4; i++) await step(c, 'stepBack');
    f = await top(c);
    expect(f.name).toBe('forward: C = cross_entropy(y, t)');
    expect((await scopes(c)).Gradients).toEqual([]);
    expect(await evalError(c, 'grad z1')).toBe('grad z1 is not known yet: the backward pass computes it at line 16 (backward: grad a1 → z1)');
    // reverseContinue: back to the breakpoint on a1's line (the forward stop)
    const r = await step(c, 'reverseContinue');
    expect(r.body.reason).toBe('breakpoint');
    expect((await top(c)).name).toBe('forward: a1 = sigmoid(z1)');
    // ... and before any breakpoint, to the entry
    const r2 = await step(c, 'reverseContinue');
    expect(r2.body.reason).toBe('entry');
    // continue: the breakpoint on a1's line again, then its backward stop, then the end
    await step(c, 'continue');
    expect((await top(c)).name).toBe('forward: a1 = sigmoid(z1)');
    await step(c, 'continue');
    expect((await top(c)).name).toBe('backward: grad a1 → z1');
    const ended = c.waitForEvent('terminated');
    await c.continueRequest({ threadId: 1 });
    await ended;
  });

  test('stepOut runs to the next pass', async () => {
    const c = await adapter();
    await launchTo(c, { program: DIGITS, example: 1, stopOnEntry: true });
    await step(c, 'stepOut');
    expect((await top(c)).name).toBe('backward: grad C → y');
  });

  test('Variables: the shape in the type column, rows then elements, paged with start and count; ≥ 6 digits, clipboard in full', async () => {
    const c = await adapter();
    await launchTo(c, { program: DIGITS, model: 'Digits', example: 3, stopOnEntry: true });
    const s = await scopes(c);
    const W1 = s.Params.find((v) => v.name === 'W1')!;
    expect(W1.type).toBe('[30, 256]');
    expect(W1.indexedVariables).toBe(30);
    const rows = (await c.variablesRequest({ variablesReference: W1.variablesReference })).body.variables;
    expect(rows).toHaveLength(30);
    expect(rows[4]).toMatchObject({ name: '[4]', type: '[256]', indexedVariables: 256 });
    // a page of row 4: elements 100–109
    const page = (await c.variablesRequest({ variablesReference: rows[4].variablesReference, filter: 'indexed', start: 100, count: 10 })).body.variables;
    expect(names(page)).toEqual(['[100]', '[101]', '[102]', '[103]', '[104]', '[105]', '[106]', '[107]', '[108]', '[109]']);
    // the same numbers as the clipboard's full precision, shown with 6 significant digits
    const full = flat(await clipboard(c, 'W1'));
    page.forEach((v, k) => {
      const exact = full[4 * 256 + 100 + k];
      expect(Number(v.value)).toBeCloseTo(exact, 6);
      expect(Math.abs(Number(v.value) - exact) / Math.abs(exact)).toBeLessThan(5e-6);
      expect(v.value.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').length).toBeGreaterThanOrEqual(String(exact).replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').length >= 6 ? 6 : 1);
    });
    // the clipboard reads back as the very same float64 numbers as the Variables' elements
    expect(full).toHaveLength(30 * 256);
  });

  test('evaluate: W2 @ a1 + b2 equals z2; errors are the language’s, with both shapes; names not computed yet say so', async () => {
    const c = await adapter();
    const text = (await import('node:fs')).readFileSync(DIGITS, 'utf8');
    await launchTo(c, { program: DIGITS, model: 'Digits', example: 3 }, [{ line: lineOf(text, 'y  = softmax') }]);
    const f = await top(c);
    const r = await c.evaluateRequest({ expression: 'W2 @ a1 + b2', frameId: f.id, context: 'watch' });
    expect(r.body.type).toBe('[10]');
    expect(r.body.result).toMatch(/^\[10\] \[-?\d/);
    expect(flat(await clipboard(c, 'W2 @ a1 + b2'))).toEqual(flat(await clipboard(c, 'z2')));
    expect(await evalError(c, 'W2 @ x')).toMatch(/\[10, 30\].*\[256\]/);
    expect(await evalError(c, 'C')).toBe('C is not computed yet: the forward pass computes it on line 20');
    expect(await evalError(c, 'W2 @')).toBe('W2 @ is incomplete: expected an expression at its end');
    expect(await evalError(c, 'grad t')).toBe('grad t: t is a target; it has no gradient');
    expect(await evalError(c, 'nope * 2')).toMatch(/nope/);
  });

  test('a conditional breakpoint: an expression of the language, evaluated where its names are known', async () => {
    const c = await adapter();
    const text = (await import('node:fs')).readFileSync(DIGITS, 'utf8');
    const z1 = lineOf(text, 'z1 = W1');
    const z2 = lineOf(text, 'z2 = W2');
    const verdicts: DebugProtocol.Breakpoint[] = [];
    const stopped = await launchTo(
      c,
      { program: DIGITS, model: 'Digits', example: 3 },
      [
        { line: z1, condition: 'max(abs(grad z1)) > 0' }, // grad z1 is known only in the backward pass
        { line: z2, condition: 'max(z2) > 100' }, // never true
        { line: 16, condition: 'W2 @ x' },
        { line: 18, condition: 'z2' },
      ],
      verdicts,
    );
    expect(verdicts.map((b) => b.verified)).toEqual([true, true, false, false]);
    expect(verdicts[2].message).toMatch(/^condition: .*\[10, 30\].*\[256\]/);
    expect(verdicts[3].message).toBe('condition: z2 is [10], not a scalar; reduce it with max(…), sum(…) or mean(…)');
    expect(stopped.body.reason).toBe('breakpoint');
    const f = await top(c);
    expect([f.line, f.name]).toEqual([z1, 'backward: grad z1 → W1, x, b1']);
    // the condition holds there, computed independently from the Gradients scope
    const g = flat(await clipboard(c, 'grad z1'));
    expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(0);
    const ended = c.waitForEvent('terminated');
    await c.continueRequest({ threadId: 1 });
    await ended;
  });

  test('inline values: each executed line with its value, then its gradient', async () => {
    const c = await adapter();
    await launchTo(c, { program: DIGITS, example: 3, stopOnEntry: true });
    for (let i = 0; i < 7; i++) await step(c, 'next');
    const r = await c.customRequest('nnlens/inlineValues');
    const values = (r.body as { values: { line: number; text: string }[] }).values;
    expect(values.map((v) => v.line)).toEqual([15, 16, 17, 18, 20]);
    expect(values.find((v) => v.line === 18)!.text).toMatch(/^y = \[10\] \[.*\]   grad y = \[10\] \[/);
    expect(values.find((v) => v.line === 15)!.text).toMatch(/^z1 = \[30\] \[/);
    expect(values.find((v) => v.line === 15)!.text).not.toContain('grad');
  });
});

describe('nnlens dap: a backward block', () => {
  test('the backward pass stops on each of its lines, in order, with the lines as written in Gradients', async () => {
    const c = await adapter();
    const text = (await import('node:fs')).readFileSync(BYHAND, 'utf8');
    await launchTo(c, { program: BYHAND, model: 'ByHand', example: 2, stopOnEntry: true });
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) {
      await step(c, 'next');
      const f = await top(c);
      seen.push(`${f.line} ${f.name}`);
    }
    const lines = ['grad z2', 'grad W2', 'grad b2', 'grad a1', 'grad z1', 'grad W1', 'grad b1'].map((g) => `${lineOf(text, `${g} =`)} backward: ${g}`);
    expect(seen.slice(5)).toEqual(lines);
    const s = await scopes(c);
    expect(names(s.Gradients)).toEqual(['grad z2', 'grad W2', 'grad b2', 'grad a1', 'grad z1', 'grad W1', 'grad b1']);
    // grad W1 = outer(grad z1, x), as the line says
    const gW1 = flat(await clipboard(c, 'grad W1'));
    const o = flat(await clipboard(c, 'outer(grad z1, x)'));
    gW1.forEach((v, k) => expect(v).toBe(o[k]));
    expect(await evalError(c, 'grad x')).toBe('grad x: the backward block has no line for x (the Gradients are its lines)');
  });
});

const skip = torchUnavailable();

describe.skipIf(skip !== null)(`nnlens dap: Values and Gradients against PyTorch float64 autograd (${skip ?? PYTHON})`, () => {
  const TOLERANCE = 1e-9;
  const cases = [
    { file: DIGITS, model: 'Digits', example: 9 },
    { file: BYHAND, model: 'ByHand', example: 2 },
  ];
  const weights = new Map<string, string>();
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnlens-dap-parity-'));
    for (const [i, m] of cases.entries()) {
      const { program } = await analyzeFile(m.file);
      const model = program.models.find((x) => x.name === m.model)!;
      const seed = program.trains.find((t) => t.model === m.model)?.options.seed ?? 0;
      weights.set(m.model, writeJson(join(dir, `${m.model}.json`), paramsJson(model, perturbed(initParams(model, seed), 0.3, 700 + i))));
    }
  });

  test.each(cases)('$model, example $example: every value and ∂Cⁿ/∂X through clipboard evaluation within 1e-9', async ({ file, model, example }) => {
    const c = await adapter();
    await launchTo(c, { program: file, model, example, weights: weights.get(model), stopOnEntry: true });
    // every value and gradient, in full precision, at the stops where they are known (they do not change)
    const values: Record<string, unknown> = {};
    const grads: Record<string, unknown> = {};
    let evaluated: unknown;
    for (let stops = 0; ; stops++) {
      const s = await scopes(c);
      for (const v of [...s.Values, ...s.Params]) if (!(v.name in values)) values[v.name] = await clipboard(c, v.name);
      for (const v of s.Gradients) {
        const x = v.evaluateName?.replace(/^grad /, '');
        if (x && !(x in grads)) grads[x] = await clipboard(c, v.evaluateName!);
      }
      if (evaluated === undefined && s.Values.some((v) => v.name === 'a1')) evaluated = await clipboard(c, 'W2 @ a1 + b2');
      expect(stops).toBeLessThan(40);
      const ended = c.waitForEvent('terminated', 60_000).then(() => 'ended' as const);
      const stopped = c.waitForEvent('stopped', 60_000).then(() => 'stopped' as const);
      await c.nextRequest({ threadId: 1 });
      if ((await Promise.race([ended, stopped])) === 'ended') break;
    }

    const job = [{ model, params: weights.get(model), example: { x: values.x, t: values.t } }];
    const dir = mkdtempSync(join(tmpdir(), 'nnlens-dap-torch-'));
    const [torch] = jsonOf<{ values: Record<string, unknown>; grads: Record<string, unknown> }[]>(
      run(PYTHON, [join(PARITY, 'torch_trace.py'), writeJson(join(dir, 'jobs.json'), job)]),
      'torch_trace.py',
    );
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
    for (const [name, v] of Object.entries(values)) compare(`value of ${name}`, v, torch.values[name]);
    const gradNames = Object.keys(grads);
    expect(gradNames.length).toBeGreaterThanOrEqual(7);
    for (const name of gradNames) compare(`grad ${name}`, grads[name], torch.grads[name]);
    compare('W2 @ a1 + b2', evaluated, torch.values.z2);
    console.info(`dap parity ${model}: ${Object.keys(values).length} values and ${gradNames.length} gradients; worst relative error ${worst.error.toExponential(2)} ${worst.where}`);
    expect(worst.error, worst.where).toBeLessThanOrEqual(TOLERANCE);
    // the gradients are not trivially zero
    expect(Math.max(...flat(grads.W1).map(Math.abs))).toBeGreaterThan(1e-4);
  });
});

describe('nnlens dap: break on NaN during training', () => {
  test('an exp that overflows: stops on its line at epoch 2, step 2, with that batch in Variables', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnlens-dap-nan-'));
    const file = join(dir, 'boom.nn');
    const text = [
      'data d = table {',
      '  [1] -> [100]',
      '}',
      'model Boom {',
      '  input x: [1]',
      '  target t: [1]',
      '  param w: [1, 1] = constant(1)',
      '  z = w @ x',
      '  e = exp(z)',
      '  loss C = mse(e, t)',
      '}',
      'train Boom on d { optimizer: sgd(lr: 1) batch: 1 epochs: 5 }',
      '',
    ].join('\n');
    writeFileSync(file, text);
    const c = await adapter();
    const e = await launchTo(c, { program: file, mode: 'train', stopOnNaN: true });
    // by hand: step 1 at w = 1 gives ∂C/∂w = 2 (e¹ − 100) e¹ · 1 = −528.9, so w = 529.9 after it;
    // step 2 computes exp(529.9), which overflows float32 (and float64): Infinity
    const w1 = 1 - 1 * 2 * (Math.E - 100) * Math.E;
    expect(e.body.reason).toBe('exception');
    const f = await top(c);
    expect(f.line).toBe(lineOf(text, 'e = exp(z)'));
    expect(f.name).toMatch(/^train: epoch 2, step 2: exp gives Infinity/);
    const info = await c.exceptionInfoRequest({ threadId: 1 });
    expect(info.body.description).toContain('NaN or Infinity at epoch 2, step 2');
    const s = await scopes(c);
    expect(names(s.Values)).toEqual(['x', 't', 'z', 'e', 'C']);
    expect(s.Values.find((v) => v.name === 'x')!.type).toBe('[1, 1]'); // the batch: one example
    const w = flat(await clipboard(c, 'w'))[0];
    expect(relError(w, w1)).toBeLessThan(1e-6); // float32 training
    expect(flat(await clipboard(c, 'z'))[0]).toBeCloseTo(w, 3);
    expect(s.Values.find((v) => v.name === 'e')!.value).toMatch(/Infinity/);
    // expressions on that batch, in the language
    expect(flat(await clipboard(c, 'w @ x'))[0]).toBeCloseTo(w, 3);
    const ended = c.waitForEvent('terminated');
    await c.continueRequest({ threadId: 1 });
    await ended;
  });

  test('without a NaN, a training run ends with its last loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnlens-dap-train-'));
    const file = join(dir, 'calm.nn');
    writeFileSync(file, ['data d = table {', '  [1] -> [2]', '}', 'model Calm {', '  input x: [1]', '  target t: [1]', '  param w: [1, 1] = constant(1)', '  loss C = mse(w @ x, t)', '}', 'train Calm on d { optimizer: sgd(lr: 0.1) batch: 1 epochs: 3 }', ''].join('\n'));
    const c = await adapter();
    const out: string[] = [];
    c.on('output', (ev: DebugProtocol.OutputEvent) => out.push(ev.body.output));
    const ended = c.waitForEvent('terminated');
    await Promise.all([c.configurationSequence(), c.launch({ program: file, mode: 'train', stopOnNaN: true })]);
    await ended;
    // by hand: w ← w − 0.1 · 2 (w − 2): 1 → 1.2 → 1.36; the third step's loss is (1.36 − 2)² = 0.4096
    expect(out.join('')).toMatch(/Calm: trained 3 epochs \(3 steps\) without a NaN or Infinity; last loss 0\.4096/);
  });
});

describe('nnlens dap: pause a training run, and Restricted Mode', () => {
  test('pause stops between two steps with the last batch at the current weights; continue goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnlens-dap-pause-'));
    const file = join(dir, 'long.nn');
    writeFileSync(file, ['data xor = xor()', 'model Long {', '  input x: [2]', '  target t: [1]', '  param W: [1, 2] = constant(0.1)', '  y = sigmoid(W @ x)', '  loss C = mse(y, t)', '}', 'train Long on xor { optimizer: sgd(lr: 0.01) batch: 4 epochs: 1000000 }', ''].join('\n'));
    const c = await adapter();
    await Promise.all([c.configurationSequence(), c.launch({ program: file, mode: 'train' })]);
    const paused = c.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await c.pauseRequest({ threadId: 1 });
    expect((await paused).body.reason).toBe('pause');
    const f = await top(c);
    expect(f.name).toMatch(/^train: epoch \d+, step \d+ \(paused\): loss \d/);
    const s = await scopes(c);
    expect(s.Values.find((v) => v.name === 'x')!.type).toBe('[4, 2]');
    // y is the batch's forward pass at the weights shown: sigmoid(W @ x), computed here by hand
    const W = flat(await clipboard(c, 'W'));
    const x = flat(await clipboard(c, 'x'));
    const y = flat(await clipboard(c, 'y'));
    for (let e = 0; e < 4; e++) expect(y[e]).toBeCloseTo(1 / (1 + Math.exp(-(W[0] * x[2 * e] + W[1] * x[2 * e + 1]))), 6);
    const step = Number(/step (\d+)/.exec(f.name)![1]);
    // continue trains on; a second pause is later
    await c.continueRequest({ threadId: 1 });
    const again = c.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await c.pauseRequest({ threadId: 1 });
    await again;
    expect(Number(/step (\d+)/.exec((await top(c)).name)![1])).toBeGreaterThan(step);
  });

  test('Restricted Mode: no data file is read (random check data), and no training', async () => {
    const c = await adapter();
    const out: string[] = [];
    c.on('output', (ev: DebugProtocol.OutputEvent) => out.push(ev.body.output));
    await launchTo(c, { program: join(ROOT, 'examples/data.nn'), model: 'Iris', restricted: true, stopOnEntry: true });
    expect((await top(c)).name).toMatch(/^entry: Iris, example 1 of \d+ \(random check data\)/);
    expect(out.join('')).toContain('Restricted Mode: no data files are read');
    const c2 = await adapter();
    let message = '';
    await c2.launch({ program: join(ROOT, 'examples/data.nn'), model: 'Iris', mode: 'train', restricted: true }).catch((e: Error) => (message = e.message));
    expect(message).toBe('training is off in Restricted Mode: it reads data files. Trust the workspace to train');
  });
});

describe('nnlens dap: bad launches are error responses, and the adapter goes on answering', () => {
  const bad = async (args: Record<string, unknown>): Promise<string> => {
    const c = await adapter();
    let message = '';
    try {
      await c.launch(args);
    } catch (e) {
      message = (e as Error).message;
    }
    // still alive: it answers the next request
    const t = await c.threadsRequest();
    expect(t.body.threads).toHaveLength(1);
    return message;
  };

  test('an unknown model', async () => {
    expect(await bad({ program: DIGITS, model: 'Nope' })).toBe('examples/digits.nn has no model Nope (models: Digits)');
  });

  test('an example out of range', async () => {
    expect(await bad({ program: DIGITS, model: 'Digits', example: 10001 })).toBe(
      'Digits: example 10001 is out of range: data digits has 10000 examples (1–10000)',
    );
    expect(await bad({ program: DIGITS, example: 0 })).toBe('"example" must be a whole number from 1 (the first example), not 0');
  });

  test('a file with errors: the first one, with its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnlens-dap-bad-'));
    const file = join(dir, 'bad.nn');
    writeFileSync(file, ['model M {', '  input x: [256]', '  target t: [30]', '  param W1: [30, 256]', '  z = W1 @ t', '  loss C = mse(z, t)', '}', ''].join('\n'));
    expect(await bad({ program: file })).toMatch(/^.*bad\.nn has 1 error; the first, on line 5, column \d+: .*\[30, 256\].*\[30\].*\(shape-mismatch\)$/);
  });

  test('a missing file', async () => {
    expect(await bad({ program: 'examples/nothing-here.nn' })).toBe('cannot debug examples/nothing-here.nn: the file does not exist');
    expect(await bad({})).toBe('the launch configuration needs "program": the path of a .nn file');
  });

  test('a missing weights file, and train mode on a model without a train block', async () => {
    expect(await bad({ program: DIGITS, weights: 'nope.weights.json' })).toMatch(/^the weights file .*nope\.weights\.json does not exist$/);
    const dir = mkdtempSync(join(tmpdir(), 'nnlens-dap-bad-'));
    const file = join(dir, 'untrained.nn');
    writeFileSync(file, ['model U {', '  input x: [2]', '  target t: [1]', '  param W: [1, 2]', '  loss C = mse(W @ x, t)', '}', ''].join('\n'));
    expect(await bad({ program: file, mode: 'train' })).toBe('model U has no train block, and "mode": "train" runs it (add one, e.g. train U on DATA { epochs: 10 })');
  });
});
