/**
 * Gradient-health diagnostics, as the engine worker computes them (engine/session/jobs.ts, in process).
 * The counts and norms in the messages are recomputed here by hand from the same weights and
 * examples.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initParams, type Finding, type IRProgram } from '../../engine';
import { analyzeText } from '../../language';
import { CODE_INFO } from '../../engine/codes';
import { HEALTH_EXAMPLES, runCheckJob } from '../../engine/session/jobs';
import { checkBatchFor } from '../../engine/session/pipeline';
import { ROOT } from '../server/helpers';

const dir = resolve(ROOT, 'examples');

async function check(text: string): Promise<{ findings: Finding[]; program: IRProgram }> {
  const a = await analyzeText(text, { uri: resolve(dir, 'health-test.nn') });
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const r = runCheckJob({
    uri: 'health-test',
    version: 1,
    program: a.program,
    ctx: { baseDir: dir },
    defaults: {},
    weights: {},
    numbers: false,
    health: true,
    memoryLimit: 512 * 2 ** 20,
    fullCheckParamLimit: 200_000,
  });
  return { findings: r.findings, program: a.program };
}

const health = (fs: Finding[]) => fs.filter((f) => (CODE_INFO as Record<string, { source: string }>)[f.code]?.source === 'health');
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('gradient health', () => {
  it('says nothing about the examples', async () => {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.nn'))) {
      const { findings } = await check(readFileSync(resolve(dir, f), 'utf8'));
      expect(findings, f).toEqual([]);
    }
  });

  it('warns of saturated sigmoids on the value that saturates, with the share of its units', async () => {
    const text = readFileSync(resolve(dir, 'digits.nn'), 'utf8').replace('normal(0, 0.1)', 'normal(0, 10)');
    const { findings, program } = await check(text);
    const sat = findings.find((f) => f.code === 'vanishing-gradient' && f.message.includes("a1's units"))!;
    expect(sat.severity).toBe('warning');
    expect(sat.range.start.line).toBe(text.split('\n').findIndex((l) => l.trim().startsWith('a1 =')));
    // by hand: σ'(z1) averaged over the same examples, per unit
    const model = program.models[0];
    const P = initParams(model, 42);
    const { batch } = checkBatchFor(program, model, { baseDir: dir }, HEALTH_EXAMPLES);
    let saturated = 0;
    for (let u = 0; u < 30; u++) {
      let sum = 0;
      for (let n = 0; n < batch.n; n++) {
        let z = P.b1[u];
        for (let j = 0; j < 256; j++) z += P.W1[u * 256 + j] * batch.data.x[n * 256 + j];
        const a = sigmoid(z);
        sum += a * (1 - a);
      }
      if (sum / batch.n < 0.01) saturated++;
    }
    expect(saturated).toBeGreaterThanOrEqual(15);
    expect(sat.message).toContain(`(${saturated} of 30) have σ'(z) < 0.01 on average over the ${batch.n} examples: saturated sigmoid`);
  });

  it('reports dead ReLUs with how many units are 0 on every example', async () => {
    const text = [
      'data d = circle(n: 200)',
      'model M {',
      '  input x: [2]',
      '  target t: [1]',
      '  param W: [16, 2] = normal(0, 1)',
      '  param b: [16] = constant(-3)',
      '  h = relu(W @ x + b)',
      '  param V: [1, 16]',
      '  y = sigmoid(V @ h)',
      '  loss C = binary_cross_entropy(y, t)',
      '}',
      'train M on d { seed: 3 }',
    ].join('\n');
    const { findings, program } = await check(text);
    const f = findings.find((x) => x.code === 'dead-relu')!;
    const model = program.models[0];
    const P = initParams(model, 3);
    const { batch } = checkBatchFor(program, model, { baseDir: dir }, HEALTH_EXAMPLES);
    let dead = 0;
    for (let u = 0; u < 16; u++) {
      let alive = false;
      for (let n = 0; n < batch.n; n++) {
        if (P.W[2 * u] * batch.data.x[2 * n] + P.W[2 * u + 1] * batch.data.x[2 * n + 1] + P.b[u] > 0) alive = true;
      }
      if (!alive) dead++;
    }
    expect(dead).toBeGreaterThan(0);
    expect(f.message).toContain(`${dead} of 16 units of h`);
    expect(f.message).toContain(`on all ${batch.n} examples`);
    expect(f.severity).toBe(dead >= 8 ? 'warning' : 'info');
    expect(f.range.start.line).toBe(6);
    // all dead: a warning
    const all = await check(text.replace('constant(-3)', 'constant(-100)'));
    const w = all.findings.find((x) => x.code === 'dead-relu')!;
    expect(w.severity).toBe('warning');
    expect(w.message).toContain('16 of 16 units of h (100%)');
  });

  it('warns of exploding gradients with the norm, computed by hand', async () => {
    const text = [
      'data d = gauss(n: 100)',
      'model M {',
      '  input x: [2]',
      '  target t: [1]',
      '  param W: [1, 2] = normal(0, 10000)',
      '  y = W @ x',
      '  loss C = mse(y, t)',
      '}',
      'train M on d',
    ].join('\n');
    const { findings, program } = await check(text);
    const f = findings.find((x) => x.code === 'exploding-gradient')!;
    expect(f.severity).toBe('warning');
    expect(f.range.start.line).toBe(4);
    const model = program.models[0];
    const P = initParams(model, 0);
    const { batch } = checkBatchFor(program, model, { baseDir: dir }, HEALTH_EXAMPLES);
    const g = [0, 0];
    for (let n = 0; n < batch.n; n++) {
      const [x0, x1] = [batch.data.x[2 * n], batch.data.x[2 * n + 1]];
      const y = P.W[0] * x0 + P.W[1] * x1;
      const d = (2 * (y - batch.data.t[n])) / batch.n;
      g[0] += d * x0;
      g[1] += d * x1;
    }
    const norm = Math.hypot(g[0], g[1]);
    expect(norm).toBeGreaterThan(1000);
    const printed = Number(/‖∂C\/∂W‖ = (\S+) at the current weights/.exec(f.message)![1]);
    expect(Math.abs(printed - norm) / norm).toBeLessThan(1e-3);
  });

  it('warns when the gradient vanishes on its way back through many sigmoid layers', async () => {
    const layers = Array.from({ length: 7 }, (_, i) => `  h${i + 1} = dense(${i ? `h${i}` : 'x'}, 32, sigmoid)`);
    const text = ['data d = circle(n: 200)', 'model M {', '  input x: [2]', '  target t: [1]', ...layers, '  y = dense(h7, 1, sigmoid)', '  loss C = binary_cross_entropy(y, t)', '}', 'train M on d'].join('\n');
    const { findings } = await check(text);
    const f = findings.find((x) => x.code === 'vanishing-gradient')!;
    expect(f.message).toMatch(/‖∂C\/∂h1\.W‖\/‖h1\.W‖ = \S+ is \S+ of ‖∂C\/∂y\.W‖\/‖y\.W‖/);
    expect(f.message).toContain('through 8 layers');
    expect(health(findings).every((x) => x.severity !== 'error')).toBe(true);
  });

  it('leaves NaN/Infinity to the checker, which names the op', async () => {
    const { findings } = await check('model M {\n  input x: [2]\n  loss C = sum(log(x - x))\n}\n');
    expect(findings.map((f) => [f.code, f.severity])).toEqual([['non-finite', 'error']]);
    expect(findings[0].message).toContain('log(0) = -Infinity');
  });
});
