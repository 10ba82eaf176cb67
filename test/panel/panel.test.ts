// The loss panel's script (out/panel.js, as built) in a real Chromium: a page with the same
// strict CSP as the webview, a stand-in for VS Code's `acquireVsCodeApi` that records what the
// panel posts, and theme variables like VS Code's. We send it 1,000 progress messages and
// check what it drew through the chart's own data (window.__nnlensChart), and screenshot it.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostMessage, PanelMessage, PanelState, RunData } from '../../client/panel/messages';
import { progressPoints } from '../../client/runStore';
import { runTraining } from '../../engine/index';
import { analyzeFile } from '../../language/index';
import { ProgressThrottle, progressParams } from '../../server/training';
import type { TrainProgressParams } from '../../server/protocol';

const CHROMIUM = '/usr/bin/chromium';
const root = resolve(__dirname, '../..');
const results = join(root, 'test-results');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`[panel test] SKIPPED: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it).`);
}

const NONCE = 'dGVzdG5vbmNl';
const THEME = `
  body {
    --vscode-foreground: #cccccc; --vscode-descriptionForeground: #9d9d9d;
    --vscode-editor-background: #1f1f1f; --vscode-editorWidget-border: #454545;
    --vscode-font-family: sans-serif; --vscode-font-size: 13px;
    --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616; --vscode-charts-green: #89d185;
    --vscode-charts-purple: #b180d7; --vscode-charts-red: #f14c4c; --vscode-charts-yellow: #cca700;
    --vscode-button-background: #0078d4; --vscode-button-foreground: #ffffff;
  }`;

function page_html(): string {
  // The CSP is the one the extension's webview uses (client/lossPanel.ts), with file: for the
  // local bundle instead of the webview's resource origin.
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src file: data: blob:; style-src file: 'nonce-${NONCE}'; script-src 'nonce-${NONCE}'; font-src file:;">
<link rel="stylesheet" href="panel.css" nonce="${NONCE}">
<style nonce="${NONCE}">${THEME}</style>
<script nonce="${NONCE}">
  window.__posted = []; window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  const saved = sessionStorage.getItem('state');
  window.__state = saved ? JSON.parse(saved) : undefined;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => window.__state,
    setState: (s) => { window.__state = s; sessionStorage.setItem('state', JSON.stringify(s)); },
  });
</script></head>
<body class="vscode-dark"><script nonce="${NONCE}" src="panel.js"></script></body></html>`;
}

/** The training curve we feed: a decaying loss with deterministic wiggles. */
const lossAt = (s: number) => 0.05 + 2.2 * Math.exp(-s / 250) + 0.08 * Math.sin(s * 1.7);
const STEPS_PER_EPOCH = 50;

/** An independent debiased EMA (TensorBoard's formula), to check the panel's smoothing. */
function ema(values: number[], w: number): number[] {
  let acc = 0;
  return values.map((v, i) => {
    acc = acc * w + (1 - w) * v;
    return acc / (1 - w ** (i + 1));
  });
}

function runData(runId: string, model: string, hasValidation: boolean, hasAccuracy: boolean): RunData {
  return {
    runId, model, uri: `file:///work/${model.toLowerCase()}.nn`, source: 'server', startedAt: Date.now(),
    epochs: 20, stepsPerEpoch: STEPS_PER_EPOCH, hasValidation, hasAccuracy, status: 'running', message: null,
    points: { step: [], epoch: [], loss: [], valLoss: [], accuracy: [], elapsedMs: [] },
  };
}

async function send(page: Page, messages: HostMessage[]): Promise<void> {
  await page.evaluate((ms) => { for (const m of ms) window.postMessage(m, '*'); }, messages);
}

interface Probe {
  runs: { runId: string; model: string; label: string; status: string; points: number }[];
  series: { label: string; runId: string; metric: string; raw: boolean; scale: string; length: number; last: number | null; values: (number | null)[] }[];
  x: number[];
  smoothing: number;
  logScale: boolean;
  yDistr: number | null;
  yLabel: string | null;
  messages: number;
  renders: number;
  draws: number;
}

async function probe(page: Page): Promise<Probe> {
  return page.evaluate(() => {
    const c = window.__nnlensChart!;
    return {
      runs: c.runs(), series: c.series(), x: c.x(), smoothing: c.smoothing, logScale: c.logScale,
      yDistr: c.yDistr, yLabel: c.yLabel, messages: c.messages, renders: c.renders, draws: c.draws,
    };
  });
}

const posted = (page: Page) => page.evaluate(() => (window as unknown as { __posted: PanelMessage[] }).__posted);

describe.skipIf(!hasChromium)('loss panel in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let dir: string;
  const errors: string[] = [];

  beforeAll(async () => {
    for (const f of ['panel.js', 'panel.css']) {
      if (!existsSync(join(root, 'out', f))) throw new Error(`out/${f} is missing: run \`npm run build\` first (npm test does).`);
    }
    mkdirSync(results, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'nnlens-panel-'));
    copyFileSync(join(root, 'out/panel.js'), join(dir, 'panel.js'));
    copyFileSync(join(root, 'out/panel.css'), join(dir, 'panel.css'));
    writeFileSync(join(dir, 'index.html'), page_html());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--allow-file-access-from-files'],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    await page.waitForFunction(() => window.__nnlensChart !== undefined);
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says it is ready and shows an empty state until a run starts', async () => {
    expect(await posted(page)).toEqual([{ type: 'ready', restored: null }]);
    await send(page, [{ type: 'init', runs: [] }]);
    await expect.poll(() => page.locator('.nn-empty').isVisible()).toBe(true);
    expect(await page.locator('.nn-empty').innerText()).toContain('No training runs yet');
    expect(await page.locator('h1').innerText()).toBe('Loss');
    expect(await page.locator('#stop').isDisabled()).toBe(true);
  });

  it('draws all of 1,000 progress messages, batching redraws per animation frame', async () => {
    await send(page, [{ type: 'runStarted', run: runData('run-1', 'Digits', true, true) }]);
    // 1,000 messages, 10 per task (as fast as a chatty server), 5 ms apart.
    await page.evaluate(({ steps, perEpoch, lossSrc }) => new Promise<void>((done) => {
      const loss = new Function('s', `return (${lossSrc})(s)`) as (s: number) => number;
      let s = 0;
      const tick = () => {
        for (let k = 0; k < 10 && s < steps; k++) {
          s++;
          const endOfEpoch = s % perEpoch === 0;
          window.postMessage({ type: 'points', runId: 'run-1', points: [{
            step: s, epoch: Math.ceil(s / perEpoch), loss: loss(s),
            valLoss: endOfEpoch ? loss(s) + 0.1 : null, accuracy: endOfEpoch ? s / steps : null, elapsedMs: s * 5,
          }] }, '*');
        }
        if (s < steps) setTimeout(tick, 5); else done();
      };
      tick();
    }), { steps: 1000, perEpoch: STEPS_PER_EPOCH, lossSrc: lossAt.toString() });

    await expect.poll(async () => (await probe(page)).x.length, { timeout: 30_000 }).toBe(1000);
    const p = await probe(page);
    expect(p.messages).toBe(1000);
    // Redraws are batched: at most one per task of 10 messages (plus the run's start).
    expect(p.renders).toBeLessThanOrEqual(1000 / 10 + 5);
    expect(p.x[0]).toBe(1);
    expect(p.x[999]).toBe(1000);

    const raw = p.series.find((s) => s.metric === 'loss' && s.raw)!;
    const smooth = p.series.find((s) => s.metric === 'loss' && !s.raw)!;
    const val = p.series.find((s) => s.metric === 'valLoss' && s.raw)!;
    const valSmooth = p.series.find((s) => s.metric === 'valLoss' && !s.raw)!;
    const acc = p.series.find((s) => s.metric === 'accuracy')!;
    const losses = Array.from({ length: 1000 }, (_v, i) => lossAt(i + 1));
    expect(p.smoothing).toBe(0.6);
    expect(raw.length).toBe(1000);
    expect(raw.last).toBeCloseTo(losses[999], 12);
    expect(smooth.length).toBe(1000);
    expect(smooth.last).toBeCloseTo(ema(losses, 0.6)[999], 10);
    expect(val.length).toBe(20);
    expect(val.last).toBeCloseTo(losses[999] + 0.1, 12);
    const vals = Array.from({ length: 20 }, (_v, e) => losses[(e + 1) * STEPS_PER_EPOCH - 1] + 0.1);
    expect(valSmooth.length).toBe(20);
    expect(valSmooth.last).toBeCloseTo(ema(vals, 0.6)[19], 10);
    expect(acc.length).toBe(20);
    expect(acc.last).toBe(1);
    expect(acc.scale).toBe('acc');
    expect(smooth.label).toMatch(/^Digits · \d\d:\d\d:\d\d · loss$/);

    // What a person sees: the title, the status line, a live badge, an enabled Stop button.
    expect(await page.locator('h1').innerText()).toBe('Loss — Digits');
    const status = await page.locator('.nn-status').innerText();
    expect(status).toContain('epoch 20/20');
    expect(status).toContain('step 1,000'); // as the status bar and the stop message write it
    expect(status).toContain('accuracy 100%');
    expect(await page.locator('.nn-badge').first().innerText()).toBe('live');
    expect(await page.locator('#stop').isEnabled()).toBe(true);
    expect(await page.locator('.u-legend').innerText()).toContain('val loss');
    await page.screenshot({ path: join(results, 'panel-1000-points.png') });
  });

  it('smooths with the slider (0 = raw only) and recomputes the EMA', async () => {
    const losses = Array.from({ length: 1000 }, (_v, i) => lossAt(i + 1));
    await page.locator('#smoothing').focus();
    await page.keyboard.press('Home');
    await expect.poll(async () => (await probe(page)).smoothing).toBe(0);
    let p = await probe(page);
    expect(p.series.some((s) => s.raw)).toBe(false);
    expect(p.series.find((s) => s.metric === 'loss')!.last).toBeCloseTo(losses[999], 12);
    expect(await page.locator('.nn-smoothing-value').innerText()).toBe('0.00');

    await page.locator('#smoothing').evaluate((e: HTMLInputElement) => {
      e.value = '0.9';
      e.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await expect.poll(async () => (await probe(page)).smoothing).toBe(0.9);
    p = await probe(page);
    const smooth = p.series.find((s) => s.metric === 'loss' && !s.raw)!;
    const expected = ema(losses, 0.9);
    expect(smooth.last).toBeCloseTo(expected[999], 10);
    expect(smooth.values[9]!).toBeCloseTo(expected[9], 10);
    // Smoothing flattens the wiggles: the smoothed curve moves less from step to step.
    const tv = (v: (number | null)[]) => v.slice(1).reduce<number>((a, x, i) => a + Math.abs((x as number) - (v[i] as number)), 0);
    const raw = p.series.find((s) => s.metric === 'loss' && s.raw)!;
    expect(tv(smooth.values)).toBeLessThan(tv(raw.values) / 3);
    await page.screenshot({ path: join(results, 'panel-smoothing-0.9.png') });
  });

  it('switches the loss axis to a log scale and back', async () => {
    await page.locator('#log-scale').check();
    await expect.poll(async () => (await probe(page)).yDistr).toBe(3);
    expect((await probe(page)).logScale).toBe(true);
    expect((await probe(page)).yLabel).toBe('loss (log)');
    await page.screenshot({ path: join(results, 'panel-log-scale.png') });
    await page.locator('#log-scale').uncheck();
    await expect.poll(async () => (await probe(page)).yDistr).toBe(1);
  });

  it('exports every sample as CSV and the chart as PNG through the host', async () => {
    await page.locator('#export-csv').click();
    const csvMsg = (await posted(page)).find((m) => m.type === 'save' && m.kind === 'csv');
    expect(csvMsg).toBeDefined();
    if (csvMsg?.type !== 'save') return;
    expect(csvMsg.fileName).toBe('Digits-loss.csv');
    const lines = csvMsg.data.trimEnd().split('\n');
    expect(lines[0]).toBe('run,model,started,step,epoch,elapsed_ms,loss,loss_smoothed,val_loss,accuracy');
    expect(lines).toHaveLength(1001);
    const last = lines[1000].split(',');
    expect(last[1]).toBe('Digits');
    expect(Number(last[3])).toBe(1000);
    expect(Number(last[4])).toBe(20);
    expect(Number(last[6])).toBeCloseTo(lossAt(1000), 12);
    expect(Number(last[7])).toBeCloseTo(ema(Array.from({ length: 1000 }, (_v, i) => lossAt(i + 1)), 0.9)[999], 10);
    expect(Number(last[9])).toBe(1);
    expect(lines.filter((l) => l.split(',')[8] !== '').length).toBe(1 + 20);

    await page.locator('#export-png').click();
    const pngMsg = (await posted(page)).find((m) => m.type === 'save' && m.kind === 'png');
    if (pngMsg?.type !== 'save') throw new Error('no PNG export posted');
    expect(pngMsg.fileName).toBe('Digits-loss.png');
    const png = Buffer.from(pngMsg.data, 'base64');
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.readUInt32BE(16)).toBeGreaterThan(500); // width
    expect(png.readUInt32BE(20)).toBeGreaterThan(300); // height: plot, title and legend
    writeFileSync(join(results, 'panel-export.png'), png);
  });

  it('overlays a second run, labelled with its model and time, and asks the host to stop live runs', async () => {
    const runs: HostMessage[] = [{ type: 'runStarted', run: runData('run-2', 'Xor', false, false) }];
    for (let s = 1; s <= 300; s++) {
      runs.push({ type: 'points', runId: 'run-2', points: [{ step: s * 2, epoch: 1, loss: 0.7 * Math.exp(-s / 100), valLoss: null, accuracy: null, elapsedMs: s }] });
    }
    await send(page, runs);
    await expect.poll(async () => (await probe(page)).series.filter((s) => s.runId === 'run-2').length, { timeout: 10_000 }).toBe(2);
    const p = await probe(page);
    expect(p.runs.map((r) => r.model)).toEqual(['Digits', 'Xor']);
    const xor = p.series.find((s) => s.runId === 'run-2' && s.raw)!;
    expect(xor.label).toMatch(/^Xor · \d\d:\d\d:\d\d · loss \(raw\)$/);
    expect(xor.length).toBe(300);
    expect(p.x[p.x.length - 1]).toBe(1000); // steps 1..1000 ∪ 2..600
    expect(p.series.find((s) => s.runId === 'run-1' && s.raw)!.length).toBe(1000);
    expect(await page.locator('h1').innerText()).toBe('Loss — Xor');
    expect(await page.locator('.nn-run').count()).toBe(2);
    await page.screenshot({ path: join(results, 'panel-overlay.png') });

    await page.locator('#stop').click();
    const stops = (await posted(page)).filter((m) => m.type === 'stop');
    expect(stops).toEqual([{ type: 'stop', runId: 'run-1' }, { type: 'stop', runId: 'run-2' }]);
    await send(page, [
      { type: 'runEnded', runId: 'run-1', status: 'stopped', message: 'Stopped at epoch 20' },
      { type: 'runEnded', runId: 'run-2', status: 'completed', message: 'Trained Xor' },
    ]);
    await expect.poll(() => page.locator('#stop').isDisabled()).toBe(true);
    expect(await page.locator('.nn-badge').allInnerTexts()).toEqual(['stopped', 'completed']);
  });

  it('hides a run from the chart with its checkbox', async () => {
    await page.locator('.nn-run[data-run-id="run-1"] input[type=checkbox]').uncheck();
    await expect.poll(async () => (await probe(page)).series.every((s) => s.runId === 'run-2')).toBe(true);
    await page.locator('.nn-run[data-run-id="run-1"] input[type=checkbox]').check();
    await expect.poll(async () => (await probe(page)).series.some((s) => s.runId === 'run-1')).toBe(true);
  });

  it('restores its runs and settings from the saved state after a reload', async () => {
    const state = await page.evaluate(() => (window as unknown as { __state?: PanelState }).__state);
    expect(state?.runs.map((r) => r.points.step.length)).toEqual([1000, 300]);
    await page.reload();
    await page.waitForFunction(() => window.__nnlensChart !== undefined);
    const ready = (await posted(page))[0];
    expect(ready.type).toBe('ready');
    if (ready.type !== 'ready') return;
    expect(ready.restored?.map((r) => [r.model, r.status, r.points.step.length])).toEqual([['Digits', 'stopped', 1000], ['Xor', 'completed', 300]]);
    await expect.poll(async () => (await probe(page)).x.length).toBe(1000);
    const p = await probe(page);
    expect(p.smoothing).toBe(0.9);
    expect(p.series.find((s) => s.runId === 'run-1' && s.raw)!.last).toBeCloseTo(lossAt(1000), 12);
    expect(await page.locator('#smoothing').inputValue()).toBe('0.9');
    await page.screenshot({ path: join(results, 'panel-restored.png') });
  });

  it('draws one point per epoch of a fast 300-epoch run (the server throttles its messages, not the points)', async () => {
    // a real run (examples/byhand.nn, xor: one step an epoch, 300 epochs in a fraction of a
    // second), through the server's throttle and the client's conversion, into the panel
    const file = resolve(root, 'examples/byhand.nn');
    const a = await analyzeFile(file);
    const notes: TrainProgressParams[] = [];
    const base = { runId: 'run-300', uri: 'file:///byhand.nn', model: 'ByHand' };
    const throttle = new ProgressThrottle((p, loss, points) => notes.push(progressParams(base, p, loss, points)));
    const out = runTraining({ program: a.program, model: 'ByHand', ctx: { baseDir: resolve(root, 'examples') }, options: { epochs: 300 } }, (p) => throttle.add(p));
    throttle.flush();
    expect(out.epochs).toBe(300);
    expect(notes.length).toBeLessThan(300); // throttled
    const run = runData('run-300', 'ByHand', false, true);
    run.epochs = 300;
    run.stepsPerEpoch = 1;
    await send(page, [{ type: 'runStarted', run }, ...notes.map((n): HostMessage => ({ type: 'points', runId: n.runId, points: progressPoints(n) }))]);
    await expect.poll(async () => (await probe(page)).series.find((s) => s.runId === 'run-300' && s.metric === 'accuracy')?.length ?? 0, { timeout: 10_000 }).toBe(300);
    const p = await probe(page);
    const loss = p.series.find((s) => s.runId === 'run-300' && s.metric === 'loss' && s.raw)!;
    expect(loss.length).toBe(300);
    expect(p.runs.find((r) => r.runId === 'run-300')!.points).toBe(300);
    expect(out.finalAccuracy).toBe(p.series.find((s) => s.runId === 'run-300' && s.metric === 'accuracy')!.last);
  });

  it('ran under the strict CSP without violations or script errors', async () => {
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
