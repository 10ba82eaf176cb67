/**
 * Hovers in the lecture's terms (issue 9): a dense layer's δ is ∂C/∂z of that layer, and
 * examples are numbered from 1 by their rows of the data set, in the hover as in the checker's
 * messages. Numbers are checked against a hand calculation of the layer.
 */
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Hover, MarkupContent } from 'vscode-languageserver';
import { analyzeText } from '../../language';
import { initParams } from '../../engine';
import { checkBatchFor, checkProgramModel } from '../../engine/session/pipeline';
import { close4, createServices, offsetOf, parseNum, ROOT } from './helpers';

const { Nn, parse } = createServices();
afterAll(() => Nn.lens.Engine.dispose());

async function hoverAt(text: string, offset: number): Promise<string> {
  const doc = await parse(text);
  const h = (await Nn.lsp.HoverProvider!.getHoverContent(doc, {
    textDocument: { uri: doc.uri.toString() },
    position: doc.textDocument.positionAt(offset),
  })) as Hover | undefined;
  return (h?.contents as MarkupContent | undefined)?.value ?? '';
}

const DENSE = `data ring = circle(n: 40, noise: 0.1, seed: 3)

model Layer {
  input x: [2]
  target t: [1]
  param V: [1, 3] = normal(0, 1)
  h = dense(x, 3, sigmoid)
  y = V @ h
  loss C = mse(y, t)
}

train Layer on ring {
  seed: 5
}
`;

describe('a dense layer’s hover', () => {
  it('labels δ as ∂C/∂h.z, the layer’s z, with the numbers of a hand calculation', async () => {
    const md = await hoverAt(DENSE, offsetOf(DENSE, 'h = dense'));
    expect(md).not.toContain('∂C/∂(dense');
    // the dense call's hover names the params; the worked element is on h.W's hover: use the source
    const text = DENSE.replace('y = V @ h', 'y = V @ h + 0 * sum(h.W)');
    const w = await hoverAt(text, offsetOf(text, 'h.W)') + 2);
    expect(w).toContain('δ = ');
    expect(w).toContain('∂C/∂h.z');
    expect(w).toContain("h.z = h.W @ … + h.b is the layer's z, before its activation");
    expect(w).not.toContain('∂C/∂(dense');

    // by hand: z = W x + b, h = σ(z), y = V h, C = (y − t)², δⁿ = ∂Cⁿ/∂zⁿ = 2 (y − t) V σ′(z)
    const { program } = await analyzeText(text, { uri: resolve(ROOT, 'examples', 'layer.nn') });
    const model = program.models[0];
    const P = initParams(model, 5);
    const { batch } = checkBatchFor(program, model, { baseDir: resolve(ROOT, 'examples') }, 4);
    const W = P['h.W'];
    const b = P['h.b'];
    const V = P.V;
    const rows = [...w.matchAll(/example (\d+): x\[(\d)\] × δ\[(\d)\] = (\S+) × (\S+) = /g)];
    expect(rows.length).toBe(4);
    expect(rows.map((r) => Number(r[1]))).toEqual(batch.rows);
    for (const r of rows) {
      const n = batch.rows!.indexOf(Number(r[1]));
      const j = Number(r[2]);
      const i = Number(r[3]);
      const x = [batch.data.x[2 * n], batch.data.x[2 * n + 1]];
      const z = [0, 1, 2].map((k) => W[2 * k] * x[0] + W[2 * k + 1] * x[1] + b[k]);
      const hs = z.map((v) => 1 / (1 + Math.exp(-v)));
      const y = V[0] * hs[0] + V[1] * hs[1] + V[2] * hs[2];
      const delta = 2 * (y - batch.data.t[n]) * V[i] * hs[i] * (1 - hs[i]);
      expect(close4(parseNum(r[4]), x[j])).toBe(true);
      expect(close4(parseNum(r[5]), delta)).toBe(true);
    }
  });
});

describe('example numbers', () => {
  it('a wrong line names its example by its row of the data, 1-based, as the hover does', async () => {
    const text = DENSE.replace(
      '  loss C = mse(y, t)\n',
      '  loss C = mse(y, t)\n  backward {\n    grad y = 3 * (y - t)\n  }\n',
    );
    const { program } = await analyzeText(text, { uri: resolve(ROOT, 'examples', 'layer.nn') });
    const r = checkProgramModel({ program, model: 'Layer', ctx: { baseDir: resolve(ROOT, 'examples') } });
    const line = r.report.backwardLines[0];
    expect(line.status).toBe('wrong');
    expect(r.batch.rows).toHaveLength(4);
    expect(r.batch.rows).toContain(line.worst!.example);
    expect(line.message).toContain(`(example ${line.worst!.example})`);
    // every row is a row of the 40-point data set, counted from 1
    for (const row of r.batch.rows!) expect(row >= 1 && row <= 40).toBe(true);
  });
});
