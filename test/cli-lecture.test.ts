/**
 * The lecture's notation and students' mistakes through the command line (§9, issue 9): exit
 * codes and what `nnlens check` / `nnlens train` print, run as a user runs them
 * (`node out/cli.js`, built by `npm test`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'out/cli.js');
const FIX = join(ROOT, 'test/fixtures/lecture');

function nnlens(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Epoch {
  epoch: number;
  loss: number;
  valLoss: number | null;
  accuracy: number | null;
}

function epochs(stdout: string): Epoch[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Epoch);
}

let dir = '';
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('out/cli.js is missing: run `npm run build` (npm test does)');
  dir = mkdtempSync(join(tmpdir(), 'nnlens-lecture-'));
});

/** A copy of a fixture in the temporary directory (training writes weights next to the file). */
function copy(name: string, edit: (s: string) => string = (s) => s): string {
  const file = join(dir, name);
  writeFileSync(file, edit(readFileSync(join(FIX, name), 'utf8')));
  return file;
}

describe('grad C starts the chain (§9)', () => {
  test('`grad C = 1` then `grad y = grad C * 2 * (y - t)`: check exits 0, manual training follows the automatic gradients', () => {
    const manual = copy('grad-loss-train.nn');
    expect(nnlens('check', manual).code).toBe(0);
    const m = nnlens('train', manual, '--json');
    expect(m.code).toBe(0);
    expect(m.stderr).toContain('manual gradients');
    // the same training with the automatic gradients: the hand-written chain gives the same
    // gradients, so the same losses (float32 rounding apart)
    const auto = copy('grad-loss-train.nn', (s) => s.replace('gradients: manual', 'gradients: auto'));
    const a = nnlens('train', auto, '--json');
    expect(a.code).toBe(0);
    const em = epochs(m.stdout);
    const ea = epochs(a.stdout);
    expect(em).toHaveLength(5);
    expect(em.map((e) => e.loss)).toEqual(ea.map((e) => expect.closeTo(e.loss, 5)));
    expect(em[4].loss).toBeLessThan(em[0].loss);
  });

  test('a wrong `grad C = 2`: check and train exit 1 with the error on that line', () => {
    const file = copy('grad-loss-train.nn', (s) => s.replace('grad C = 1', 'grad C = 2'));
    const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('grad C = 2')) + 1;
    const c = nnlens('check', file);
    expect(c.code).toBe(1);
    expect(c.stdout).toContain(`:${line}:5 - error grad-mismatch: grad C is wrong: off by a factor 2.00`);
    const t = nnlens('train', file);
    expect(t.code).toBe(1);
    expect(t.stderr + t.stdout).toContain('not training');
  });
});

describe('examples/lecture.nn: the lecture’s order and notation', () => {
  const source = readFileSync(join(ROOT, 'examples/lecture.nn'), 'utf8');

  test('is written in the lecture’s notation', () => {
    expect(source).toMatch(/^const η = /m); // Greek names
    expect(source).toContain('ŷ  = softmax(z3)');
    expect(source).toContain('grad C = 1');
    expect(source).toContain('grad z1 = grad a1 * a1 * (1 - a1)'); // σ′ from the forward pass
    expect(source).toContain('grad z2 = grad a2 * (z2 > 0)'); // relu′ as a comparison
    expect(source).toContain('gradients: manual');
  });

  test('checks clean: exit 0 and no diagnostic at all, every param checked', () => {
    const r = nnlens('check', 'examples/lecture.nn', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { diagnostics: unknown[]; models: Record<string, { params: Record<string, { maxRelError: number }> }> };
    expect(out.diagnostics).toEqual([]);
    expect(Object.keys(out.models.Lecture.params)).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    for (const p of Object.values(out.models.Lecture.params)) expect(p.maxRelError).toBeLessThan(1e-6);
  });

  test('trains with its own backward block as the automatic gradients do, to a sensible accuracy', () => {
    // 3000 digits instead of 10000 keeps the test short; the rest as written
    const small = (s: string) => s.replace('digits16(limit: 10000, seed: 1)', 'digits16(limit: 3000, seed: 1)');
    const manualFile = join(dir, 'lecture.nn');
    writeFileSync(manualFile, small(source));
    const autoFile = join(dir, 'lecture-auto.nn');
    writeFileSync(autoFile, small(source).replace('gradients: manual', 'gradients: auto'));
    const m = nnlens('train', manualFile, '--json');
    expect(m.code, m.stderr).toBe(0);
    expect(m.stderr).toContain('manual gradients');
    const a = nnlens('train', autoFile, '--json');
    expect(a.code, a.stderr).toBe(0);
    const em = epochs(m.stdout);
    const ea = epochs(a.stdout);
    expect(em).toHaveLength(10);
    // the same trajectory: the hand-written gradients are the true ones (float32 rounding apart)
    em.forEach((e, i) => expect(Math.abs(e.loss - ea[i].loss)).toBeLessThan(1e-3 * ea[i].loss));
    expect(em[9].loss).toBeLessThan(0.5 * em[0].loss);
    // 10 classes: chance is 10%; the held-out 10% is classified far better than that
    expect(em[9].accuracy!).toBeGreaterThan(0.8);
  });
});

describe('students’ mistakes through nnlens check: exit codes and the summary', () => {
  test('columns that train nothing: a warning on the softmax naming the axis, exit 0', () => {
    const r = nnlens('check', 'test/fixtures/lecture/column.nn', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { diagnostics: { severity: string; line: number; code: string; message: string }[] };
    expect(out.diagnostics.map((d) => [d.severity, d.line, d.code])).toEqual([['warning', 7, 'column-vector']]);
    expect(out.diagnostics[0].message).toContain('softmax over the last axis of [3, 1], which has size 1');
    expect(out.diagnostics[0].message).toContain('declare x: [4] and b: [3]');
  });

  test('W1 * x and a [3, 1] bias: warnings on the operators, the rule’s error on cross_entropy, exit 1', () => {
    const r = nnlens('check', 'test/cases/shapes/columns.nn', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { diagnostics: { severity: string; line: number; column: number; code: string; message: string }[] };
    const star = out.diagnostics.find((d) => d.code === 'elementwise-matmul')!;
    const src = readFileSync(join(ROOT, 'test/cases/shapes/columns.nn'), 'utf8').split('\n');
    expect(src[star.line - 1].slice(star.column - 1, star.column)).toBe('*');
    expect(star.message).toContain('did you mean `W1 @ x`?');
    const plus = out.diagnostics.find((d) => d.code === 'broadcast-column')!;
    expect(src[plus.line - 1].slice(plus.column - 1, plus.column)).toBe('+');
    expect(out.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(['shape-mismatch', 'shape-mismatch', 'shape-mismatch']);
  });

  test('the summary lists the backward lines and their verdicts, with the pattern of the wrong one', () => {
    const r = nnlens('check', 'test/cases/blame/missing-sigma-prime.nn');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  backward block: 7 lines');
    expect(r.stdout).toMatch(/ {4}grad z2 {2}line 18 {3}ok \(relative error /);
    expect(r.stdout).toContain('    grad z1  line 22   wrong: missing σ′(z1) = a1 ⊙ (1 − a1)');
    expect(r.stdout).toContain('    grad W1  line 23   right on its own, wrong through grad z1 (line 22)');
  });

  test('the lecture’s notation parses; a chained comparison is a syntax error, exit 1', () => {
    const r = nnlens('check', 'test/cases/syntax/notation.nn', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { diagnostics: { severity: string; line: number; code: string }[] };
    expect(out.diagnostics.map((d) => [d.severity, d.line, d.code])).toEqual([['error', 28, 'syntax-error']]);
  });
});
