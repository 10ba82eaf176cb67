/**
 * The command line as a user runs it (`node out/cli.js`, built by `npm test`): §8's formats and
 * exit codes, every example of the spec through `nnlens check`, and clear errors for bad input.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { nnBlocks, wrap } from './language/spec-blocks';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'out/cli.js');
const LIVE_SPEC = resolve(ROOT, '../shared/spec/language.md');
const SPEC = existsSync(LIVE_SPEC) ? LIVE_SPEC : join(ROOT, 'test/fixtures/spec-language.md');

function nnlens(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface CheckJson {
  file: string;
  diagnostics: { severity: string; line: number; column: number; endLine: number; endColumn: number; code: string; message: string }[];
  models: Record<string, { loss: number; params: Record<string, { shape: number[]; maxRelError: number }> }>;
}

let dir = '';
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('out/cli.js is missing: run `npm run build` (npm test does)');
  dir = mkdtempSync(join(tmpdir(), 'nnlens-cli-'));
  cpSync(join(ROOT, 'examples/data'), join(dir, 'data'), { recursive: true });
});

describe('nnlens check', () => {
  test('--json prints §8’s object for the lecture’s network, with every param checked', () => {
    const r = nnlens('check', 'examples/digits.nn', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as CheckJson;
    expect(out.file).toBe('examples/digits.nn');
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const digits = out.models.Digits;
    // a 10-class classifier at small initial weights: the loss is near ln 10
    expect(Math.abs(digits.loss - Math.log(10))).toBeLessThan(0.5);
    expect(Object.keys(digits.params)).toEqual(['W1', 'b1', 'W2', 'b2']);
    expect(digits.params.W1.shape).toEqual([30, 256]);
    for (const p of Object.values(digits.params)) expect(p.maxRelError).toBeLessThan(1e-6);
  });

  test('a shape error: exit 1, 1-based position and a message naming both shapes', () => {
    const file = join(dir, 'shape.nn');
    writeFileSync(
      file,
      'model Bad {\n  input x: [100]\n  target t: [30]\n  param W1: [30, 256]\n  y = W1 @ x\n  loss C = mse(y, t)\n}\n',
    );
    const r = nnlens('check', file, '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as CheckJson;
    const errors = out.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'shape-mismatch', line: 5, column: 7, endLine: 5, endColumn: 13 });
    expect(errors[0].message).toContain('[30, 256]');
    expect(errors[0].message).toContain('[100]');
    expect(out.models).toEqual({});
  });

  test('a wrong hand-written derivative: an error on that line only', () => {
    const src = readFileSync(join(ROOT, 'examples/byhand.nn'), 'utf8').replace(
      'grad W2 = outer(grad z2, a1)',
      'grad W2 = 2 * outer(grad z2, a1)',
    );
    const file = join(dir, 'byhand-wrong.nn');
    writeFileSync(file, src);
    const line = src.split('\n').findIndex((l) => l.includes('grad W2 =')) + 1;
    const r = nnlens('check', file, '--json');
    expect(r.code).toBe(1);
    const errors = (JSON.parse(r.stdout) as CheckJson).diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((e) => [e.line, e.code])).toEqual([[line, 'grad-mismatch']]);
    expect(errors[0].message).toContain('off by a factor 2.00');
  });

  test('text output names the file, position, severity and code', () => {
    const file = join(dir, 'shape.nn');
    const r = nnlens('check', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${file}:5:7 - error shape-mismatch:`);
    expect(r.stdout).toMatch(/1 error/);
  });

  test('unusable arguments exit 2', () => {
    expect(nnlens('check', join(dir, 'missing.nn')).code).toBe(2);
    expect(nnlens('check').code).toBe(2);
    expect(nnlens('check', 'examples/xor.nn', '--mode', 'slow').code).toBe(2);
    expect(nnlens('check', 'examples/xor.nn', '--bogus').code).toBe(2);
    expect(nnlens('frobnicate').code).toBe(2);
  });

  test('--help lists every command', () => {
    const r = nnlens('--help');
    expect(r.code).toBe(0);
    for (const c of ['check', 'grad', 'train', 'export', 'lsp']) expect(r.stdout).toContain(`nnlens ${c}`);
  });
});

describe('every example of the spec passes nnlens check', () => {
  const blocks = nnBlocks(readFileSync(SPEC, 'utf8'));
  test.each(blocks.map((b, i) => [`${b.section} #${i + 1}`, i, b.code] as const))('%s', (_name, i, code) => {
    const file = join(dir, `spec-${i}.nn`);
    writeFileSync(file, wrap(code));
    const r = nnlens('check', file, '--json');
    const out = JSON.parse(r.stdout) as CheckJson;
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.code).toBe(0);
  });
});

describe('nnlens grad', () => {
  const model = 'examples/xor.nn';
  const params = {
    W1: [
      [0.5, -0.3],
      [0.1, 0.8],
      [-0.7, 0.2],
      [0.4, 0.4],
    ],
    b1: [0.1, -0.1, 0, 0.2],
    W2: [[0.3, -0.6, 0.9, 0.1]],
    b2: [0.05],
  };
  const batch = { x: [[0, 1], [1, 1], [1, 0]], t: [[1], [0], [1]] };

  function write(name: string, v: unknown): string {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(v));
    return f;
  }

  /** The xor model by hand: a1 = tanh(W1 x + b1), y = σ(W2 a1 + b2), BCE, mean over examples. */
  function byHand(): { loss: number; gb2: number } {
    let loss = 0;
    let gb2 = 0;
    batch.x.forEach((x, n) => {
      const a1 = params.W1.map((w, i) => Math.tanh(w[0] * x[0] + w[1] * x[1] + params.b1[i]));
      const z2 = params.W2[0].reduce((s, w, i) => s + w * a1[i], params.b2[0]);
      const y = 1 / (1 + Math.exp(-z2));
      const t = batch.t[n][0];
      loss += -(t * Math.log(y) + (1 - t) * Math.log(1 - y));
      gb2 += y - t;
    });
    return { loss: loss / batch.x.length, gb2: gb2 / batch.x.length };
  }

  test('prints the loss and every gradient, matching a hand calculation', () => {
    const r = nnlens('grad', model, '--model', 'Xor', '--params', write('p.json', params), '--batch', write('b.json', batch), '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { loss: number; grads: Record<string, unknown> };
    const want = byHand();
    expect(out.loss).toBeCloseTo(want.loss, 12);
    expect(Object.keys(out.grads)).toEqual(['W1', 'b1', 'W2', 'b2']);
    expect((out.grads.b2 as number[])[0]).toBeCloseTo(want.gb2, 12);
    expect((out.grads.W1 as number[][]).length).toBe(4);
    expect((out.grads.W1 as number[][])[0].length).toBe(2);
  });

  test('a param of the wrong shape: exit 2 naming the key and both shapes', () => {
    const bad = { ...params, W1: [[1, 2, 3]] };
    const r = nnlens('grad', model, '--model', 'Xor', '--params', write('bad.json', bad), '--batch', write('b.json', batch));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"W1"');
    expect(r.stderr).toContain('[1, 3]');
    expect(r.stderr).toContain('[4, 2]');
  });

  test('missing and unknown keys, bad JSON, missing files and an unknown model: exit 2', () => {
    const p = write('p.json', params);
    const b = write('b.json', batch);
    const noB2 = { ...params } as Record<string, unknown>;
    delete noB2.b2;
    const cases: [string[], string][] = [
      [['--params', write('nob2.json', noB2), '--batch', b], 'missing param "b2"'],
      [['--params', write('extra.json', { ...params, W3: [1] }), '--batch', b], '"W3" is not a param'],
      [['--params', p, '--batch', write('bx.json', { x: [[0, 1, 2]], t: [[1]] })], '[3] but the model declares [2]'],
      [['--params', p, '--batch', write('bn.json', { x: [[0, 1]], t: [[1], [0]] })], 'has 2 examples but "x" has 1'],
      [['--params', p, '--batch', write('bt.json', { x: [[0, 1]] })], 'missing "t"'],
      [['--params', join(dir, 'nope.json'), '--batch', b], 'does not exist'],
    ];
    writeFileSync(join(dir, 'broken.json'), '{"W1": [[1, 2], ');
    cases.push([['--params', join(dir, 'broken.json'), '--batch', b], 'not valid JSON']);
    for (const [args, message] of cases) {
      const r = nnlens('grad', model, '--model', 'Xor', ...args);
      expect(r.code, message).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const r = nnlens('grad', model, '--model', 'Nope', '--params', p, '--batch', b);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no model Nope');
  });
});

describe('nnlens check: gradient health', () => {
  test('prints the health findings the editor shows (warnings: exit 0), and none for a healthy model', async () => {
    const { analyzeText } = await import('../language');
    const { runCheckJob } = await import('../engine/session/jobs');
    const text = readFileSync(join(ROOT, 'examples/digits.nn'), 'utf8').replace('normal(0, 0.1)', 'normal(0, 10)');
    const file = join(dir, 'saturated.nn');
    writeFileSync(file, text);
    const r = nnlens('check', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as CheckJson;
    const cli = out.diagnostics.filter((d) => ['vanishing-gradient', 'exploding-gradient', 'dead-relu'].includes(d.code));
    expect(cli.length).toBeGreaterThan(0);
    // the editor's check job on the same file
    const a = await analyzeText(text, { uri: file });
    const job = runCheckJob({
      uri: file, version: 1, program: a.program, ctx: { baseDir: dir }, defaults: {}, weights: {},
      numbers: false, health: true, memoryLimit: 512 * 2 ** 20, fullCheckParamLimit: 200_000,
    });
    const editor = job.findings.filter((f) => ['vanishing-gradient', 'exploding-gradient', 'dead-relu'].includes(f.code));
    const key = (x: [string, number, string]) => `${x[1]} ${x[0]} ${x[2]}`;
    const sorted = (xs: [string, number, string][]) => xs.map(key).sort();
    expect(sorted(cli.map((d) => [d.code, d.line, d.message]))).toEqual(sorted(editor.map((f) => [f.code, f.range.start.line + 1, f.message])));
    const sat = cli.find((d) => d.code === 'vanishing-gradient' && /saturated sigmoid/.test(d.message))!;
    expect(sat.severity).toBe('warning');
    expect(sat.message).toMatch(/^60% of a1's units \(18 of 30\) have σ'\(z\) < 0\.01/);
    const plain = nnlens('check', file);
    expect(plain.stdout).toMatch(/saturated\.nn:\d+:\d+ - warning vanishing-gradient: /);
    const healthy = JSON.parse(nnlens('check', 'examples/digits.nn', '--json').stdout) as CheckJson;
    expect(healthy.diagnostics.filter((d) => d.severity !== 'error')).toEqual([]);
  });
});
