/**
 * The lowered IR is what the engine expects: its own shape inference agrees with the language's
 * on every node, and the engine's gradient checker accepts the examples' hand-written
 * derivatives (the spec's §4 and §5 lines are correct) and blames a wrong one on its line.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkModel, initParams, inferShape, randomBatch } from '../../engine/index';
import { analyzeFile, analyzeText } from '../../language/index';

const EXAMPLES = resolve(__dirname, '../../examples');

describe('language → engine', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.nn'));

  test.each(files)('%s: the engine infers the same shape for every node', async (f) => {
    const { program } = await analyzeFile(join(EXAMPLES, f));
    expect(program.models.length).toBeGreaterThan(0);
    for (const m of program.models) {
      for (const n of m.nodes) {
        if (['input', 'target', 'param', 'const', 'gradRef'].includes(n.op)) continue;
        expect(inferShape(n, n.args.map((a) => m.nodes[a].shape)), `${m.name} node ${n.id} ${n.op}`).toEqual({ ok: true, value: n.shape });
      }
    }
  });

  test.each(['byhand.nn', 'functions.nn'])('%s: the checker finds no error in the user derivatives', async (f) => {
    const { program } = await analyzeFile(join(EXAMPLES, f));
    const m = program.models[0];
    const report = checkModel(program, m, initParams(m, 1), randomBatch(program, m, 4, 1), { mode: 'full' });
    expect(report.findings.filter((x) => x.severity === 'error')).toEqual([]);
    expect(Object.keys(report.params).sort()).toEqual(m.params.map((p) => p.name).sort());
  });

  test('a wrong backward line is blamed on its own line', async () => {
    const text = `
model M {
  input x: [3]
  target t: [2]
  param W: [2, 3]
  y = W @ x
  loss C = mse(y, t)
  backward {
    grad y = (y - t)
    grad W = outer(grad y, x)
  }
}`;
    const { program, diagnostics } = await analyzeText(text);
    expect(diagnostics).toEqual([]);
    const m = program.models[0];
    const report = checkModel(program, m, initParams(m, 3), randomBatch(program, m, 4, 3), { mode: 'full' });
    const errors = report.findings.filter((x) => x.severity === 'error');
    // mse is a mean over the 2 elements of y: d/dy mean((y - t)²) = 2(y - t)/2 = y - t, so
    // both lines are right; doubling the first makes it (and only it) wrong.
    expect(errors).toEqual([]);
    const wrong = text.replace('grad y = (y - t)', 'grad y = 2 * (y - t)');
    const bad = await analyzeText(wrong);
    const bm = bad.program.models[0];
    const r2 = checkModel(bad.program, bm, initParams(bm, 3), randomBatch(bad.program, bm, 4, 3), { mode: 'full' });
    const blamed = r2.findings.filter((x) => x.severity === 'error');
    expect(blamed.length).toBeGreaterThan(0);
    expect(blamed[0].range.start.line).toBe(8); // the `grad y = …` line (0-based)
  });
});
