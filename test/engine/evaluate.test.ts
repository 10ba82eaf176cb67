/** The evaluation snapshot for hovers and `nnlens grad`. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../language/index';
import { evaluateModel, lossAndGrads } from '../../engine/evaluate';
import { randomBatch } from '../../engine/check/batch';
import { initParams } from '../../engine/init';
import { findNonFiniteForward } from '../../engine/exec/nonfinite';
import { compileModel } from '../../engine/exec/program';
import { referenceBackend } from '../../engine/kernels/backend';

const EXAMPLES = join(__dirname, '../../examples');

async function example(file: string) {
  const a = await analyzeText(readFileSync(join(EXAMPLES, file), 'utf8'));
  const prog = a.program;
  const m = prog.models[0];
  return { prog, m, params: initParams(m, 3), batch: randomBatch(prog, m, 5, 3) };
}

describe('evaluateModel', () => {
  it('loss and param gradients agree with central differences and with lossAndGrads', async () => {
    const { prog, m, params, batch } = await example('digits.nn');
    const ev = evaluateModel(prog, m, params, batch);
    const lg = lossAndGrads(prog, m, params, batch);
    expect(ev.loss).toBeCloseTo(lg.loss, 14);
    expect(ev.losses.length).toBe(5);
    expect(ev.loss).toBeCloseTo(ev.losses.reduce((s, v) => s + v, 0) / 5, 14);
    for (const k of ['b2', 'W2']) {
      const num = ev.numericGrad(k);
      ev.grads[k].forEach((v, i) => {
        expect(v).toBeCloseTo(lg.grads[k][i], 14);
        expect(Math.abs(v - num[i])).toBeLessThan(1e-8);
      });
    }
    expect(Math.abs(ev.numericGrad('W1', 37) - ev.grads.W1[37])).toBeLessThan(1e-8);
    expect(ev.nonFinite).toBeNull();
  });

  it('exposes every named value with its values, ∂C/∂value and per-example gradients', async () => {
    const { prog, m, params, batch } = await example('digits.nn');
    const ev = evaluateModel(prog, m, params, batch);
    expect([...ev.values.keys()].sort()).toEqual(['C', 'W1', 'W2', 'a1', 'b1', 'b2', 't', 'x', 'y', 'z1', 'z2'].sort());
    const z1 = ev.values.get('z1')!;
    expect(z1.kind).toBe('value');
    expect(z1.batched).toBe(true);
    expect(z1.shape).toEqual([30]);
    expect(z1.value.length).toBe(5 * 30);
    z1.perExampleGrad!.forEach((v, i) => expect(v).toBeCloseTo(5 * z1.grad![i], 14));
    // the hover's formula: ∂C/∂W1[i,j] = mean over n of δⁿ[i] · xⁿ[j], δ = ∂Cⁿ/∂z1ⁿ
    const x = ev.values.get('x')!.value;
    for (const [i, j] of [
      [0, 0],
      [7, 100],
      [29, 255],
    ]) {
      let s = 0;
      for (let n = 0; n < 5; n++) s += z1.perExampleGrad![n * 30 + i] * x[n * 256 + j];
      expect(ev.grads.W1[i * 256 + j]).toBeCloseTo(s / 5, 14);
    }
    // y's exact gradient although the loss is fused: −t/y / B
    const y = ev.values.get('y')!;
    const t = ev.values.get('t')!.value;
    y.grad!.forEach((g, k) => expect(g).toBeCloseTo(t[k] === 0 ? 0 : -t[k] / y.value[k] / 5, 12));
    expect(Array.from(ev.perExampleGrad('z1'))).toEqual(Array.from(z1.perExampleGrad!));
    // per-example param gradients average to the batch gradient
    const per = ev.perExampleGrad('b1');
    expect(per).toBe(ev.perExampleParamGrad('b1'));
    for (let i = 0; i < 30; i++) {
      let s = 0;
      for (let n = 0; n < 5; n++) s += per[n * 30 + i];
      expect(s / 5).toBeCloseTo(ev.grads.b1[i], 14);
    }
  });

  it('evaluates the backward block as written and given the truth', async () => {
    const { prog, m, params, batch } = await example('byhand.nn');
    const ev = evaluateModel(prog, m, params, batch);
    const lines = ev.backwardLines();
    expect(lines.map((l) => l.line.target)).toEqual(['z2', 'W2', 'b2', 'a1', 'z1', 'W1', 'b1']);
    for (const l of lines) {
      l.truth.forEach((v, i) => {
        expect(l.givenTrue[i]).toBeCloseTo(v, 13);
        expect(l.written![i]).toBeCloseTo(v, 13);
      });
    }
  });

  it('reports where NaN first appears', async () => {
    const a = await analyzeText(`
model N {
  input x: [2]
  target t: [2]
  param W: [2, 2] = normal(0, 1)
  h = sqrt(W @ x)
  loss C = mse(h, t)
}`);
    const m = a.program.models[0];
    const batch = { n: 1, data: { x: [1, 1], t: [0, 0] } };
    const ev = evaluateModel(a.program, m, { W: [1, 1, -1, -1] }, batch);
    expect(Number.isNaN(ev.loss)).toBe(true);
    expect(ev.nonFinite!.opName).toBe('sqrt');
    expect(ev.nonFinite!.cause).toBe('sqrt of a negative number: sqrt(-2) = NaN');
    expect(ev.nonFinite!.where).toBe('h[1]');
  });
});

describe('findNonFiniteForward', () => {
  it('names a division by zero and the example', async () => {
    const a = await analyzeText(`
model D {
  input x: [2]
  target t: [2]
  param w: [2] = ones
  q = w / x
  loss C = mse(q, t)
}`);
    const m = a.program.models[0];
    const p = compileModel(a.program, m, referenceBackend('f64'));
    p.setBatchSize(3);
    p.params.w.set([1, 1]);
    p.data.x.set([1, 2, 3, 4, 5, 0]);
    p.forward();
    const nf = findNonFiniteForward(p)!;
    expect(nf.opName).toBe('/');
    expect(nf.example).toBe(2);
    // the third example: numbered from 1 in the message, or by its data row when the batch says
    expect(nf.exampleNumber).toBe(3);
    expect(nf.message).toContain('at q[1] (example 3)');
    expect(findNonFiniteForward(p, [7, 12, 40])!.message).toContain('at q[1] (example 40)');
    expect(nf.where).toBe('q[1]');
    expect(nf.cause).toBe('division by zero: 1 / 0 = Infinity');
    expect(nf.range.start.line).toBe(5);
  });

  it('names cross_entropy of a zero probability (unfused)', async () => {
    const a = await analyzeText(`
model E {
  input x: [3]
  target t: [3]
  y = x / sum(x)
  loss C = cross_entropy(y, t)
}`);
    const m = a.program.models[0];
    const p = compileModel(a.program, m, referenceBackend('f64'));
    p.setBatchSize(1);
    p.data.x.set([1, 0, 1]);
    p.data.t.set([0, 1, 0]);
    p.forward();
    const nf = findNonFiniteForward(p)!;
    expect(nf.opName).toBe('cross_entropy');
    expect(nf.cause).toContain('y[1] = 0 where t[1] = 1');
  });

  it('reports data that is already NaN on the input', async () => {
    const a = await analyzeText(`
model F {
  input x: [2]
  target t: [2]
  loss C = mse(tanh(x), t)
}`);
    const m = a.program.models[0];
    const p = compileModel(a.program, m, referenceBackend('f64'));
    p.setBatchSize(2);
    p.data.x.set([0, 1, NaN, 2]);
    p.forward();
    const nf = findNonFiniteForward(p)!;
    expect(nf.opName).toBe('input x');
    expect(nf.example).toBe(1);
    expect(nf.where).toBe('x[0]');
  });
});
