// The Backprop view's script (out/backprop.js, as built) in a real Chromium, as the loss panel
// is tested: a page with the webview's strict CSP, a stand-in for `acquireVsCodeApi` that records
// what the view posts, VS Code-like theme variables. We send it real traces (engine/session/
// trace.ts on the example models) and check what it draws and does: the number of nodes and
// edges, displayed δ against the engine's, stepping, reveal on click, neuron level for xor and
// tensor level for digits, a wrong backward line outlined, the model's errors. Screenshots go to
// test-results/.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceData, traceModel, type TraceData } from '../../engine/session/trace';
import { analyzeFile, analyzeText } from '../../language/index';
import type { HostMessage, ViewMessage } from '../../client/backprop/messages';
import type { TraceResult } from '../../server/protocol';

const CHROMIUM = '/usr/bin/chromium';

/** A computed CSS colour as 0–255 RGB: 'rgb(r, g, b)' or, from color-mix, 'color(srgb r g b)'. */
function rgb(css: string): number[] {
  const m = css.match(/^rgb\((\d+), (\d+), (\d+)\)$/);
  if (m) return m.slice(1, 4).map(Number);
  const c = css.match(/^color\(srgb ([\d.]+) ([\d.]+) ([\d.]+)\)$/);
  if (c) return c.slice(1, 4).map((v) => Math.round(Number(v) * 255));
  throw new Error(`not a colour: ${css}`);
}
/** The numbers of a text like 'yours [8.64e-4, -0.0139, 0.112]'. */
function numbers(s: string): number[] {
  return (s.match(/-?\d+(\.\d+)?(e-?\d+)?/g) ?? []).map(Number);
}
/** Shown numbers (3 significant digits) against the engine's. */
function expectNumbers(shown: number[], engine: number[]): void {
  expect(shown.length).toBe(engine.length);
  shown.forEach((v, i) => expect(Math.abs(v - engine[i])).toBeLessThanOrEqual(Math.abs(engine[i]) * 5e-3 + 1e-15));
}
const root = resolve(__dirname, '../..');
const results = join(root, 'test-results');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[backprop view test] SKIPPED: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it).`);

const NONCE = 'dGVzdG5vbmNl';
const THEME = `
  body {
    --vscode-foreground: #cccccc; --vscode-descriptionForeground: #9d9d9d;
    --vscode-editor-background: #1f1f1f; --vscode-editorWidget-background: #2a2a2a; --vscode-editorWidget-border: #454545;
    --vscode-font-family: sans-serif; --vscode-font-size: 13px; --vscode-focusBorder: #0078d4;
    --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616; --vscode-charts-purple: #b180d7;
    --vscode-errorForeground: #f85149; --vscode-editorWarning-foreground: #cca700;
    --vscode-button-background: #0078d4; --vscode-button-foreground: #ffffff;
  }`;

function pageHtml(): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src file: data:; style-src file: 'nonce-${NONCE}'; script-src 'nonce-${NONCE}'; font-src file:;">
<link rel="stylesheet" href="backprop.css" nonce="${NONCE}">
<style nonce="${NONCE}">${THEME}</style>
<script nonce="${NONCE}">
  window.__posted = []; window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => undefined, setState: () => {} });
</script></head>
<body class="vscode-dark"><script nonce="${NONCE}" src="backprop.js"></script></body></html>`;
}

async function traceOf(file: string, model: string, example = 1): Promise<TraceData> {
  const { program } = await analyzeFile(file);
  const r = traceModel({ program, model, example, ctx: { baseDir: dirname(file) } });
  if (!r.ok) throw new Error(r.error.message);
  return traceData(r.value);
}

const okResult = (trace: TraceData): TraceResult => ({ status: 'ok', trace, weights: 'initial', trainedAvailable: false, models: [trace.model], version: 1 });

async function send(page: Page, m: HostMessage): Promise<void> {
  await page.evaluate((msg) => window.postMessage(msg, '*'), m);
}
async function showTrace(page: Page, result: TraceResult, example = 1, cursor: number | null = null): Promise<void> {
  const before = await page.evaluate(() => window.__nnlensBackprop!.renders);
  await send(page, { type: 'trace', result, uri: 'file:///w/m.nn', example, weights: 'initial', cursor });
  if (result.status === 'ok') await page.waitForFunction((n) => window.__nnlensBackprop!.renders > n, before);
  else await page.waitForFunction(() => window.__nnlensBackprop!.status() !== 'ok');
}
const posted = (page: Page) => page.evaluate(() => (window as unknown as { __posted: ViewMessage[] }).__posted);
const clearPosted = (page: Page) => page.evaluate(() => ((window as unknown as { __posted: ViewMessage[] }).__posted = []));
/** Classes of the elements matching a selector, in document order. */
const classes = (page: Page, sel: string) => page.$$eval(sel, (es) => es.map((e) => e.getAttribute('class') ?? ''));

describe.skipIf(!hasChromium)('the Backprop view in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let dir: string;
  const errors: string[] = [];
  let xor: TraceData;
  let digits: TraceData;

  beforeAll(async () => {
    for (const f of ['backprop.js', 'backprop.css']) {
      if (!existsSync(join(root, 'out', f))) throw new Error(`out/${f} is missing: run \`npm run build\` first (npm test does).`);
    }
    xor = await traceOf(join(root, 'examples/xor.nn'), 'Xor', 3);
    digits = await traceOf(join(root, 'examples/digits.nn'), 'Digits', 1);
    mkdirSync(results, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'nnlens-backprop-'));
    copyFileSync(join(root, 'out/backprop.js'), join(dir, 'backprop.js'));
    copyFileSync(join(root, 'out/backprop.css'), join(dir, 'backprop.css'));
    writeFileSync(join(dir, 'index.html'), pageHtml());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-file-access-from-files'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    await page.waitForFunction(() => window.__nnlensBackprop !== undefined);
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says it is ready, then draws xor at neuron level: one layer per tensor, every edge of the trace', async () => {
    expect(await posted(page)).toEqual([{ type: 'ready', state: null }]);
    await showTrace(page, okResult(xor), 3);
    expect(await page.evaluate(() => window.__nnlensBackprop!.level())).toBe('neuron');
    expect(await page.locator('h1').innerText()).toBe('Backprop — Xor');
    // forward: a layer per input, target, value and the loss (params are the connections)
    const layers = xor.nodes.filter((n) => n.kind !== 'param').map((n) => n.name);
    expect(await page.$$eval('#picture .nn-forward .nn-node', (es) => es.map((e) => (e as SVGElement).dataset.name))).toEqual(layers);
    // backward: the same but the target (no gradient)
    expect(await page.$$eval('#picture .nn-backward .nn-node', (es) => es.map((e) => (e as SVGElement).dataset.name))).toEqual(layers.filter((n) => n !== 't'));
    // units: one circle per element of each layer
    expect(await page.locator('#picture .nn-forward circle.nn-unit').count()).toBe(2 + 1 + 4 + 1 + 1);
    // every edge of the trace is drawn in the forward part, exactly once
    const drawn = await page.$$eval('#picture .nn-forward .nn-edge', (es) => es.flatMap((e) => ((e as SVGElement).dataset.edge ?? '').split(' ').map(Number)));
    expect(drawn.sort((a, b) => a - b)).toEqual(xor.edges.map((_, i) => i));
    // weights as connections: 4×2 of W1 and 1×4 of W2, coloured from the theme's variables
    expect(await page.locator('#picture .nn-forward line.nn-w[data-param="W1"]').count()).toBe(8);
    expect(await page.locator('#picture .nn-forward line.nn-w[data-param="W2"]').count()).toBe(4);
    const w = xor.nodes.find((n) => n.name === 'W1')!.value;
    const strongest = w.reduce<number>((b, v, i) => (Math.abs(v ?? 0) > Math.abs(w[b] ?? 0) ? i : b), 0);
    const stroke = await page.$eval(`#picture .nn-forward line.nn-w[data-param="W1"][data-index="${strongest}"]`, (e) => getComputedStyle(e).stroke);
    expect(rgb(stroke)).toEqual((w[strongest] ?? 0) > 0 ? [55, 148, 255] : [209, 134, 22]); // --vscode-charts-blue / -orange
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
    await page.screenshot({ path: join(results, 'backprop-xor-neuron.png'), fullPage: true });
  });

  it('shows each δ as the engine computed it, and σ′(z) on the amplifiers', async () => {
    const a1 = xor.nodes.find((n) => n.name === 'a1')!;
    for (let i = 0; i < 4; i++) {
      const shown = await page.$eval(`#picture .nn-backward text.nn-num[data-name="a1"][data-index="${i}"]`, (e) => e.textContent ?? '');
      const engine = a1.grad![i]!;
      expect(Number(shown)).toBeCloseTo(engine, 2);
      expect(Math.abs(Number(shown) - engine)).toBeLessThanOrEqual(Math.abs(engine) * 5e-3 + 1e-12);
      // the amplifier of a1 = tanh(z): σ′ = 1 − a1², computed here by hand from the forward value
      const tip = await page.$eval(`#picture .nn-backward .nn-amp[data-name="a1"][data-index="${i}"] title`, (e) => e.textContent ?? '');
      const slope = 1 - a1.value[i]! ** 2;
      expect(tip).toContain(`tanh′(z[${i}]) = ${Number(slope.toPrecision(3))}`);
    }
  });

  it('steps: ▶ lights up each forward op in turn, then ◀ each backward op from C back; the editor line follows', async () => {
    const F = xor.steps.filter((s) => s.phase === 'forward').length;
    await clearPosted(page);
    for (let k = 0; k < F; k++) {
      await page.click('#step-forward');
      const step = xor.steps[k];
      const active = await page.$$eval('#picture .nn-forward .nn-node.nn-active', (es) => es.map((e) => (e as SVGElement).dataset.name));
      expect(active).toEqual([step.statement]);
      // what is not computed yet is dimmed
      const later = xor.steps.slice(k + 1, F).map((s) => s.statement);
      for (const name of later) expect(await classes(page, `#picture .nn-forward .nn-node[data-name="${name}"]`)).toEqual([expect.stringContaining('nn-pending')]);
      expect(await page.locator('#step-label').innerText()).toContain(step.label);
      const last = (await posted(page)).at(-1);
      expect(last).toEqual({ type: 'step', range: step.range });
    }
    expect(await page.locator('#step-forward').isDisabled()).toBe(true);
    // the whole backward part waits
    expect((await classes(page, '#picture .nn-backward .nn-node')).every((c) => c.includes('nn-pending'))).toBe(true);
    await page.click('#step-backward');
    const first = xor.steps[F];
    expect(first.statement).toBe('C');
    expect(await page.$$eval('#picture .nn-backward .nn-node.nn-active', (es) => es.map((e) => (e as SVGElement).dataset.name))).toEqual(first.reveals);
    await page.click('#step-backward');
    const second = xor.steps[F + 1];
    expect(second.statement).toBe('y');
    // at neuron level the params are connections: the layers it reveals light up, and the weights' edges
    const layers = second.reveals.filter((n) => xor.nodes.find((x) => x.name === n)!.kind !== 'param');
    expect(layers).toEqual(['a1']);
    expect(await page.$$eval('#picture .nn-backward .nn-node.nn-active', (es) => es.map((e) => (e as SVGElement).dataset.name))).toEqual(layers);
    const lit = await page.$$eval('#picture .nn-backward .nn-edge.nn-active', (es) => es.flatMap((e) => ((e as SVGElement).dataset.edge ?? '').split(' ').map(Number)));
    expect(lit.some((i) => second.edges.includes(i))).toBe(true);
    await page.screenshot({ path: join(results, 'backprop-xor-stepping.png'), fullPage: true });
    await page.click('#show-all');
    expect(await page.locator('#picture .nn-pending').count()).toBe(0);
  });

  it('clicking a node posts a reveal of its line; the cursor on a line selects its node', async () => {
    await clearPosted(page);
    await page.click('#picture .nn-forward .nn-node[data-name="a1"] circle.nn-unit >> nth=0');
    const a1 = xor.nodes.find((n) => n.name === 'a1')!;
    expect((await posted(page)).filter((m) => m.type === 'reveal')).toEqual([{ type: 'reveal', range: a1.stmtRange }]);
    expect(await page.locator('#details h2').innerText()).toBe('a1 [4]');
    // the detail heatmap has a tooltip per element
    const tips = await page.$$eval('#details .nn-heatmap rect title', (es) => es.map((e) => e.textContent));
    expect(tips).toContain(`value a1[2] = ${Number(a1.value[2]!.toPrecision(3))}`);
    const y = xor.nodes.find((n) => n.name === 'y')!;
    await send(page, { type: 'cursor', line: y.stmtRange!.start.line });
    await expect.poll(() => page.evaluate(() => window.__nnlensBackprop!.selection())).toEqual({ kind: 'tensor', name: 'y', phase: 'forward' });
    expect(await classes(page, '#picture .nn-node[data-name="y"]')).toEqual([expect.stringContaining('nn-selected'), expect.stringContaining('nn-selected')]);
  });

  it('selecting a weight shows ∂C/∂w[i,j] = a[j] × δ[i] with the numbers', async () => {
    await page.$eval('#picture .nn-backward line.nn-w[data-param="W1"][data-index="5"]', (e) => e.dispatchEvent(new MouseEvent('click', { bubbles: true })));
    const text = await page.locator('#formula').innerText();
    // W1 [4, 2]: element 5 is [2, 1]; a = x, δ = ∂C/∂(W1 @ x + b1) = σ′ × ∂C/∂a1
    const x = xor.nodes.find((n) => n.name === 'x')!.value[1]!;
    const a1 = xor.nodes.find((n) => n.name === 'a1')!;
    const delta = (1 - a1.value[2]! ** 2) * a1.grad![2]!;
    const f = (v: number) => String(Number(v.toPrecision(3)));
    expect(text).toContain('∂C/∂W1[2, 1] = a[1] × δ[2]');
    expect(text).toContain(`= x[1] × ∂C/∂(W1 @ x + b1)[2]`);
    expect(text).toContain(`= ${f(x)} × ${f(delta)} = ${f(x * delta)}`);
    const g = xor.nodes.find((n) => n.name === 'W1')!.grad![5]!;
    expect(x * delta).toBeCloseTo(g, 12);
  });

  it('draws digits at tensor level: one block per tensor, every edge, the input as a 16×16 image', async () => {
    // another model: the selection goes, and the node of the editor's cursor line is selected
    const z2 = digits.nodes.find((n) => n.name === 'z2')!;
    await showTrace(page, okResult(digits), 1, z2.stmtRange!.start.line);
    expect(await page.evaluate(() => window.__nnlensBackprop!.selection())).toEqual({ kind: 'tensor', name: 'z2', phase: 'forward' });
    expect(await page.evaluate(() => window.__nnlensBackprop!.stepping())).toBeNull();
    expect(await page.evaluate(() => window.__nnlensBackprop!.level())).toBe('tensor');
    expect(await page.$$eval('#picture .nn-forward .nn-node', (es) => es.map((e) => (e as SVGElement).dataset.name))).toEqual(digits.nodes.map((n) => n.name));
    expect(await page.locator('#picture .nn-forward .nn-edge').count()).toBe(digits.edges.length);
    expect(await page.locator('#picture .nn-backward .nn-edge').count()).toBe(digits.edges.filter((e) => e.from !== 't').length);
    expect(await page.locator('#picture .nn-forward .nn-node[data-name="x"] .nn-heat rect').count()).toBe(256);
    // the sigmoid's amplifier on the edge z1 → a1 of the backward part
    expect(await page.locator('#picture .nn-backward .nn-amp[data-name="a1"]').count()).toBe(1);
    // a scalar δ shown as the engine's: ∂C/∂C = 1
    expect(await page.$eval('#picture .nn-backward .nn-node[data-name="C"] text.nn-num', (e) => e.textContent)).toBe('1');
    await page.screenshot({ path: join(results, 'backprop-digits-tensor.png'), fullPage: true });
  });

  it('outlines a wrong backward line as an error with yours and the true values, and marks the lines that depend on it', async () => {
    const text = `model Wrong {
  input x: [2]
  target t: [1]
  param W1: [3, 2] = normal(0, 1)
  param b1: [3] = zeros
  param W2: [1, 3] = normal(0, 1)
  z1 = W1 @ x + b1
  a1 = sigmoid(z1)
  y = W2 @ a1
  loss C = mse(y, t)
  backward {
    grad y = 2 * (y - t)
    grad a1 = transpose(W2) @ grad y
    grad z1 = grad a1 * a1
    grad W1 = outer(grad z1, x)
    grad W2 = outer(grad y, a1)
  }
}`;
    const { program } = await analyzeText(text);
    const r = traceModel({ program, model: 'Wrong', ctx: { baseDir: root } });
    if (!r.ok) throw new Error(r.error.message);
    const t = traceData(r.value);
    await showTrace(page, okResult(t));
    expect(await classes(page, '#picture .nn-backward .nn-node[data-name="z1"]')).toEqual([expect.stringContaining('nn-wrong')]);
    const note = await page.$eval('#picture .nn-backward .nn-line-note[data-name="z1"]', (e) => Array.from(e.querySelectorAll('text')).map((x) => x.textContent).join('\n'));
    const z1 = t.backward.find((l) => l.name === 'z1')!;
    expect(note).toContain('line 14: grad z1 wrong');
    const shown = (label: string) => numbers(note.split('\n').find((l) => l.startsWith(label))!);
    expectNumbers(shown('yours'), z1.user!.map(Number));
    expectNumbers(shown('true'), z1.truth.map(Number));
    expect(shown('yours')[2]).not.toBeCloseTo(shown('true')[2], 2);
    // the list of lines: z1 wrong, W1 dependent on it, the others right
    expect(await page.$$eval('#lines li', (es) => es.map((e) => e.className))).toEqual([
      'nn-line nn-ok', 'nn-line nn-ok', 'nn-line nn-wrong', 'nn-line nn-dependent', 'nn-line nn-ok',
    ]);
    await page.screenshot({ path: join(results, 'backprop-wrong-line.png'), fullPage: true });
  });

  it('shows the model’s errors instead of a stale picture, and says when an example is out of range', async () => {
    await showTrace(page, {
      status: 'errors', model: 'Xor', message: 'Xor has an error: fix it to see its backprop',
      diagnostics: [{ line: 12, character: 6, endLine: 12, endCharacter: 8, code: 'unknown-name', message: "unknown name 'W9'" }],
      models: ['Xor'], version: 2,
    });
    expect(await page.locator('#picture').isVisible()).toBe(false);
    expect(await page.locator('#message').innerText()).toContain("line 13: unknown name 'W9' (unknown-name)");
    await clearPosted(page);
    await page.click('#message a');
    expect(await posted(page)).toEqual([{ type: 'reveal', range: { start: { line: 12, character: 6 }, end: { line: 12, character: 8 } } }]);
    await showTrace(page, { status: 'unavailable', model: 'Xor', message: 'example 9 is out of range: data xor has 4 examples (1–4)', models: ['Xor'], version: 3 });
    expect(await page.locator('#message').innerText()).toContain('example 9 is out of range');
    expect(await page.locator('#picture').isVisible()).toBe(false);
    // and back to a picture, with the earlier selection gone or kept as it exists
    await showTrace(page, okResult(xor), 3);
    expect(await page.locator('#picture').isVisible()).toBe(true);
    expect(await page.locator('#message').isVisible()).toBe(false);
    expect(errors).toEqual([]);
  });
});
