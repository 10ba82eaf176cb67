/**
 * Weights trained elsewhere, in the editor (server/weights-file.ts), over stdio as an editor sees
 * it: the `nnlens.weightsFile` setting and the `nnlens/loadWeights` request (the command "NN Lens:
 * Load Weights…") make the ∂C/∂W1 hover show the loaded weights' gradient — checked against the
 * engine's float64 gradient at those weights on the same four examples (xor has four) — and the
 * Backprop view's trace use them; a file that changes is read again, and a file that does not fit
 * is refused with the param it gets wrong.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { initParams, loadData, lossAndGrads, Rng, type IRModel, type IRProgram } from '../../engine/index';
import { analyzeFile } from '../../language/index';
import { trainingSeeds } from '../../engine/train/index';
import { fitWeights, parseWeightsJson, resolveWeightsPath } from '../../server/weights-file';
import { DEFAULT_SETTINGS } from '../../server/settings';
import type { LoadWeightsResult, TraceResult } from '../../server/protocol';
import { fileUri, LspClient, ROOT } from './lsp-client';

let ws = '';
let program: IRProgram;
let model: IRModel;

/** Weights far from the initial ones (seeded), as nested lists in the P.json format. */
function weightsJson(seed: number): Record<string, unknown> {
  const rng = new Rng(seed);
  const out: Record<string, unknown> = {};
  for (const p of model.params) {
    const flat = Array.from({ length: p.size }, () => rng.normal(0, 1.5));
    out[p.name] = p.shape.length === 2 ? Array.from({ length: p.shape[0] }, (_, i) => flat.slice(i * p.shape[1], (i + 1) * p.shape[1])) : flat;
  }
  return out;
}

/** ‖∂C/∂W1‖ by the engine in float64 at the given weights, on the four xor examples the hover uses. */
function gradNorm(w: Record<string, unknown> | Record<string, Float64Array>): number {
  let weights: Record<string, ArrayLike<number>>;
  if (Object.values(w).every((v) => v instanceof Float64Array)) weights = w as Record<string, Float64Array>;
  else {
    const parsed = parseWeightsJson(JSON.stringify(w));
    if (!parsed.ok) throw new Error(parsed.error);
    const fitted = fitWeights(parsed.value, model);
    if (!fitted.ok) throw new Error(fitted.error);
    weights = fitted.value;
  }
  const xor = loadData({ kind: 'xor' }, { baseDir: ws });
  const { grads } = lossAndGrads(program, model, weights, { n: 4, data: { x: xor.x, t: xor.y } });
  return Math.hypot(...grads.W1);
}

/** Polls `check` (an async question to the server) until it holds. */
async function poll(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  ws = mkdtempSync(join(tmpdir(), 'nnlens-weights-'));
  cpSync(resolve(ROOT, 'examples', 'byhand.nn'), join(ws, 'byhand.nn'));
  const a = await analyzeFile(join(ws, 'byhand.nn'));
  program = a.program;
  model = program.models[0];
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

describe('weights files, parsed and fitted to a model', () => {
  it('fits a P.json file to the model whose params it holds, and says what is wrong otherwise', () => {
    const good = parseWeightsJson(JSON.stringify(weightsJson(1)));
    expect(good.ok).toBe(true);
    if (!good.ok) return;
    const fitted = fitWeights(good.value, model);
    expect(fitted.ok && Object.keys(fitted.value)).toEqual(['W1', 'b1', 'W2', 'b2']);
    const missing = { ...weightsJson(1) };
    delete missing.b2;
    const m = parseWeightsJson(JSON.stringify(missing));
    expect(m.ok && fitWeights(m.value, model)).toEqual({ ok: false, error: 'it has no "b2" (ByHand declares it [1])' });
    const shaped = parseWeightsJson(JSON.stringify({ ...weightsJson(1), W1: [[1, 2, 3]] }));
    expect(shaped.ok && fitWeights(shaped.value, model)).toEqual({ ok: false, error: '"W1" has shape [1, 3] but ByHand declares [4, 2]' });
    const extra = parseWeightsJson(JSON.stringify({ ...weightsJson(1), h: [1] }));
    expect(extra.ok && fitWeights(extra.value, model)).toMatchObject({ ok: false, error: expect.stringContaining('"h" is not a param of ByHand') });
    expect(parseWeightsJson('[1, 2]')).toMatchObject({ ok: false });
    expect(parseWeightsJson('{"W1": [[1, 2], [3]]}')).toEqual({ ok: false, error: '"W1" is not a rectangular array of finite numbers' });
    expect(parseWeightsJson('{')).toMatchObject({ ok: false, error: expect.stringMatching(/^not JSON/) });
  });

  it('resolves ${model} and relative paths against the .nn file', () => {
    expect(resolveWeightsPath('${model}.weights.json', '/a/b/m.nn', 'Digits')).toBe('/a/b/Digits.weights.json');
    expect(resolveWeightsPath('runs/${model}.json', '/a/b/m.nn', 'X')).toBe('/a/b/runs/X.json');
    expect(resolveWeightsPath('/w/p.json', '/a/b/m.nn', 'X')).toBe('/w/p.json');
  });
});

describe('the editor shows weights trained elsewhere (nnlens lsp --stdio)', () => {
  const client = new LspClient();
  afterAll(() => client.shutdown());
  const uri = () => fileUri(join(ws, 'byhand.nn'));
  const text = () => readFileSync(join(ws, 'byhand.nn'), 'utf8');

  async function hoverW1(): Promise<string> {
    const t = client.text(uri());
    const line = t.split('\n').findIndex((l) => l.includes('param W1'));
    const h = await client.request<Hover>('textDocument/hover', {
      textDocument: { uri: uri() },
      position: { line, character: t.split('\n')[line].indexOf('W1') + 1 },
    });
    return (h.contents as MarkupContent).value;
  }

  /** Hovers until the hover names `label`, and returns ‖∂C/∂W1‖ as it shows it. */
  async function hoverNorm(label: RegExp): Promise<{ md: string; norm: number }> {
    let md = '';
    await poll(async () => label.test((md = await hoverW1())), `a hover at ${label}`);
    const m = /‖∂C\/∂W1‖ = ([0-9.e+-]+)/.exec(md);
    if (!m) throw new Error(`no ‖∂C/∂W1‖ in the hover:\n${md}`);
    return { md, norm: Number(m[1]) };
  }

  it('nnlens.weightsFile: ${model}.trained.json next to the file is what the hover shows', async () => {
    const w = weightsJson(7);
    writeFileSync(join(ws, 'ByHand.trained.json'), JSON.stringify(w));
    await client.initialize({ workspaceTrusted: true, settings: { ...DEFAULT_SETTINGS, weightsFile: '${model}.trained.json' } }, ws);
    client.open(uri(), text());
    const { md, norm } = await hoverNorm(/at the weights of ByHand\.trained\.json \(nnlens\.weightsFile\)/);
    const want = gradNorm(w);
    const initial = gradNorm(initParams(model, trainingSeeds(1).init));
    console.info(`weights file: hover ‖∂C/∂W1‖ = ${norm}, engine ${want} (initial weights: ${initial})`);
    expect(md).toMatch(/on 4 examples of xor/);
    expect(Math.abs(norm - want) / want).toBeLessThan(5e-3); // the hover prints 3–4 significant digits
    expect(Math.abs(norm - initial) / initial).toBeGreaterThan(0.05); // and it is not the initial weights' number
  });

  it('reads the file again when it changes', async () => {
    const w = weightsJson(8);
    writeFileSync(join(ws, 'ByHand.trained.json'), JSON.stringify(w));
    client.change(uri(), client.text(uri()) + '\n');
    const want = gradNorm(w);
    let norm = NaN;
    await poll(async () => {
      norm = (await hoverNorm(/nnlens\.weightsFile/)).norm;
      return Math.abs(norm - want) / want < 5e-3;
    }, 'the new file’s gradient');
    expect(Math.abs(norm - want) / want).toBeLessThan(5e-3);
  });

  it('nnlens/loadWeights (NN Lens: Load Weights…): another file, for the model it fits', async () => {
    const w = weightsJson(9);
    writeFileSync(join(ws, 'elsewhere.json'), JSON.stringify(w));
    const r = await client.request<LoadWeightsResult>('nnlens/loadWeights', { uri: uri(), path: 'elsewhere.json' });
    expect(r).toMatchObject({ status: 'ok', model: 'ByHand', label: expect.stringMatching(/^the weights of elsewhere\.json \(loaded at \d\d:\d\d\)$/) });
    const { norm } = await hoverNorm(/at the weights of elsewhere\.json \(loaded at/);
    const want = gradNorm(w);
    console.info(`Load Weights: hover ‖∂C/∂W1‖ = ${norm}, engine ${want}`);
    expect(Math.abs(norm - want) / want).toBeLessThan(5e-3);
  });

  it('the Backprop view (nnlens/trace, trained weights) uses the loaded file', async () => {
    const r = await client.request<TraceResult>('nnlens/trace', { uri: uri(), model: 'ByHand', example: 2, weights: 'trained' });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.weights).toBe('trained');
    expect(r.trace.weights).toMatch(/^the weights of elsewhere\.json \(loaded at/);
    const W1 = r.trace.nodes.find((n) => n.name === 'W1')!;
    expect(W1.value).toEqual((weightsJson(9).W1 as number[][]).flat());
  });

  it('a file that fits no model is refused, naming the param, and changes nothing', async () => {
    writeFileSync(join(ws, 'wrong.json'), JSON.stringify({ ...weightsJson(1), W1: [[1, 2, 3]] }));
    const r = await client.request<LoadWeightsResult>('nnlens/loadWeights', { uri: uri(), path: fileUri(join(ws, 'wrong.json')) });
    expect(r).toEqual({ status: 'error', message: 'wrong.json fits no model of this file (ByHand: "W1" has shape [1, 3] but ByHand declares [4, 2])' });
    const missing = await client.request<LoadWeightsResult>('nnlens/loadWeights', { uri: uri(), path: 'nope.json' });
    expect(missing).toEqual({ status: 'error', message: `${join(ws, 'nope.json')} does not exist` });
    expect(await hoverW1()).toMatch(/elsewhere\.json/);
  });
});
