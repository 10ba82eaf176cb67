/**
 * The stops of a trace with a backward block that has a wrong line: the stop on that line says
 * why, and the Gradients scope holds the line as written beside the true gradient.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, test } from 'vitest';
import { analyzeText } from '../../language/index';
import { traceModel } from '../../engine/session/trace';
import { planStops, scopeAt } from '../../debug/stops';

test('a wrong backward line: its stop describes it, Gradients shows it and the true gradient', async () => {
  const file = join(__dirname, '../../examples/byhand.nn');
  const text = readFileSync(file, 'utf8').replace('grad b2 = grad z2', 'grad b2 = 2 * grad z2');
  expect(text).toContain('grad b2 = 2 * grad z2');
  const a = await analyzeText(text, { uri: file });
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const r = traceModel({ program: a.program, model: 'ByHand', example: 1, ctx: { baseDir: dirname(file) } });
  if (!r.ok) throw new Error(r.error.message);
  const t = r.value;
  const plan = planStops(t, { line: 7, endLine: 30, nameColumn: 7 });
  expect(plan.backward).toBe('block');
  const stop = plan.stops.find((s) => s.label === 'backward: grad b2')!;
  expect(stop.line).toBe(text.split('\n').findIndex((l) => l.includes('grad b2 = 2 * grad z2')) + 1);
  expect(stop.description).toMatch(/^grad b2: .*factor/);
  const grads = scopeAt(t, stop).grads;
  expect(grads.map((g) => g.name)).toEqual(['grad z2', 'grad W2', 'grad b2', 'true grad b2']);
  const user = grads.find((g) => g.name === 'grad b2')!;
  const truth = grads.find((g) => g.name === 'true grad b2')!;
  const z2 = grads.find((g) => g.name === 'grad z2')!;
  expect(user.note).toBe('wrong');
  // by the chain rule ∂C/∂b2 = ∂C/∂z2 (z2 = W2 @ a1 + b2); the line says twice that
  // (grad z2 is the user's formula 2 (y − t) y (1 − y): the same number up to rounding)
  truth.value.forEach((v, i) => expect(Math.abs(v - z2.value[i])).toBeLessThan(1e-12 * Math.abs(v)));
  expect(Array.from(user.value)).toEqual(Array.from(z2.value, (v) => 2 * v));
  // the forward stops come first, one per statement, and the entry knows only the example
  expect(plan.stops.slice(0, 6).map((s) => s.phase)).toEqual(['entry', 'forward', 'forward', 'forward', 'forward', 'forward']);
  expect([...plan.stops[0].values].sort()).toEqual(['W1', 'W2', 'b1', 'b2', 't', 'x']);
});
