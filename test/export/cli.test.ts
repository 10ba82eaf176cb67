/**
 * `nnlens export`'s exit codes, as a user runs it (`node out/cli.js`):
 * - 1, nothing written: a file `nnlens check` rejects — a language error, a wrong backward line
 *   trained with `gradients: manual` (issue 9: the lecture's net with `grad z1 = grad a1`), a grad
 *   line that is not its function's derivative — on every route (script, project, ONNX);
 * - 2, one line on stderr and no stack trace: an output path that cannot be used (a missing
 *   directory, a directory where a file goes, a file where a directory goes, a non-empty project
 *   directory without --force, a path under a file), a bad weights file, missing options;
 * - 0: written; --force writes a project into a non-empty directory and leaves other files alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { CLI, PARITY, ROOT, requireBuiltCli, tempDir } from '../parity/harness';

function nnlens(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const XOR = join(ROOT, 'examples', 'xor.nn');
const ROUTES = [
  { to: 'pytorch', out: 'out.py', what: 'the script' },
  { to: 'pytorch', out: 'project/', what: 'a project' },
  { to: 'onnx', out: 'out.onnx', what: 'ONNX' },
] as const;

/** The lecture's hand-written backprop with σ′ forgotten on the hidden layer, trained with it. */
const WRONG_BACKWARD = readFileSync(join(ROOT, 'examples', 'byhand.nn'), 'utf8').replace(/grad z1 = grad a1 \* a1 \* \(1 - a1\).*$/m, 'grad z1 = grad a1');

let dir = '';
beforeAll(() => {
  requireBuiltCli();
  dir = tempDir('export-cli');
  expect(WRONG_BACKWARD).toContain('grad z1 = grad a1\n');
  writeFileSync(join(dir, 'wrong.nn'), WRONG_BACKWARD);
  writeFileSync(join(dir, 'shape.nn'), 'model Bad {\n  input x: [3]\n  target t: [2]\n  param W: [2, 4]\n  loss C = mse(W @ x, t)\n}\n');
});

/** A usage error: exit 2, nothing on stdout, exactly one line on stderr, no stack trace. */
function expectUsage(r: ReturnType<typeof nnlens>, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n').filter(Boolean), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^nnlens export: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

describe('a file nnlens check rejects is not exported: exit 1, nothing written', () => {
  const cases = [
    { file: 'wrong.nn', model: 'ByHand', error: /wrong\.nn:26:\d+ - error grad-mismatch: grad z1 is wrong/ },
    { file: 'shape.nn', model: 'Bad', error: /shape\.nn:5:\d+ - error shape-mismatch/ },
    { file: join(PARITY, 'models', 'straight_through.nn'), model: 'StraightThrough', error: /error grad-mismatch: grad z of ste is wrong/ },
  ];
  test.each(cases)('$model, on every route (script, project, ONNX)', ({ file, model, error }) => {
    const path = file.startsWith('/') ? file : join(dir, file);
    expect(nnlens('check', path).code).toBe(1); // what `nnlens check` says
    for (const { to, out } of ROUTES) {
      const target = join(dir, `${model}-${out}`);
      const r = nnlens('export', path, '--model', model, '--to', to, '-o', target);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(error);
      expect(r.stderr).toMatch(/nnlens export: nnlens check rejects .* \(\d+ errors?\); nothing exported\n$/);
      expect(existsSync(target.replace(/\/$/, ''))).toBe(false);
    }
  });

  test('the same file fixed exports (exit 0)', () => {
    const fixed = join(dir, 'fixed.nn');
    writeFileSync(fixed, WRONG_BACKWARD.replace('grad z1 = grad a1\n', 'grad z1 = grad a1 * a1 * (1 - a1)\n'));
    const r = nnlens('export', fixed, '--model', 'ByHand', '--to', 'pytorch', '-o', join(dir, 'fixed.py'));
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'fixed.py'))).toBe(true);
  });
});

describe('output paths that cannot be used: exit 2, one line', () => {
  test('a missing directory (issue 9: it was "internal error: ENOENT", exit 3)', () => {
    for (const r of ROUTES) {
      const out = join('/nonexistent', 'dir', r.out);
      expectUsage(nnlens('export', XOR, '--model', 'Xor', '--to', r.to, '-o', out), /the directory \/nonexistent\/dir does not exist/);
    }
  });

  test('a directory where a file goes (issue 9: it was EISDIR)', () => {
    const d = join(dir, 'a-dir');
    mkdirSync(d, { recursive: true });
    expectUsage(nnlens('export', XOR, '--model', 'Xor', '--to', 'pytorch', '-o', d), /is a directory: give a file .* or, for a project, end the path with \//);
    expectUsage(nnlens('export', XOR, '--model', 'Xor', '--to', 'onnx', '-o', d), /is a directory: give a file/);
  });

  test('a file where the project directory goes, a path under a file, ONNX into a directory', () => {
    const f = join(dir, 'a-file');
    writeFileSync(f, 'x');
    expectUsage(nnlens('export', XOR, '--model', 'Xor', '--to', 'pytorch', '-o', `${f}/`), /a-file is a file, not a directory/);
    expectUsage(nnlens('export', XOR, '--model', 'Xor', '--to', 'pytorch', '-o', join(f, 'x.py')), /a-file is not a directory/);
    expectUsage(nnlens('export', XOR, '--model', 'Xor', '--to', 'onnx', '-o', join(dir, 'onnx-dir') + '/'), /--to onnx writes one file/);
    expectUsage(nnlens('export', XOR, '--model', 'Xor', '--to', 'pytorch', '-o', join(dir, 'missing', 'deeper') + '/'), /missing does not exist/);
    expect(readFileSync(f, 'utf8')).toBe('x');
  });

  test('a non-empty project directory needs --force; --force writes the project and keeps other files', () => {
    const d = join(dir, 'busy');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'notes.txt'), 'mine');
    expectUsage(nnlens('export', XOR, '--model', 'Xor', '--to', 'pytorch', '-o', `${d}/`), /not empty \(--force writes the project's files into it\)/);
    expect(readdirSync(d)).toEqual(['notes.txt']);
    const r = nnlens('export', XOR, '--model', 'Xor', '--to', 'pytorch', '-o', `${d}/`, '--force');
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['README.md', 'data.py', 'initial.weights.json', 'model.py', 'notes.txt', 'train.py']);
    expect(readFileSync(join(d, 'notes.txt'), 'utf8')).toBe('mine');
    // an empty directory, or a new one, needs no --force
    const fresh = join(dir, 'fresh');
    expect(nnlens('export', XOR, '--model', 'Xor', '--to', 'pytorch', '-o', `${fresh}/`).code).toBe(0);
    expect(existsSync(join(fresh, 'model.py'))).toBe(true);
  });

  test.skipIf(process.getuid?.() === 0)('a directory without write permission (skipped as root, who may write anywhere)', async () => {
    const { chmodSync } = await import('node:fs');
    const d = join(dir, 'locked');
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o500);
    expectUsage(nnlens('export', XOR, '--model', 'Xor', '--to', 'onnx', '-o', join(d, 'x.onnx')), /cannot write .*x\.onnx: permission denied/);
    chmodSync(d, 0o700);
  });
});

describe('other unusable requests: exit 2, one line', () => {
  test.each([
    [['--model', 'Xor', '--to', 'onnx'], /--to onnx needs -o OUT\.onnx/],
    [['--model', 'Xor', '--to', 'pytorch', '--weights', '/nonexistent/W.json'], /weights? .*\/nonexistent\/W\.json does not exist|params file \/nonexistent\/W\.json does not exist/],
    [['--model', 'Nope', '--to', 'onnx', '-o', '/tmp/x.onnx'], /has no model Nope \(models: Xor\)/],
    [['--model', 'Xor', '--to', 'pytorch', '-o', ''], /-o needs a path/],
  ])('%j', (args, message) => expectUsage(nnlens('export', XOR, ...(args as string[])), message as RegExp));

  test('a weights file of the wrong shape names the param and both shapes', () => {
    const w = join(dir, 'bad.weights.json');
    writeFileSync(w, JSON.stringify({ W1: [[1, 2]], b1: [0, 0, 0, 0], W2: [[0, 0, 0, 0]], b2: [0] }));
    expectUsage(nnlens('export', XOR, '--model', 'Xor', '--to', 'onnx', '--weights', w, '-o', join(dir, 'w.onnx')), /"W1" has shape \[1, 2\] but the model declares \[4, 2\]/);
    expect(existsSync(join(dir, 'w.onnx'))).toBe(false);
  });
});

describe('--weights W.json (exit 0)', () => {
  test('--weights: the project starts from them and the script holds them', () => {
    const values = { W1: [[1, -2], [0.5, 0.25], [3, 4], [-1, 1]], b1: [0.1, 0.2, 0.3, 0.4], W2: [[1, 2, 3, 4]], b2: [-0.5] };
    const w = join(dir, 'given.weights.json');
    writeFileSync(w, JSON.stringify(values));
    const d = join(dir, 'given') + '/';
    const r = nnlens('export', XOR, '--model', 'Xor', '--to', 'pytorch', '--weights', w, '-o', d);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(d, 'initial.weights.json'), 'utf8'))).toEqual(values);
    expect(readFileSync(join(d, 'README.md'), 'utf8')).toContain(`the weights of ${w}`);
    const script = nnlens('export', XOR, '--model', 'Xor', '--to', 'pytorch', '--weights', w);
    expect(script.code).toBe(0);
    expect(script.stdout).toContain('"W1": _tensor([[1.0, -2.0], [0.5, 0.25], [3.0, 4.0], [-1.0, 1.0]]),');
  });
});
