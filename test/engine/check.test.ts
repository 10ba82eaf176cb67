/**
 * The gradient checker on real `.nn` sources (through the language layer's analyzeText):
 * correct models pass in both modes; wrong user derivatives are blamed exactly on the wrong
 * line; kinks are hints; NaN is reported on the op that produced it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../language/index';
import type { Finding, IRModel, IRProgram } from '../../engine/ir';
import { checkModel, type CheckRunOptions } from '../../engine/check/check';
import { randomBatch } from '../../engine/check/batch';
import { initParams } from '../../engine/init';
import { jsBackend } from '../../engine/kernels/js';
import type { Backend } from '../../engine/kernels/backend';

const EXAMPLES = join(__dirname, '../../examples');

async function lower(src: string, uri?: string): Promise<IRProgram> {
  const a = await analyzeText(src, uri ? { uri } : {});
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => `${e.range.start.line + 1}: ${e.message}`).join('\n'));
  return a.program;
}

function check(prog: IRProgram, m: IRModel, opts: CheckRunOptions = {}, seed = 0) {
  return checkModel(prog, m, initParams(m, seed), randomBatch(prog, m, opts.examples ?? 4, seed), opts);
}

/** 0-based line of the first line of `src` containing `needle`. */
function lineOf(src: string, needle: string): number {
  const i = src.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line with ${needle}`);
  return i;
}

const problems = (fs: Finding[]) => fs.filter((f) => f.severity === 'error' || f.severity === 'warning');

describe('correct models pass', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.nn'));
  for (const file of files) {
    for (const mode of ['fast', 'full'] as const) {
      it(`${file} (${mode})`, async () => {
        const prog = await lower(readFileSync(join(EXAMPLES, file), 'utf8'), join(EXAMPLES, file));
        for (const m of prog.models) {
          for (const seed of [0, 1]) {
            const r = check(prog, m, { mode }, seed);
            expect(problems(r.findings), `${m.name} seed ${seed}`).toEqual([]);
            expect(r.cancelled).toBe(false);
            expect(Number.isFinite(r.loss)).toBe(true);
            for (const [name, pc] of Object.entries(r.params)) {
              expect(pc.status, name).toBe('ok');
              expect(pc.maxRelError, name).toBeLessThan(1e-6);
              expect(pc.comparisons).toBe(mode === 'full' ? pc.shape.reduce((a, b) => a * b, 1) : 2);
            }
            for (const l of r.backwardLines) expect(l.status, l.target).toBe('ok');
            for (const l of r.functionLines) expect(l.status, l.function).toBe('ok');
          }
        }
      });
    }
  }

  it('the full check of digits.nn compares every element (8,020 params, 4 examples)', async () => {
    const prog = await lower(readFileSync(join(EXAMPLES, 'digits.nn'), 'utf8'));
    const m = prog.models[0];
    const r = check(prog, m, { mode: 'full' });
    const total = Object.values(r.params).reduce((s, p) => s + p.comparisons, 0);
    expect(total).toBe(8020);
    expect(r.forwardPasses).toBe(2 * 8020);
    expect(r.examples).toBe(4);
  });
});

const BYHAND = readFileSync(join(EXAMPLES, 'byhand.nn'), 'utf8');

async function blame(from: string, to: string, mode: 'fast' | 'full' = 'fast') {
  expect(BYHAND).toContain(from);
  const src = BYHAND.replace(from, to);
  const prog = await lower(src);
  const r = check(prog, prog.models[0], { mode });
  return { src, r, line: (needle: string) => lineOf(src, needle) };
}

describe('blame of backward lines', () => {
  it('off by a factor 2: an error on that line only', async () => {
    const { r, line } = await blame('grad W2 = outer(grad z2, a1)', 'grad W2 = 2 * outer(grad z2, a1)');
    expect(r.findings.length).toBe(1);
    const f = r.findings[0];
    expect(f.code).toBe('grad-mismatch');
    expect(f.severity).toBe('error');
    expect(f.range.start.line).toBe(line('grad W2 ='));
    expect(f.message).toMatch(
      /^grad W2 is wrong: off by a factor 2\.00 — at W2\[0,\d\] the line gives -?[\d.e-]+ but the true gradient is -?[\d.e-]+ \(relative error 0\.50 > tolerance 1e-6\)$/,
    );
    const d = r.backwardLines.find((l) => l.target === 'W2')!;
    expect(d.status).toBe('wrong');
    expect(d.worst!.user).toBeCloseTo(2 * d.worst!.truth, 12);
  });

  it('a flipped sign: error on the line, at most info on every line that uses it', async () => {
    const { r, line } = await blame('grad z2 = 2 * (y - t)', 'grad z2 = -2 * (y - t)');
    const errors = r.findings.filter((f) => f.severity === 'error');
    expect(errors.length).toBe(1);
    expect(errors[0].range.start.line).toBe(line('grad z2 ='));
    expect(errors[0].message).toContain('the sign is flipped');
    const infos = r.findings.filter((f) => f.code === 'grad-dependent');
    expect(infos.map((f) => f.range.start.line).sort((a, b) => a - b)).toEqual(
      ['grad W2 =', 'grad b2 =', 'grad a1 =', 'grad z1 =', 'grad W1 =', 'grad b1 ='].map(line).sort((a, b) => a - b),
    );
    for (const f of infos) {
      expect(f.severity).toBe('info');
      expect(f.related?.map((x) => x.range.start.line)).toEqual([line('grad z2 =')]);
      expect(f.message).toContain('grad z2');
    }
    expect(r.findings.length).toBe(7);
  });

  it('a missing σ′(z): error on grad z1, info on grad W1 and grad b1', async () => {
    const { r, line } = await blame('grad z1 = grad a1 * a1 * (1 - a1)', 'grad z1 = grad a1');
    expect(r.findings.filter((f) => f.severity === 'error').map((f) => f.range.start.line)).toEqual([line('grad z1 =')]);
    expect(
      r.findings
        .filter((f) => f.code === 'grad-dependent')
        .map((f) => f.range.start.line)
        .sort(),
    ).toEqual([line('grad W1 ='), line('grad b1 =')].sort());
    const z1 = r.backwardLines.find((l) => l.target === 'z1')!;
    expect(z1.status).toBe('wrong');
    // the user's value at the worst index is the true ∂C/∂a1 there, not ∂C/∂z1
    expect(Math.abs(z1.worst!.user)).toBeGreaterThan(Math.abs(z1.worst!.truth));
    expect(r.findings.length).toBe(3);
  });

  it('a missing path: the line gives 0 where the true gradient is not', async () => {
    const { r, line } = await blame('grad b1 = grad z1', 'grad b1 = grad z1 * 0');
    expect(r.findings.length).toBe(1);
    expect(r.findings[0].range.start.line).toBe(line('grad b1 ='));
    expect(r.findings[0].message).toContain('a missing path');
  });

  it('a transposed gradient of a square matrix is named', async () => {
    const src = `
model Sq {
  input x: [3]
  target t: [3]
  param W: [3, 3] = normal(0, 1)
  z = W @ x
  y = tanh(z)
  loss C = mse(y, t)
  backward {
    grad y = 2 * (y - t) / 3
    grad z = grad y * (1 - y * y)
    grad W = outer(x, grad z)
  }
}`;
    const prog = await lower(src);
    for (const mode of ['fast', 'full'] as const) {
      const r = check(prog, prog.models[0], { mode });
      expect(r.findings.length).toBe(1);
      expect(r.findings[0].range.start.line).toBe(lineOf(src, 'grad W ='));
      expect(r.findings[0].message).toMatch(/^grad W is wrong: transposed — at W\[\d,\d\]/);
    }
  });

  it('a line may use the per-example gradient of a param', async () => {
    const src = (factor: string) => `
model P {
  input x: [2]
  target t: [2]
  param W: [2, 2] = normal(0, 1)
  param c: [2, 2] = normal(0, 1)
  z = (W + c) @ x
  loss C = mse(z, t)
  backward {
    grad z = (z - t)
    grad W = ${factor}outer(grad z, x)
    grad c = grad W
  }
}`;
    const good = await lower(src(''));
    const r = check(good, good.models[0]);
    expect(r.findings).toEqual([]);
    expect(r.backwardLines.map((l) => l.status)).toEqual(['ok', 'ok', 'ok']);
    const bad = await lower(src('3 * '));
    const s = src('3 * ');
    const rb = check(bad, bad.models[0]);
    expect(rb.findings.map((f) => [f.code, f.range.start.line])).toEqual([
      ['grad-mismatch', lineOf(s, 'grad W =')],
      ['grad-dependent', lineOf(s, 'grad c =')],
    ]);
    expect(rb.findings[0].message).toContain('off by a factor 3.00');
  });

  it('the hover details of every line', async () => {
    const { r } = await blame('grad W2 = outer(grad z2, a1)', 'grad W2 = 2 * outer(grad z2, a1)');
    const byTarget = Object.fromEntries(r.backwardLines.map((l) => [l.target, l]));
    expect(Object.keys(byTarget).sort()).toEqual(['W1', 'W2', 'a1', 'b1', 'b2', 'z1', 'z2']);
    expect(byTarget.z2.status).toBe('ok');
    expect(byTarget.z2.worst!.example).not.toBeNull();
    expect(byTarget.W2.worst!.example).toBeNull();
    expect(byTarget.W2.relError).toBeCloseTo(0.5, 12);
    expect(byTarget.z2.message).toMatch(/^grad z2 matches the true gradient/);
  });
});

describe('blame of function grad lines', () => {
  const src = `
function f(a, b) = a * sigmoid(b) + b * b
  grad a = sigmoid(b)
  grad b = a * sigmoid(b) * (1 - sigmoid(b)) + b

model M {
  input x: [3]
  target t: [3]
  param W: [3, 3] = normal(0, 1)
  param v: [3] = normal(0, 1)
  h = f(W @ x, v)
  loss C = mse(h, t)
}`;
  it('a wrong partial of a 2-argument function is an error on that grad line only', async () => {
    const prog = await lower(src);
    for (const mode of ['fast', 'full'] as const) {
      const r = check(prog, prog.models[0], { mode });
      expect(r.findings.length).toBe(1);
      const f = r.findings[0];
      expect(f.code).toBe('grad-mismatch');
      expect(f.range.start.line).toBe(lineOf(src, 'grad b ='));
      expect(f.message).toMatch(/^grad b of f is wrong — at a = -?[\d.]+, b = -?[\d.]+ the line gives/);
      const lines = Object.fromEntries(r.functionLines.map((l) => [l.arg, l]));
      expect(lines.a.status).toBe('ok');
      expect(lines.b.status).toBe('wrong');
      expect(lines.a.points).toBeGreaterThan(169); // the model's points and the 13×13 grid
      // v's gradient flows through the wrong line: explained, no extra finding; W's does not
      expect(r.params.v.status).toBe('explained');
      expect(r.params.v.maxRelError).toBeGreaterThan(1e-6);
      expect(r.params.W.status).toBe('ok');
    }
  });

  it('a constant factor in a grad line is named', async () => {
    const s = `
function swish(z) = z * sigmoid(z)
  grad z = 2 * sigmoid(z) * (1 + z * (1 - sigmoid(z)))
model M {
  input x: [2]
  target t: [1]
  param W: [1, 2] = normal(0, 1)
  loss C = mse(swish(W @ x), t)
}`;
    const prog = await lower(s);
    const r = check(prog, prog.models[0]);
    expect(r.findings.length).toBe(1);
    expect(r.findings[0].message).toMatch(/^grad z of swish is wrong: off by a factor 2\.00 — at z = /);
    expect(r.findings[0].range.start.line).toBe(lineOf(s, 'grad z ='));
  });

  it('a correct grad line whose numeric derivative is limited by truncation is not blamed', async () => {
    const s = `
function cube(u) = u * u * u
  grad u = 3 * u * u
model M {
  input x: [2]
  target t: [2]
  loss C = mse(cube(x), t)
}`;
    const prog = await lower(s);
    const r = check(prog, prog.models[0]);
    expect(r.findings).toEqual([]);
    expect(r.functionLines[0].status).toBe('ok');
  });
});

describe('kinks', () => {
  const src = `
model K {
  input x: [3]
  target t: [2]
  param W1: [4, 3] = zeros
  param b1: [4] = zeros
  param W2: [2, 4] = normal(0, 1)
  h = relu(W1 @ x + b1)
  y = W2 @ h
  loss C = mse(y, t)
}`;
  for (const mode of ['fast', 'full'] as const) {
    it(`relu with all-zero params sits exactly at its kink: a grad-kink hint, no error (${mode})`, async () => {
      const prog = await lower(src);
      const r = check(prog, prog.models[0], { mode });
      expect(problems(r.findings)).toEqual([]);
      const hints = r.findings.filter((f) => f.code === 'grad-kink');
      expect(hints.length).toBe(1);
      expect(hints[0].severity).toBe('hint');
      expect(hints[0].range.start.line).toBe(lineOf(src, 'h = relu'));
      expect(hints[0].message).toContain("relu'(0) = 0");
      expect(r.params.W1.status).toBe('kink');
      expect(r.params.W1.kinkCrossings).toBeGreaterThan(0);
      expect(r.params.W2.status).toBe('ok');
    });
  }
});

describe('other kinks', () => {
  const cases: [string, string, string, string][] = [
    [
      'a tie of max',
      `model T {
  input x: [3]
  target t: [1]
  param W: [2, 3] = ones
  m = max(W @ x)
  loss C = mean((m - t)^2)
}`,
      'm = max',
      'max has a tie',
    ],
    [
      // exactly at 0 a central difference of abs agrees with abs'(0) = 0 (it is symmetric);
      // just beside 0, within the step, it does not
      'abs within the step of 0',
      `model A {
  input x: [3]
  target t: [2]
  param W: [2, 3] = zeros
  param b: [2] = constant(1e-7)
  h = abs(W @ x + b)
  loss C = mse(h, t)
}`,
      'h = abs',
      "abs'(0) = 0",
    ],
    [
      'leaky_relu at 0',
      `model L {
  input x: [3]
  target t: [2]
  param W: [2, 3] = zeros
  h = leaky_relu(W @ x, 0.1)
  loss C = mse(h, t)
}`,
      'h = leaky_relu',
      "leaky_relu'(0) = alpha",
    ],
    [
      'a user function with a relu inside',
      `function hinge(z) = relu(1 - z) + z * 0.5
model U {
  input x: [3]
  target t: [2]
  param W: [2, 3] = zeros
  param b: [2] = ones
  h = hinge(W @ x + b)
  loss C = mse(h, t)
}`,
      'h = hinge',
      'hinge has a kink',
    ],
  ];
  for (const [name, src, at, text] of cases) {
    it(`${name}: a grad-kink hint on the op, no error`, async () => {
      const prog = await lower(src);
      const r = check(prog, prog.models[0], { mode: 'full' });
      expect(problems(r.findings)).toEqual([]);
      const hints = r.findings.filter((f) => f.code === 'grad-kink');
      expect(hints.length).toBe(1);
      expect(hints[0].range.start.line).toBe(lineOf(src, at));
      expect(hints[0].message).toContain(text);
    });
  }
});

describe('check options', () => {
  it('uses the first `examples` examples of a larger batch', async () => {
    const prog = await lower(BYHAND);
    const m = prog.models[0];
    const params = initParams(m, 0);
    const big = randomBatch(prog, m, 10, 0);
    const r = checkModel(prog, m, params, big, { examples: 3 });
    expect(r.examples).toBe(3);
    const small = { n: 3, data: { x: Array.from(big.data.x).slice(0, 6), t: Array.from(big.data.t).slice(0, 3) } };
    expect(r.loss).toBe(checkModel(prog, m, params, small).loss);
  });

  it('checks the grad lines of functions no model calls', async () => {
    const { checkFunctions } = await import('../../engine/check/functions');
    const prog = await lower(`
function sq(u) = u * u
  grad u = u
function ok(u) = exp(u)
  grad u = exp(u)
model M {
  input x: [2]
  target t: [2]
  loss C = mse(x, t)
}`);
    const r = checkFunctions(prog, { eps: 1e-6, tolerance: 1e-6 });
    expect(r.details.map((d) => [d.function, d.status])).toEqual([
      ['sq', 'wrong'],
      ['ok', 'ok'],
    ]);
    expect(r.findings.length).toBe(1);
    expect(r.findings[0].message).toContain('off by a factor 0.50');
  });
});

describe('non-finite values', () => {
  it('log(0) is reported on the log, naming it and the input', async () => {
    const src = `
model N {
  input x: [3]
  target t: [3]
  param W: [3, 3] = zeros
  h = log(W @ x)
  loss C = mse(h, t)
}`;
    const prog = await lower(src);
    const r = check(prog, prog.models[0]);
    expect(r.findings.length).toBe(1);
    const f = r.findings[0];
    expect(f.code).toBe('non-finite');
    expect(f.severity).toBe('error');
    expect(f.range.start.line).toBe(lineOf(src, 'h = log'));
    expect(f.message).toContain('log(0) = -Infinity');
    expect(r.nonFinite!.opName).toBe('log');
    expect(r.nonFinite!.example).toBe(0);
    expect(r.nonFinite!.where).toBe('h[0]');
  });

  it('a loss that becomes NaN within the step is reported, naming the op and the perturbation', async () => {
    // h = log(W @ x + b): with b = 1e-7 and W = 0 the argument is 1e-7, and moving W by eps
    // pushes it below 0 for most elements
    const src = `
model E {
  input x: [3]
  target t: [2]
  param W: [2, 3] = zeros
  param b: [2] = constant(1e-7)
  h = log(W @ x + b)
  loss C = mse(h, t)
}`;
    const prog = await lower(src);
    for (const mode of ['fast', 'full'] as const) {
      const r = check(prog, prog.models[0], { mode });
      expect(r.findings.map((f) => f.code)).toEqual(['non-finite']);
      expect(r.findings[0].range.start.line).toBe(lineOf(src, 'h = log'));
      expect(r.findings[0].message).toMatch(/log of a negative number: log\(-[\d.e-]+\) = NaN .*, when W(\[\d,\d\])? is moved by -?1e-6/);
      expect(r.nonFinite!.opName).toBe('log');
      expect(r.params.W.status).toBe('unchecked');
      expect(r.params.W.maxRelError).toBeNaN();
    }
  });

  it('an infinite derivative (sqrt at 0) is reported from the backward pass', async () => {
    const src = `
model S {
  input x: [2]
  target t: [2]
  param W: [2, 2] = zeros
  h = sqrt(W @ x)
  loss C = mse(h, t)
}`;
    const prog = await lower(src);
    const r = check(prog, prog.models[0]);
    expect(r.findings.map((f) => f.code)).toEqual(['non-finite']);
    expect(r.nonFinite!.phase).toBe('backward');
    expect(r.nonFinite!.opName).toBe('sqrt');
    expect(r.findings[0].message).toContain('the derivative of sqrt at 0 is infinite');
  });
});

describe('an analytic gradient that disagrees with no one to blame', () => {
  it('a backend whose backward gemm is broken gives a grad-unexplained warning on the param', async () => {
    const src = `
model B {
  input x: [3]
  target t: [2]
  param W: [2, 3] = normal(0, 1)
  loss C = mse(tanh(W @ x), t)
}`;
    const prog = await lower(src);
    const good = jsBackend('f64');
    const broken: Backend = {
      dtype: 'f64',
      name: 'broken',
      allocate: (s) => good.allocate(s),
      gemm: (tA, tB, M, N, K, A, ao, B, bo, C, co, acc) => {
        good.gemm(tA, tB, M, N, K, A, ao, B, bo, C, co, acc);
        // the backward products: those that add, and a weight gradient's, which stores (op(A) = ∂Zᵀ)
        if (acc || tA) for (let i = 0; i < M * N; i++) C[co + i] *= 1.5;
      },
    };
    const r = check(prog, prog.models[0], { backend: broken });
    expect(r.findings.map((f) => f.code)).toEqual(['grad-unexplained']);
    expect(r.findings[0].severity).toBe('warning');
    expect(r.findings[0].range.start.line).toBe(lineOf(src, 'param W'));
    expect(r.params.W.status).toBe('mismatch');
  });
});

describe('progress and cancellation', () => {
  it('reports monotonic progress up to the total', async () => {
    const prog = await lower(BYHAND);
    const seen: [number, number][] = [];
    const r = check(prog, prog.models[0], { mode: 'full', onProgress: (d, t) => seen.push([d, t]) });
    expect(r.cancelled).toBe(false);
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThanOrEqual(seen[i - 1][0]);
    const [done, total] = seen[seen.length - 1];
    expect(done).toBe(total);
  });

  it('stops when asked and says so', async () => {
    const prog = await lower(readFileSync(join(EXAMPLES, 'digits.nn'), 'utf8'));
    let polls = 0;
    const r = check(prog, prog.models[0], { mode: 'full', shouldStop: () => ++polls > 3 });
    expect(r.cancelled).toBe(true);
    expect(r.forwardPasses).toBeLessThan(2 * 8020);
  });
});
