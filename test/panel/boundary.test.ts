// The decision boundary in the loss panel (client/panel/boundary.ts, in out/panel.js as built) in
// a real Chromium: a boundary the training loop would send for xor.nn is drawn beside the curves,
// and the heatmap's pixel at each data point shows the model's output there — decoded from the
// pixel with the documented colour rule and compared with the network written out by hand.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoundaryGrid, initParams, loadData, Rng } from '../../engine/index';
import { analyzeFile } from '../../language/index';
import type { HostMessage, RunData } from '../../client/panel/messages';

const CHROMIUM = '/usr/bin/chromium';
const root = resolve(__dirname, '../..');
const results = join(root, 'test-results');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[boundary test] SKIPPED: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it).`);

const NONCE = 'dGVzdG5vbmNl';
const BG = [0x1f, 0x1f, 0x1f];
const ORANGE = [0xd1, 0x86, 0x16];
const BLUE = [0x37, 0x94, 0xff];
const THEME = `body {
  --vscode-foreground: #cccccc; --vscode-descriptionForeground: #9d9d9d; --vscode-editor-background: #1f1f1f;
  --vscode-editorWidget-border: #454545; --vscode-font-family: sans-serif; --vscode-font-size: 13px;
  --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616; --vscode-charts-green: #89d185;
  --vscode-charts-purple: #b180d7; --vscode-charts-red: #f14c4c; --vscode-charts-yellow: #cca700;
}`;

function pageHtml(): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src file: data: blob:; style-src file: 'nonce-${NONCE}'; script-src 'nonce-${NONCE}'; font-src file:;">
<link rel="stylesheet" href="panel.css" nonce="${NONCE}">
<style nonce="${NONCE}">${THEME}</style>
<script nonce="${NONCE}">
  window.acquireVsCodeApi = () => ({ postMessage: () => {}, getState: () => undefined, setState: () => {} });
</script></head>
<body class="vscode-dark"><script nonce="${NONCE}" src="panel.js"></script></body></html>`;
}

/** The panel's documented colour rule, inverted: the output v ∈ [0, 1] a pixel shows. */
function decodeBinary(px: number[]): number {
  // pixel = bg + (c − bg)·a with c blue above 0.5, orange below, a = |v − 0.5|·2·0.85
  const towards = (c: number[]) => (px[2] - BG[2]) / (c[2] - BG[2]);
  const blue = px[2] >= BG[2] ? towards(BLUE) : NaN;
  const orange = px[0] >= BG[0] && px[2] <= BG[2] + 1 ? (px[0] - BG[0]) / (ORANGE[0] - BG[0]) : NaN;
  if (!Number.isNaN(blue) && px[2] > BG[2]) return 0.5 + blue / 0.85 / 2;
  return 0.5 - (Number.isNaN(orange) ? 0 : orange) / 0.85 / 2;
}

describe.skipIf(!hasChromium)('the decision boundary in the loss panel', () => {
  let browser: Browser;
  let page: Page;
  let dir: string;

  beforeAll(async () => {
    for (const f of ['panel.js', 'panel.css']) if (!existsSync(join(root, 'out', f))) throw new Error(`out/${f} is missing: run npm run build`);
    mkdirSync(results, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'nnlens-boundary-'));
    copyFileSync(join(root, 'out/panel.js'), join(dir, 'panel.js'));
    copyFileSync(join(root, 'out/panel.css'), join(dir, 'panel.css'));
    writeFileSync(join(dir, 'index.html'), pageHtml());
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--allow-file-access-from-files'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 560 } });
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    await page.waitForFunction(() => window.__nnlensBoundary !== undefined);
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws xor’s output over the plane; the pixel at each data point is the output there', async () => {
    expect(await page.locator('.nn-boundary').isVisible()).toBe(false);
    const file = join(root, 'examples/xor.nn');
    const { program } = await analyzeFile(file);
    const model = program.models[0];
    // weights that make an interesting picture: the initial ones moved by a seeded step
    const rng = new Rng(7);
    const params = Object.fromEntries(Object.entries(initParams(model, 4)).map(([k, v]) => [k, v.map((x) => x + 0.8 * rng.normal())]));
    const grid = BoundaryGrid.for(program, model, loadData({ kind: 'xor' }, { baseDir: root }))!;
    const boundary = grid.compute(params, 120, 30);
    const run: RunData = {
      runId: 'r1', model: 'Xor', uri: 'file:///w/xor.nn', source: 'server', startedAt: Date.now(), epochs: 500, stepsPerEpoch: 1,
      hasValidation: false, hasAccuracy: true, status: 'running', message: null,
      points: { step: [], epoch: [], loss: [], valLoss: [], accuracy: [], elapsedMs: [] },
    };
    const send = (m: HostMessage) => page.evaluate((msg) => window.postMessage(msg, '*'), m);
    await send({ type: 'init', runs: [] });
    await send({ type: 'runStarted', run });
    await send({ type: 'points', runId: 'r1', points: Array.from({ length: 30 }, (_, i) => ({ step: 4 * i + 4, epoch: i + 1, loss: 0.7 - 0.01 * i, valLoss: null, accuracy: 0.5, elapsedMs: 10 * i })) });
    await send({ type: 'boundary', runId: 'r1', boundary });
    await page.waitForFunction(() => window.__nnlensBoundary!.draws > 0);
    expect(await page.locator('.nn-boundary').isVisible()).toBe(true);
    expect(await page.locator('.nn-boundary-title').innerText()).toBe('Decision boundary — epoch 30, step 120');
    // beside the curves: to the right of the chart, same row
    const chart = (await page.locator('.nn-chart').boundingBox())!;
    const box = (await page.locator('.nn-boundary').boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(chart.x + chart.width);
    expect(Math.abs(box.y - chart.y)).toBeLessThan(20);

    const { W1, b1, W2, b2 } = params;
    const net = (x0: number, x1: number) => {
      let z = b2[0];
      for (let h = 0; h < 4; h++) z += W2[h] * Math.tanh(W1[2 * h] * x0 + W1[2 * h + 1] * x1 + b1[h]);
      return 1 / (1 + Math.exp(-z));
    };
    const cellCentre = (v: number, lo: number, hi: number) => {
      const k = Math.min(grid.size - 1, Math.floor(((v - lo) / (hi - lo)) * grid.size));
      return lo + ((k + 0.5) / grid.size) * (hi - lo);
    };
    const outputs: number[] = [];
    for (const p of boundary.points) {
      const px = (await page.evaluate(([x, y]) => window.__nnlensBoundary!.pixelAt(x, y), [p.x, p.y]))!;
      const shown = decodeBinary(px);
      const truth = net(cellCentre(p.x, boundary.x[0], boundary.x[1]), cellCentre(p.y, boundary.y[0], boundary.y[1]));
      outputs.push(truth);
      // 8-bit colour: about 1/255 of the scale
      expect(Math.abs(shown - truth), `at (${p.x}, ${p.y}) pixel ${px.join(',')}`).toBeLessThan(0.012);
    }
    // the picture is not uniform: the four points show different outputs
    expect(Math.max(...outputs) - Math.min(...outputs)).toBeGreaterThan(0.1);
    await page.screenshot({ path: join(results, 'loss-panel-boundary.png') });
    // a later picture replaces it; big counts are written as the stop message writes them
    const drawn = await page.evaluate(() => window.__nnlensBoundary!.draws);
    await send({ type: 'boundary', runId: 'r1', boundary: { ...boundary, epoch: 2876, step: 115027 } });
    await page.waitForFunction((n) => window.__nnlensBoundary!.draws > n, drawn);
    expect(await page.locator('.nn-boundary-title').innerText()).toBe('Decision boundary — epoch 2,876, step 115,027');
  });
});
