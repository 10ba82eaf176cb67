/**
 * `nnlens trace` and `nnlens graph` as a user runs them (the built CLI): §10's JSON, the
 * readable form, the SVG, and every exit code with a one-line message for unusable input.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'out/cli.js');

function nnlens(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2 with exactly one line on stderr, nothing on stdout. */
function usage(r: ReturnType<typeof nnlens>, message: string): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toEqual([message]);
}

let dir = '';
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('out/cli.js is missing: run `npm run build` (npm test does)');
  dir = mkdtempSync(join(tmpdir(), 'nnlens-cli-trace-'));
});

describe('nnlens trace', () => {
  test('--json prints §10’s object for one example', () => {
    const r = nnlens('trace', 'examples/xor.nn', '--model', 'Xor', '--example', '4', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['model', 'example', 'loss', 'nodes', 'edges', 'backward']);
    expect(j).toMatchObject({ model: 'Xor', example: 4, backward: [] });
    expect(j.nodes.map((n: { name: string; kind: string }) => `${n.kind} ${n.name}`)).toEqual([
      'input x', 'target t', 'param W1', 'param b1', 'param W2', 'param b2', 'value a1', 'value y', 'loss C',
    ]);
    const x = j.nodes[0];
    expect(x).toMatchObject({ line: 6, shape: [2], value: [1, 1] });
    // C = −log(1 − y) for the target 0 of example 4, by hand from the printed y
    const y = j.nodes.find((n: { name: string }) => n.name === 'y').value[0];
    expect(j.loss).toBeCloseTo(-Math.log(1 - y), 12);
    expect(j.edges).toContainEqual({ from: 'a1', to: 'y', op: '@' });
  });

  test('the readable form: each tensor with its value, gradient and amplifier; the backward block', () => {
    const r = nnlens('trace', 'examples/byhand.nn', '--model', 'ByHand', '--example', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ByHand: example 2 of 4 (data xor), the initial weights — loss C = ');
    expect(r.stdout).toContain('a1 = sigmoid(z1): [4] (line 16)');
    expect(r.stdout).toMatch(/sigmoid′\(z\)\s+\[/);
    expect(r.stdout).toContain('✓ line 22: grad z2');
  });

  test('weights from a file (the P.json format)', () => {
    const W = join(dir, 'w.json');
    writeFileSync(W, JSON.stringify({ W1: [[1, 0], [0, 1], [1, 1], [0, 0]], b1: [0, 0, 0, 0], W2: [[1, 1, 1, 1]], b2: [0] }));
    const r = nnlens('trace', 'examples/xor.nn', '--model', 'Xor', '--example', '4', '--weights', W, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    // a1 = tanh([1, 1, 2, 0]), y = sigmoid(sum)
    const a1 = [Math.tanh(1), Math.tanh(1), Math.tanh(2), 0];
    expect(j.nodes.find((n: { name: string }) => n.name === 'a1').value).toEqual(a1);
    expect(j.nodes.find((n: { name: string }) => n.name === 'y').value[0]).toBeCloseTo(1 / (1 + Math.exp(-a1.reduce((s, v) => s + v, 0))), 14);
  });

  test('a file with errors: exit 1 with its diagnostics', () => {
    const f = join(dir, 'bad.nn');
    writeFileSync(f, 'model E {\n  input x: [2]\n  z = W @ x\n  loss C = sum(z)\n}\n');
    const r = nnlens('trace', f, '--model', 'E');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${f}:3:7 - error unknown-name: unknown name 'W'`);
    expect(r.stderr).toContain('model E has errors; nothing traced');
  });

  test('unusable arguments: exit 2 and one line', () => {
    usage(nnlens('trace', 'examples/xor.nn', '--model', 'Nope'), 'nnlens trace: examples/xor.nn has no model Nope (models: Xor)');
    usage(nnlens('trace', 'examples/xor.nn', '--model', 'Xor', '--example', '9'), 'nnlens trace: example 9 is out of range: data xor has 4 examples (1–4)');
    usage(nnlens('trace', 'examples/xor.nn', '--model', 'Xor', '--example', 'two'), 'nnlens trace: --example must be a positive whole number (1 is the first example), not two');
    usage(nnlens('trace', 'examples/xor.nn'), 'nnlens trace: nnlens trace needs --model NAME');
    usage(nnlens('trace', 'nowhere.nn', '--model', 'X'), 'nnlens trace: file nowhere.nn does not exist');
    usage(nnlens('trace', 'examples/xor.nn', '--model', 'Xor', '--weights', join(dir, 'none.json')), `nnlens trace: params file ${join(dir, 'none.json')} does not exist`);
    const W = join(dir, 'short.json');
    writeFileSync(W, JSON.stringify({ W1: [[1, 2]], b1: [0, 0, 0, 0], W2: [[1, 1, 1, 1]], b2: [0] }));
    usage(nnlens('trace', 'examples/xor.nn', '--model', 'Xor', '--weights', W), `nnlens trace: ${W}: "W1" has shape [1, 2] but the model declares [4, 2]`);
  });
});

describe('nnlens graph', () => {
  test('-o writes the picture: neuron level for xor, tensor level for digits', () => {
    const xor = join(dir, 'xor.svg');
    const r = nnlens('graph', 'examples/xor.nn', '--model', 'Xor', '--example', '3', '-o', xor);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`wrote ${xor} (Xor, example 3, neuron level)\n`);
    const svg = readFileSync(xor, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('data-level="neuron"');
    expect(svg).toContain('Backward pass');
    const digits = join(dir, 'digits.svg');
    expect(nnlens('graph', 'examples/digits.nn', '--model', 'Digits', '-o', digits).code).toBe(0);
    expect(readFileSync(digits, 'utf8')).toContain('data-level="tensor"');
  });

  test('without -o the SVG goes to stdout; --level forces a level', () => {
    const r = nnlens('graph', 'examples/xor.nn', '--model', 'Xor', '--level', 'tensor');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('data-level="tensor"');
  });

  test('an unwritable output path, a bad level, a bad example: exit 2 and one line', () => {
    usage(nnlens('graph', 'examples/xor.nn', '--model', 'Xor', '-o', join(dir, 'no/such/dir/x.svg')), `nnlens graph: cannot write ${join(dir, 'no/such/dir/x.svg')}: its folder does not exist`);
    usage(nnlens('graph', 'examples/xor.nn', '--model', 'Xor', '-o', dir), `nnlens graph: cannot write ${dir}: it is a folder`);
    usage(nnlens('graph', 'examples/xor.nn', '--model', 'Xor', '--level', 'atoms'), 'nnlens graph: --level must be auto, neuron or tensor, not atoms');
    usage(nnlens('graph', 'examples/digits.nn', '--model', 'Digits', '--level', 'neuron'), 'nnlens graph: Digits cannot be drawn at neuron level: x has 256 units (more than 32) (use --level tensor)');
    usage(nnlens('graph', 'examples/xor.nn', '--model', 'Xor', '--example', '5'), 'nnlens graph: example 5 is out of range: data xor has 4 examples (1–4)');
  });

  test('--help lists both commands', () => {
    const r = nnlens('--help');
    expect(r.stdout).toContain('nnlens trace FILE --model NAME [--example N] [--weights W.json] [--json]');
    expect(r.stdout).toContain('nnlens graph FILE --model NAME [--example N]');
  });
});
